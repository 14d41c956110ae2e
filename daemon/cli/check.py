"""`newswatch check`: would the service start on this config and database, and what would it do?

It starts nothing and writes nothing: the config is loaded as `run` loads it (so a bad file is the same one
line and exit 3 as for every command), the database is only read (``probe_database``: no file created, no
migration run, no lock taken), and the summary fits one screen: the sections are cut at ``SHOWN`` rows and
name the command that lists them all. Problems that would stop `run` exit 3; warnings (a rule whose alerts
go nowhere, a keyword that can never fire, a missing seed folder) are printed and exit 0.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from daemon.cli.common import EXIT_CONFIG, print_json
from daemon.cli.listing import rule_rows, rules_table, webhook_rows, webhooks_table
from daemon.cli.status import labelled, service_state, table
from daemon.config import Config, human_duration
from daemon.errors import StoreError
from daemon.match.explain import NEVER
from daemon.store.db import probe_database
from daemon.store.schema import SCHEMA_VERSION

SHOWN = 8  # rows per section before "… and N more"


def _database(config: Config, problems: list[str]) -> tuple[dict[str, Any], Mapping[str, str]]:
    info: dict[str, Any] = {"path": str(config.db_path), "schema_version": None, "newswatch_schema": SCHEMA_VERSION}
    try:
        probe = probe_database(config.db_path)
    except StoreError as exc:
        problems.append(str(exc))
        info["state"] = "unusable"
        return info, {}
    info["schema_version"] = probe.schema_version
    if probe.schema_version is None:
        info["state"] = "not created yet: the first `newswatch run` creates it"
    elif probe.schema_version > SCHEMA_VERSION:
        info["state"] = f"schema v{probe.schema_version} is newer than this newswatch (v{SCHEMA_VERSION})"
        problems.append(f"{config.db_path}: {info['state']}: upgrade newswatch; `run` refuses this database")
    elif probe.schema_version < SCHEMA_VERSION:
        info["state"] = f"schema v{probe.schema_version}: migrated to v{SCHEMA_VERSION} at the next start"
    else:
        info["state"] = f"schema v{probe.schema_version} (current)"
    return info, probe.disabled_webhooks


def check_report(config: Config) -> dict[str, Any]:
    """Everything `check` prints, as data: one model for the text and the ``--json`` renderers."""
    problems: list[str] = []
    warnings: list[str] = []
    database, gone = _database(config, problems)
    rules = rule_rows(config)
    hooks = webhook_rows(config, gone)
    if not config.rules:
        warnings.append("no [[rules]]: articles are stored and searchable, nothing is matched or alerted")
    for rule in rules:
        if not rule["delivers_to"]:
            warnings.append(f"rule {rule['name']!r} alerts no webhook (none of its webhooks is enabled):"
                            " its matches are stored, nothing is sent")
        for term in rule["keywords"] + rule["all"] + rule["exclude"]:
            if term["match"] == NEVER:
                warnings.append(f"rule {rule['name']!r}: {term['term']!r} {term['how']}")
    for name in gone:
        if any(h["name"] == name for h in hooks):
            warnings.append(f"webhook {name!r} is DISABLED after a 410 Gone: its alerts wait for"
                            f" `newswatch webhook enable {name}`")
    if not config.seeds_path.is_dir():
        warnings.append(f"seed folder {config.seeds_path} does not exist: the service waits for it")
    for b in config.briefings:
        out = Path(b.out)
        here = next((p for p in (out, *out.parents) if p.exists()), None)
        if here is None or not here.is_dir() or not os.access(here, os.W_OK):
            warnings.append(f"briefing {b.name!r}: its folder {out} cannot be written: the briefing waits for it")
    return {
        "ok": not problems,
        "config": str(config.path),
        "database": database,
        "service": service_state(config),
        "seeds": {"path": str(config.seeds_path), "exists": config.seeds_path.is_dir(),
                  "interval": config.seeds_interval, "watch": config.seeds_watch,
                  "rescan_interval": config.seeds_rescan_interval,
                  "full_rescan_interval": config.seeds_full_rescan_interval},
        "watch_config": config.watch_config,
        "feeds": [{"name": f.name, "url": f.url, "interval": f.interval, "enabled": f.enabled, "title": f.title,
                   "category": f.category} for f in config.feeds],
        "rules": rules,
        "webhooks": hooks,
        "briefings": [{"name": b.name, "title": b.title, "period": b.period,
                       "at": "{:02d}:{:02d}:{:02d}".format(*b.at) if b.at else None, "formats": list(b.formats),
                       "out": b.out} for b in config.briefings],
        "problems": problems,
        "warnings": warnings,
    }


def _cut(lines: Sequence[str], command: str) -> list[str]:
    """A table's header and first rows; the rest is one line naming the command that shows them."""
    if len(lines) <= SHOWN + 1:
        return list(lines)
    return [*lines[: SHOWN + 1], f"… and {len(lines) - SHOWN - 1} more: `newswatch {command}`"]


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    report = check_report(config)
    if args.json:
        print_json(report)
        return 0 if report["ok"] else EXIT_CONFIG
    service = report["service"]
    reload_hint = "it reloads this file on its own" if config.watch_config else "reload it with SIGHUP"
    labelled("config", [f"{report['config']}: valid"])
    labelled("database", [f"{report['database']['path']}: {report['database']['state']}"])
    labelled("service", [f"running (pid {service['pid']}); {reload_hint}" if service["running"] else "not running"])
    seeds = report["seeds"]
    labelled("seeds", [f"{seeds['path']}: every {human_duration(seeds['interval'])}"
                       + (f", watched (changed folders re-scanned every {human_duration(seeds['rescan_interval'])},"
                          f" every file every {human_duration(seeds['full_rescan_interval'])})"
                          if seeds["watch"] else "") + ("" if seeds["exists"] else " (MISSING)")])
    feeds = report["feeds"]
    feed_lines = table(["NAME", "EVERY", "STATE", "URL"],
                       [[f["name"], human_duration(f["interval"]), "enabled" if f["enabled"] else "disabled", f["url"]]
                        for f in feeds])
    labelled("feeds", [f"{len(feeds)} ({sum(f['enabled'] for f in feeds)} enabled)", *_cut(feed_lines, "feeds")]
             if feeds else ["none ([[feeds]] in config.toml, or `newswatch feeds import FILE.opml`)"])
    labelled("rules", [str(len(report["rules"])), *(_cut(rules_table(report["rules"]), "rules")
                                                    if report["rules"] else [])])
    labelled("webhooks", [str(len(report["webhooks"])), *(_cut(webhooks_table(report["webhooks"]), "webhooks")
                                                          if report["webhooks"] else [])])
    if report["briefings"]:
        labelled("briefings", [str(len(report["briefings"])), *table(
            ["NAME", "PERIOD", "AT", "FORMATS", "OUT"],
            [[b["name"], b["period"], b["at"] or "midnight", ",".join(b["formats"]), b["out"]]
             for b in report["briefings"]])])
    for warning in report["warnings"]:
        labelled("warning", [warning])
    for problem in report["problems"]:
        labelled("PROBLEM", [problem])
    labelled("result", ["ok: `newswatch run` would start" if report["ok"]
                        else f"{len(report['problems'])} problem(s): `newswatch run` would not start"])
    return 0 if report["ok"] else EXIT_CONFIG
