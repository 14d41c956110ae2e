"""The `newswatch` command line.

Every command loads the config the same way (``--config``, ``$NEWSWATCH_CONFIG``, ``./config.toml``) and
reports a problem as one line on stderr with a distinct exit status, never a traceback:
0 ok · 1 runtime error · 2 usage · 3 bad config · 4 another instance is running.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from daemon import __version__
from daemon.config import Config, load, parse_duration, resolve_path
from daemon.errors import AlreadyRunning, ConfigError, NewswatchError

log = logging.getLogger(__name__)

EXIT_ERROR, EXIT_USAGE, EXIT_CONFIG, EXIT_RUNNING = 1, 2, 3, 4
T = TypeVar("T")


def _store(config: Config) -> Any:
    from daemon.store import Store  # noqa: PLC0415  (keeps `--help` fast)

    return Store(config.db_path, config.tz)


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


# -- commands -----------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from daemon.scheduler import Service  # noqa: PLC0415

    service = Service(config)
    if args.once:
        return service.run_once()
    return service.run_forever()


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    hits = _store(config).search(args.query, limit=args.limit)
    if args.json:
        _print_json([asdict(h) for h in hits])
        return 0
    if not hits:
        print(f"no article matches {args.query!r}")
        return 0
    for h in hits:
        print(f"[{h.id}] {h.title}")
        print(f"     {h.published_at or '-'} · {h.source}" + (f" · {h.url}" if h.url else ""))
        print(f"     {h.snippet}")
    return 0


def _named(kind: str, name: str, items: Sequence[T], config: Config) -> T:
    """The configured feed/rule/webhook called ``name``, or a ConfigError listing the ones there are."""
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    known = ", ".join(str(getattr(i, "name", "")) for i in items) or "none"
    raise ConfigError(f"{config.path}: no {kind} named {name!r} (configured: {known})")


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
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
        _print_json(info)
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
    store = _store(config)
    store.sync_feeds(config.feeds)
    feeds = store.feed_health(store.now(), config.fetch.stale_after)
    if args.json:
        _print_json(feeds)
    elif not feeds:
        print("no feeds configured ([[feeds]] in config.toml)")
    else:
        _print_feeds(feeds)
    return 0


def cmd_fetch(args: argparse.Namespace, config: Config) -> int:
    from daemon.pipeline import Pipeline  # noqa: PLC0415

    _named("feed", args.name, config.feeds, config)
    pipeline = Pipeline(config, _store(config))
    try:
        (report,) = pipeline.poll_feeds([args.name], force=True)
    finally:
        pipeline.close()
    if report.errors:
        print(f"{report.source}: error: {'; '.join(report.errors)}")
        return EXIT_ERROR
    if report.not_modified:
        print(f"{report.source}: not modified since the last fetch (304)")
        return 0
    print(f"{report.source}: {report.new} new, {report.duplicates} duplicate, {report.alerts} alerts queued"
          + (f"  (warning: {report.warning})" if report.warning else ""))
    for title in report.titles:
        print(f"  + {title}")
    return 0


def cmd_alerts(args: argparse.Namespace, config: Config) -> int:
    store = _store(config)
    if args.retry:
        ok = store.retry_alert(args.retry)
        if ok:
            print(f"alert {args.retry} re-queued")
            return 0
        print(f"no pending or failed alert {args.retry} (a delivered alert is not sent again)")
        return EXIT_ERROR
    if args.all_failed:
        print(f"{store.retry_all_failed()} failed alerts re-queued")
        return 0
    rows = store.list_alerts(status=args.status, limit=args.limit)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no alerts" + (f" with status {args.status}" if args.status else ""))
    for r in rows:
        err = f"  ({r['last_error']})" if r.get("last_error") else ""
        print(f"{r['id']}  {r['status']:<9} {r['rule']:<12} → {r['webhook']:<10} attempts {r['attempts']}"
              f"  {r.get('title', '')[:70]}{err}")
    return 0


def cmd_match(args: argparse.Namespace, config: Config) -> int:
    from daemon.match import Matcher  # noqa: PLC0415

    rule = _named("rule", args.rule, config.rules, config)
    store = _store(config)
    since = store.iso(store.now() - timedelta(seconds=parse_duration(args.since, "--since"))) if args.since else None
    matcher = Matcher([rule])
    found = []
    for row in store.articles_since(since):
        matches = matcher.match(row["title"], row["body"], row["source"])
        if matches:
            found.append({"id": row["id"], "title": row["title"], "published_at": row["published_at"],
                          "url": row["url"], "matches": [asdict(m) for m in matches]})
    if args.json:
        _print_json(found)
        return 0
    print(f"rule {rule.name!r} would match {len(found)} stored article(s)"
          + (f" since {args.since}" if args.since else "") + " (no alerts are sent by this command)")
    for f in found:
        print(f"[{f['id']}] {f['title']}  ({f['published_at'] or '-'})")
        for m in f["matches"]:
            print(f"     {m['keyword']!r} in {m['field']}: {m['snippet']}")
    return 0


def cmd_webhook_test(args: argparse.Namespace, config: Config) -> int:
    from daemon.deliver import send_test  # noqa: PLC0415

    hook = _named("webhook", args.name, config.webhooks, config)
    status, text = send_test(hook)
    print(f"{hook.name} ({hook.url}) answered: {status if status is not None else 'no answer'}")
    if text:
        print(text[:2000])
    return 0 if status is not None and 200 <= status < 300 else EXIT_ERROR


def cmd_webhook_enable(args: argparse.Namespace, config: Config) -> int:
    _named("webhook", args.name, config.webhooks, config)
    store = _store(config)
    if store.enable_webhook(args.name):
        print(f"webhook {args.name} enabled again; its pending alerts go out on the next delivery run")
    else:
        print(f"webhook {args.name} was not disabled")
    return 0


def cmd_listen(args: argparse.Namespace, config: Config | None) -> int:
    from daemon.deliver.receiver import make_receiver  # noqa: PLC0415

    mine = [h for h in (config.webhooks if config else ()) if _points_at(h.url, args.host, args.port)]
    secret = args.secret
    if secret is None:  # default: the configured webhook's secret, so the demo just works
        secret = next((h.secret for h in mine if h.secret), None)
    receiver = make_receiver(args.host, args.port, secret, sys.stdout)
    checks = "signatures checked" if secret else "signatures NOT checked (no --secret)"
    print(f"listening on http://{args.host}:{receiver.port}/ ({checks}); Ctrl-C to stop", flush=True)
    if config is not None and mine and config.db_path.exists():
        # Alerts queued while nobody listened would otherwise wait for their next retry (up to minutes).
        due = _store(config).make_due([h.name for h in mine])
        if due:
            print(f"{due} queued alert(s) for {', '.join(h.name for h in mine)} are due now; a running"
                  f" `newswatch run` sends them within {config.delivery_interval:.0f}s", flush=True)
    try:
        receiver.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
    return 0


def _points_at(url: str, host: str, port: int) -> bool:
    parts = urlsplit(url)
    local = {"127.0.0.1", "localhost", "::1"}
    anywhere = "0.0.0.0"  # noqa: S104 - compared with, not bound to
    return parts.port == port and (parts.hostname == host or (parts.hostname in local and host in {*local, anywhere}))


# -- parser -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="newswatch",
        description="Follow Vietnamese news: ingest seed files and RSS/Atom feeds into SQLite, "
                    "match keyword rules, alert webhooks.",
        epilog="Config: --config PATH, else $NEWSWATCH_CONFIG, else ./config.toml.",
    )
    p.add_argument("--version", action="version", version=f"newswatch {__version__}")
    p.add_argument("--config", metavar="PATH", help="config file (default: $NEWSWATCH_CONFIG or ./config.toml)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    p.add_argument("--log-format", choices=("human", "json"), default="human",
                   help="log lines on stderr: human-readable (default) or one JSON object per line")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[..., int], help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    sp = add("run", cmd_run, "Run the service: scan seeds, poll feeds, deliver alerts, until Ctrl-C/SIGTERM.")
    sp.add_argument("--once", action="store_true", help="run one pass of every job, then exit")

    sp = add("search", cmd_search, "Full-text search the stored articles (diacritics optional).")
    sp.add_argument("query", help='words to find, e.g. "nghi quyet 57" or "Đảng bộ"')
    sp.add_argument("--limit", type=int, default=20, help="at most this many results (default 20)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")

    sp = add("status", cmd_status, "Show counts, job runs, feed health and database size.")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")

    sp = add("feeds", cmd_feeds, "List configured feeds with their health.")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")

    sp = add("fetch", cmd_fetch, "Poll one feed now and print what it found.")
    sp.add_argument("name", help="the feed's name in config.toml")

    sp = add("alerts", cmd_alerts, "List alerts, or re-queue failed ones.")
    sp.add_argument("--status", choices=("pending", "delivered", "failed"), help="only alerts with this status")
    sp.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")
    group = sp.add_mutually_exclusive_group()
    group.add_argument("--retry", metavar="ID", help="re-queue one pending or failed alert for delivery now")
    group.add_argument("--all-failed", action="store_true", help="re-queue every failed alert")

    sp = add("match", cmd_match, "Show what a rule would match in the stored archive (sends nothing).")
    sp.add_argument("rule", help="the rule's name in config.toml")
    sp.add_argument("--since", metavar="AGE", help='only articles newer than this, e.g. "30d", "12h"')
    sp.add_argument("--json", action="store_true", help="print JSON instead of text")

    sp = add("webhook", lambda a, c: EXIT_USAGE, "Webhook tools.")
    wsub = sp.add_subparsers(dest="webhook_command", metavar="ACTION", required=True)
    wt = wsub.add_parser("test", help="Send a signed test event and print the receiver's answer.",
                         description="Send a signed test event and print the receiver's answer.")
    wt.add_argument("name", help="the webhook's name in config.toml")
    wt.set_defaults(func=cmd_webhook_test)
    we = wsub.add_parser("enable", help="Re-enable a webhook that was disabled after a 410 Gone.",
                         description="Re-enable a webhook that was disabled after a 410 Gone.")
    we.add_argument("name", help="the webhook's name in config.toml")
    we.set_defaults(func=cmd_webhook_enable)

    sp = add("listen", cmd_listen, "A small receiver that verifies signatures and prints alerts as they arrive.")
    sp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sp.add_argument("--port", type=int, default=8787, help="port to listen on (default 8787)")
    sp.add_argument("--secret", help="whsec_... signing secret (default: the configured webhook's for this port)")
    return p


def _fail(args: argparse.Namespace, message: str) -> None:
    """The one-line reason for a non-zero exit; under ``--log-format json`` a log shipper must parse it too."""
    if args.log_format == "json":
        log.error(message)
    else:
        print(f"newswatch: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from daemon.service.logs import setup_logging  # noqa: PLC0415

    try:
        setup_logging(args.log_level, args.log_format)
    except ValueError as exc:
        parser.error(str(exc))
    path = resolve_path(args.config)
    try:
        if args.command == "listen":
            config = load(path) if path.exists() else None
            return cmd_listen(args, config)
        config = load(path)
        setup_logging(args.log_level, args.log_format, tz=config.tz)  # log times in the configured zone
        result: int = args.func(args, config)
        return result
    except ConfigError as exc:
        _fail(args, f"config error: {exc}")
        return EXIT_CONFIG
    except AlreadyRunning as exc:
        _fail(args, str(exc))
        return EXIT_RUNNING
    except NewswatchError as exc:
        _fail(args, str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
