"""`newswatch ui`: Datasette on the live database, read-only, with the project's configuration.

Datasette is an optional extra (``make ui`` installs it): without it the command says how to get it.
The store is opened once first, so an older database gets its migrations (the views, the search index)
before Datasette reads it; then this process becomes Datasette (``exec``), so Ctrl-C and SIGTERM reach
it directly. Datasette opens a database that may change with ``mode=ro``: it never writes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

from daemon.cli.common import open_store
from daemon.config import Config
from daemon.errors import NewswatchError


def datasette_argv(db: Path, metadata: Path, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "datasette", "serve", str(db), "--metadata", str(metadata),
            "--host", host, "--port", str(port),
            "--setting", "default_page_size", "50", "--setting", "sql_time_limit_ms", "5000",
            # article_overview's facets (rules, alert status) read matches and alerts per article
            "--setting", "facet_time_limit_ms", "1000", "--setting", "allow_download", "off"]


def metadata_for(db: Path) -> Path:
    """The shipped metadata names the database ``news`` (state/news.db); another file name gets a copy."""
    from daemon.ui import METADATA  # noqa: PLC0415

    if db.stem == "news":
        return METADATA
    data = json.loads(METADATA.read_text(encoding="utf-8"))
    data["databases"] = {db.stem: data["databases"]["news"]}
    copy = db.with_name(db.name + ".datasette.json")
    copy.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return copy


def cmd_ui(args: argparse.Namespace, config: Config) -> int:
    if importlib.util.find_spec("datasette") is None:
        raise NewswatchError("Datasette is not installed: run `make ui`, or pip install 'newswatch[ui]'")
    db = config.db_path
    if not db.exists():
        raise NewswatchError(f"no database yet at {db}: start the service first (`newswatch run --once`)")
    open_store(config).close()
    argv = datasette_argv(db, metadata_for(db), args.host, args.port)
    print(f"newswatch ui: http://{args.host}:{args.port}/{db.stem} (read-only; Ctrl-C to stop)", flush=True)
    os.execv(argv[0], argv)  # noqa: S606  (argv is ours, no shell)
