"""`newswatch brief`: write one briefing now, for a date, from the archive (records nothing, sends nothing)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from daemon.cli.common import UsageError, named, open_store
from daemon.config import Config
from daemon.errors import NewswatchError
from daemon.models import BriefingConfig

DEFAULT_TITLE = "newswatch"


def cmd_brief(args: argparse.Namespace, config: Config) -> int:
    from daemon.brief.make import chosen_rules, compose, file_name, write_atomically  # noqa: PLC0415
    from daemon.brief.periods import latest_complete, period_of  # noqa: PLC0415

    cfg: BriefingConfig | None = named("briefing", args.name, config.briefings, config, "brief") if args.name else None
    kind = args.period or (cfg.period if cfg else "day")
    at = cfg.at if cfg else None
    weekday = cfg.weekday if cfg and kind == "week" and cfg.period == "week" else None
    day: date | None = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise UsageError(f"--date: expected YYYY-MM-DD, got {args.date!r}", "brief") from None
    store = open_store(config)
    now = store.now()
    period = period_of(kind, day, at, config.tz) if day else latest_complete(kind, now, at, config.tz, weekday)
    made = compose(store, name=cfg.name if cfg else "", title=cfg.title if cfg else DEFAULT_TITLE, period=period,
                   rules=chosen_rules(config.rules, cfg.rules if cfg else ()), formats=[args.format], tz=config.tz,
                   now=now, min_sources=cfg.min_sources if cfg else None)
    data = made.outputs[args.format]
    if args.out is None and args.format == "md":
        sys.stdout.write(made.markdown)
        return 0
    path = Path(args.out) if args.out else Path(cfg.out if cfg else config.db_path.parent / "briefs") / file_name(
        cfg.name if cfg else "brief", period, args.format)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise NewswatchError(f"brief: cannot write {path}: {exc.strerror or exc}") from None
    b = made.briefing
    print(f"{path}: {b.articles} articles, {b.stories} stories, {b.outlets} outlets,"
          f" {sum(len(s.items) for s in b.sections)} in {len(b.sections)} sections, {len(b.documents)} new documents")
    return 0
