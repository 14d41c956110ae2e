"""`newswatch feeds import FILE.opml` and `newswatch feeds export`: subscription lists in the readers' format."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from daemon.config import Config
from daemon.errors import OpmlError


def cmd_feeds_import(args: argparse.Namespace, config: Config) -> int:
    from daemon.config_edit import add_feeds  # noqa: PLC0415
    from daemon.sources.feeds.opml import parse_opml  # noqa: PLC0415
    from daemon.sources.feeds.subscribe import plan_import  # noqa: PLC0415

    source = Path(args.file)
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else source.read_bytes()
    except OSError as exc:
        raise OpmlError(str(source), f"cannot read it: {(exc.strerror or str(exc)).lower()}") from None
    opml = parse_opml(data, "stdin" if args.file == "-" else str(source))
    plan = plan_import(opml.feeds, config.feeds)
    for feed in plan.added:
        print(f"+ {feed.name}  {feed.url}" + (f"  [{feed.category}]" if feed.category else "")
              + (f"  {feed.title}" if feed.title else ""))
    for skip in plan.skipped:
        print(f"= {skip.outline.url}  (line {skip.outline.line}): {skip.reason}")
    skipped = f" ({len(plan.skipped)} skipped)" if plan.skipped else ""
    if not plan.added:
        print(f"nothing to add: every feed in {args.file} is already in {config.path}")
        return 0
    if args.dry_run:
        print(f"--dry-run: {len(plan.added)} feed(s) would be added to {config.path}{skipped}; nothing written")
        return 0
    add_feeds(config.path, [f.table() for f in plan.added])
    after = ("; the running service reloads it on its own" if config.watch_config
             else "; reload a running service with SIGHUP (`systemctl reload newswatch`)")
    print(f"{len(plan.added)} feed(s) added to {config.path}{skipped}{after}")
    return 0


def cmd_feeds_export(args: argparse.Namespace, config: Config) -> int:
    from daemon.config_edit import write_atomically  # noqa: PLC0415
    from daemon.sources.feeds.opml import render_opml  # noqa: PLC0415

    text = render_opml(config.feeds, title=f"newswatch feeds ({config.path.name})", created=datetime.now(config.tz))
    if args.file is None or args.file == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.file)
    if target.is_dir():
        raise OpmlError(str(target), "is a folder; give the OPML file a name")
    write_atomically(target, text.encode("utf-8"))
    print(f"{len(config.feeds)} feed(s) written to {target}", file=sys.stderr)
    return 0
