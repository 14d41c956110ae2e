"""`newswatch status` and `newswatch feeds`: what an operator checks first."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from daemon.cli.common import open_store, print_json
from daemon.config import Config


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    now = store.now()
    info = {
        "database": str(config.db_path),
        "database_bytes": store.database_size(),
        "schema_version": store.schema_version(),
        **{("feed_count" if k == "feeds" else k): v for k, v in store.counts().items()},
        "jobs": store.jobs(),
        "feeds": store.feed_health(now, config.fetch.stale_after),
        "disabled_webhooks": store.disabled_webhooks(),
    }
    if args.json:
        print_json(info)
        return 0
    a = info["alerts"]
    print(f"database   {info['database']} ({info['database_bytes'] / 1e6:.1f} MB, schema v{info['schema_version']})")
    print(f"articles   {info['articles']} ({info['sightings']} sightings, {info['matches']} matches)")
    print(f"alerts     {a.get('pending', 0)} pending, {a.get('delivered', 0)} delivered, {a.get('failed', 0)} failed")
    for job in info["jobs"]:
        err = f"  last error: {job['last_error']}" if job["last_error"] else ""
        print(f"job        {job['name']:<20} last run {job['last_run_at'] or '-'}  runs {job['runs']}"
              f"  errors {job['errors']}{err}")
    _print_feeds(info["feeds"])
    for name in info["disabled_webhooks"]:
        print(f"webhook    {name} is DISABLED (receiver answered 410 Gone); its alerts wait."
              f" Fix the receiver, then `newswatch webhook enable {name}`")
    return 0


def _print_feeds(feeds: Sequence[dict[str, Any]]) -> None:
    for f in feeds:
        flag = "STALE " if f.get("stale") else ""
        state = f"error: {f['last_error']}" if f.get("last_error") else f"ok ({f.get('last_status') or '-'})"
        print(f"feed       {flag}{f['name']:<16} {state}  last success {f.get('last_success_at') or 'never'}"
              f"  next {f.get('next_fetch_at') or 'now'}  items {f.get('items_seen', 0)}")


def cmd_feeds(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    store.sync_feeds(config.feeds)
    feeds = store.feed_health(store.now(), config.fetch.stale_after)
    if args.json:
        print_json(feeds)
    elif not feeds:
        print("no feeds configured ([[feeds]] in config.toml)")
    else:
        _print_feeds(feeds)
    return 0


