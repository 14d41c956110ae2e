"""`newswatch rules` and `newswatch webhooks`: what is configured, as the service will use it.

Each listing is one data model (``rule_rows``, ``webhook_rows``) with two renderers, text and ``--json``;
`newswatch check` prints the same rows. Secrets never appear: a webhook shows whether it signs and where its
secret comes from, its headers by name only, and its URL with every part that may be a credential masked
(Slack, Discord and Telegram put the token in the path: ``https://api.telegram.org/…/sendMessage``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from daemon.cli.common import print_json
from daemon.cli.status import table
from daemon.config import Config
from daemon.match.explain import TermPlan, explain_rule
from daemon.store.db import probe_database

MASK = "…"
_PLAIN_SEGMENT = re.compile(r"^[a-z][a-z_-]{0,15}$")  # "services", "api", "webhooks", "hook": not a token
_API_WORDS = frozenset({"sendMessage"})  # Telegram's method, after the bot's token


def redact_url(url: str) -> str:
    """The URL with what may be a secret masked: user info, query values, path segments that are not words."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{MASK}@" if parts.username or parts.password else "") + host
    netloc += f":{parts.port}" if parts.port else ""
    path = "/".join(s if not s or _PLAIN_SEGMENT.match(s) or s in _API_WORDS else MASK
                    for s in parts.path.split("/"))
    query = "&".join(f"{p.split('=', 1)[0]}={MASK}" if "=" in p else MASK for p in parts.query.split("&") if p)
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _term(plan: TermPlan) -> dict[str, Any]:
    out: dict[str, Any] = {"term": plan.term, "match": plan.kind, "label": plan.label, "how": plan.how}
    if plan.document is not None:
        out["document"] = asdict(plan.document)
    return out


def rule_rows(config: Config) -> list[dict[str, Any]]:
    """Each rule with how each of its terms matches and the webhooks its alerts really go to."""
    enabled = [h.name for h in config.webhooks if h.enabled]
    rows = []
    for rule in config.rules:
        plan = explain_rule(rule)
        targets = [h for h in (rule.webhooks or enabled) if h in enabled]
        rows.append({"name": rule.name, "keywords": [_term(t) for t in plan.keywords],
                     "all": [_term(t) for t in plan.all], "exclude": [_term(t) for t in plan.exclude],
                     "sources": list(rule.sources), "webhooks": list(rule.webhooks), "delivers_to": targets})
    return rows


def _terms_text(terms: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f'"{t["term"]}" ({t["label"]})' for t in terms)


def _matches_text(row: Mapping[str, Any]) -> str:
    """A rule's terms on one line: keywords, then what must also appear, then what must not."""
    text = _terms_text(row["keywords"])
    if row["all"]:
        text += " + all of: " + _terms_text(row["all"])
    if row["exclude"]:
        text += " − none of: " + _terms_text(row["exclude"])
    return text


def rules_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per rule; the terms last, where a long list pushes no other column out of line."""
    cells = [[str(r["name"]), ", ".join(r["sources"]) or "all",
              ", ".join(r["delivers_to"]) or "NONE (stored only)", _matches_text(r)] for r in rows]
    return table(["NAME", "SOURCES", "ALERTS TO", "MATCHES"], cells)


def webhook_rows(config: Config, disabled: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each webhook without its secret; ``disabled``: name → when the database's 410 Gone disabled it."""
    enabled = [h.name for h in config.webhooks if h.enabled]
    rows = []
    for hook in config.webhooks:
        rules = [r.name for r in config.rules if hook.name in (r.webhooks or enabled)]
        gone = disabled.get(hook.name)  # when, or None
        state = "DISABLED (410 Gone)" if gone is not None else ("enabled" if hook.enabled else "enabled = false")
        rows.append({
            "name": hook.name, "format": hook.format, "url": redact_url(hook.url), "state": state,
            "signed": hook.secret is not None,
            "secret_from": (f"${hook.secret_env}" if hook.secret_env else "config.toml") if hook.secret else None,
            "headers": sorted(hook.headers), "timeout": hook.timeout, "max_alerts_per_pass": hook.max_alerts_per_pass,
            "chat_id": hook.chat_id, "rules": rules if hook.enabled and gone is None else [],
            "disabled_at": gone,
        })
    return rows


def webhooks_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cells = [[str(r["name"]), str(r["format"]), str(r["url"]),
              f"signed (secret from {r['secret_from']})" if r["signed"] else "unsigned", str(r["state"]),
              ", ".join(r["rules"]) or "-"] for r in rows]
    return table(["NAME", "FORMAT", "URL", "SIGNING", "STATE", "RULES"], cells)


def print_listing(args: argparse.Namespace, rows: Sequence[Mapping[str, Any]],
                  render: Callable[[Sequence[Mapping[str, Any]]], list[str]], empty: str) -> int:
    """``--json`` of the rows, else their table, else the line saying there are none and where to add them."""
    if args.json:
        print_json(rows)
    else:
        print("\n".join(render(rows)) if rows else empty)
    return 0


def cmd_rules(args: argparse.Namespace, config: Config) -> int:
    return print_listing(args, rule_rows(config), rules_table, f"no rules configured ([[rules]] in {config.path})")


def cmd_webhooks(args: argparse.Namespace, config: Config) -> int:
    gone = probe_database(config.db_path).disabled_webhooks  # read only: a listing creates or migrates nothing
    empty = f"no webhooks configured ([[webhooks]] in {config.path}): matches are stored, no alert is sent"
    return print_listing(args, webhook_rows(config, gone), webhooks_table, empty)
