"""`newswatch status` and `newswatch feeds`: what an operator checks first.

Both print tables whose columns are sized to their contents, so a long name, a "STALE" flag or an
error message never pushes the next column out of line. Two things come from outside the job rows:

* whether the service runs, and its pid, read from the instance lock without taking it;
* a feed job's own health. A failing feed is recorded by the pipeline in the ``feeds`` table, not
  raised, so its job "succeeds" (``errors`` counts jobs that crashed). Rather than teach the scheduler
  to count feed failures as job errors, the job line shows the feed's failure from that table: one
  source of truth, and the scheduler stays unaware of what a feed is.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from daemon.cli.common import open_store, print_json
from daemon.config import Config
from daemon.service.lock import probe

LABEL = 11  # width of the left-hand labels ("database   ", "feeds      ")


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right: frozenset[int] = frozenset()) -> list[str]:
    """Aligned text columns (two spaces apart); columns in ``right`` are right-aligned, the last is not padded."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _when(value: object, tz: tzinfo) -> str:
    """A stored time in the configured zone (stored times already are, unless the zone was changed)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(tz).isoformat(timespec="seconds")
    except ValueError:
        return value


def _health(row: dict[str, Any], enabled: bool | None) -> str:
    if enabled is None:
        return "removed"  # in the database, no longer in config.toml
    if not enabled:
        return "disabled"
    if row.get("stale"):
        return "STALE"
    if row.get("consecutive_errors"):
        return "failing"
    if not row.get("last_fetch_at"):
        return "new"
    return "ok"


def feed_rows(config: Config, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The database's feed rows plus configured feeds not polled yet, each with its ``health``."""
    enabled = {f.name: f.enabled for f in config.feeds}
    out = [dict(r) for r in rows]
    known = {r["name"] for r in out}
    out += [{"name": f.name, "url": f.url, "stale": False, "stale_reason": None, "consecutive_errors": 0,
             "items_seen": 0} for f in config.feeds if f.name not in known]
    for r in out:
        r["health"] = _health(r, enabled.get(r["name"]))
        if r["health"] in ("removed", "disabled"):
            r["stale"], r["stale_reason"] = False, None  # nobody polls it: silence is expected
    return sorted(out, key=lambda r: str(r["name"]))


def _feed_note(row: dict[str, Any]) -> str:
    if row["health"] == "removed":
        return "not in config.toml any more (its history is kept)"
    if row.get("stale_reason"):
        return str(row["stale_reason"])
    if row.get("consecutive_errors"):
        n = row["consecutive_errors"]
        return f"{row.get('last_error')} ({n} failed poll{'s' if n != 1 else ''} in a row)"
    return f"warning: {row['last_warning']}" if row.get("last_warning") else ""


def feeds_table(rows: Sequence[dict[str, Any]], tz: tzinfo) -> list[str]:
    cells = [
        [str(r["name"]), r["health"], str(r.get("last_status") or "-"),
         _when(r.get("last_success_at"), tz) or "never",
         _when(r.get("next_fetch_at"), tz) or ("now" if r["health"] not in ("removed", "disabled") else "-"),
         str(r.get("items_seen") or 0), _feed_note(r)]
        for r in rows
    ]
    return table(["NAME", "HEALTH", "LAST", "LAST SUCCESS", "NEXT POLL", "ITEMS", "NOTE"], cells,
                 right=frozenset({5}))


def _with_feed_health(jobs: Sequence[dict[str, Any]], feeds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each ``feed:NAME`` job row gets its feed's health (the job itself does not fail when the feed does)."""
    by_name = {f["name"]: f for f in feeds}
    out = []
    for row in jobs:
        job = dict(row)
        name = str(job["name"])
        feed = by_name.get(name.removeprefix("feed:")) if name.startswith("feed:") else None
        if feed is not None:
            job["feed_health"] = feed["health"]
            job["feed_consecutive_errors"] = feed.get("consecutive_errors") or 0
            job["feed_last_error"] = feed.get("last_error")
        out.append(job)
    return out


def _job_note(job: dict[str, Any]) -> str:
    if job.get("feed_consecutive_errors"):
        n = job["feed_consecutive_errors"]
        return f"feed failing: {job['feed_last_error']} ({n} failed poll{'s' if n != 1 else ''} in a row)"
    return f"last error: {job['last_error']}" if job.get("last_error") else ""


def jobs_table(jobs: Sequence[dict[str, Any]], tz: tzinfo) -> list[str]:
    cells = [[str(j["name"]), str(j["runs"]), str(j["errors"]), _when(j.get("last_run_at"), tz) or "-",
              _when(j.get("last_ok_at"), tz) or "never", _job_note(j)] for j in jobs]
    return table(["NAME", "RUNS", "ERRORS", "LAST RUN", "LAST OK", "NOTE"], cells, right=frozenset({1, 2}))


def labelled(label: str, lines: Sequence[str]) -> None:
    """A section of a one-screen report: the label on its first line, the others indented under it."""
    for i, line in enumerate(lines):
        print(f"{label if i == 0 else '':<{LABEL}}{line}")


def service_state(config: Config) -> dict[str, Any]:
    running, pid = probe(config.lock_path)
    return {"running": running, "pid": pid, "lock": str(config.lock_path)}


def _service_line(state: dict[str, Any]) -> str:
    if not state["running"]:
        return "not running (no `newswatch run` holds the lock on this database)"
    return f"running (pid {state['pid']})" if state["pid"] is not None else "running (pid not known yet)"


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    feeds = feed_rows(config, store.feed_health(store.now(), config.fetch.stale_after))
    info = {
        "service": service_state(config),
        "database": str(config.db_path),
        "database_bytes": store.database_size(),
        "schema_version": store.schema_version(),
        **{("feed_count" if k == "feeds" else k): v for k, v in store.counts().items()},
        "jobs": _with_feed_health(store.jobs(), feeds),
        "feeds": feeds,
        "disabled_webhooks": store.disabled_webhooks(),
    }
    if args.json:
        print_json(info)
        return 0
    a, seeds = info["alerts"], info["seed_files"]
    labelled("service", [_service_line(info["service"])])
    labelled("database", [f"{info['database']} ({info['database_bytes'] / 1e6:.1f} MB,"
                           f" schema v{info['schema_version']})"])
    labelled("articles", [f"{info['articles']} ({info['sightings']} sightings, {info['matches']} matches)"])
    labelled("stories", [f"{info['stories']} ({info['stories_with_copies']} carried by more than one article)"])
    labelled("alerts", [f"{a.get('pending', 0)} pending, {a.get('delivered', 0)} delivered,"
                         f" {a.get('failed', 0)} failed"])
    ev = info["events"]
    if any(ev.values()) or config.briefings:
        labelled("events", [f"{ev.get('pending', 0)} pending, {ev.get('delivered', 0)} delivered,"
                            f" {ev.get('failed', 0)} failed (briefing.ready, rule.spike)"])
    if seeds:
        labelled("seed files", [", ".join(f"{n} {status}" for status, n in sorted(seeds.items()))])
    if info["jobs"]:
        labelled("jobs", jobs_table(info["jobs"], config.tz))
    if feeds:
        labelled("feeds", feeds_table(feeds, config.tz))
    for name in info["disabled_webhooks"]:
        labelled("webhook", [f"{name} is DISABLED (receiver answered 410 Gone); its alerts wait."
                              f" Fix the receiver, then `newswatch webhook enable {name}`"])
    return 0


def cmd_feeds(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    store.sync_feeds(config.feeds)
    feeds = feed_rows(config, store.feed_health(store.now(), config.fetch.stale_after))
    if args.json:
        print_json(feeds)
    elif not feeds:
        print("no feeds configured ([[feeds]] in config.toml)")
    else:
        print("\n".join(feeds_table(feeds, config.tz)))
    return 0
