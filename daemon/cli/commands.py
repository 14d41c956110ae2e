"""The commands that act: run, search, fetch, alerts, match, webhook, listen.

Each takes the parsed arguments and the loaded config and returns the exit status; a problem the
operator can fix is raised as a ``NewswatchError`` for ``main`` to print as one line.
"""

from __future__ import annotations

import argparse
import errno
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from daemon.cli.common import EXIT_ERROR, UsageError, keep_until_exit, named, open_store, print_json
from daemon.config import Config
from daemon.errors import NewswatchError


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from daemon.scheduler import Service  # noqa: PLC0415

    service = Service(config)
    if args.once:
        return service.run_once()
    return service.run_forever()


def cmd_search(args: argparse.Namespace, config: Config) -> int:
    from daemon.errors import QueryError  # noqa: PLC0415
    from daemon.text.search import parse  # noqa: PLC0415

    try:
        query = parse(args.query)
    except QueryError as exc:  # else "no article matches ''" reads as if the archive were empty
        raise UsageError(str(exc), "search") from None
    from daemon.store.search import SearchTables  # noqa: PLC0415  (the search alone: not every table's module)

    hits = SearchTables(config.db_path, config.tz).search(query, limit=args.limit, sort=args.sort,
                                                          per_story=not args.all)
    if args.json:
        print_json([asdict(h) for h in hits])
        return 0
    if not hits:
        print(f"no article matches {args.query!r}")
        return 0
    for h in hits:
        copies = f"  +{h.copies} {'copy' if h.copies == 1 else 'copies'}" if h.copies else ""
        print(f"[{h.id}] {h.title_marked}{copies}")
        print(f"     {h.published_at or '-'} · {h.outlet or h.source}" + (f" · {h.url}" if h.url else ""))
        print(f"     {h.snippet}")
    return 0


def cmd_stories(args: argparse.Namespace, config: Config) -> int:
    from daemon.cli.status import table  # noqa: PLC0415

    if args.rule is not None:
        named("rule", args.rule, config.rules, config, "stories")
    store = open_store(config)
    if config.stories.enabled:
        store.backfill_stories(config.stories)  # a database the service has not opened since the upgrade
    since = store.iso(store.now() - timedelta(seconds=args.since))
    stories = store.list_stories(since, args.rule, limit=args.limit)
    if args.json:
        print_json(stories)
        return 0
    if not stories:
        what = f" with an article rule {args.rule!r} matched" if args.rule else ""
        off = " ([stories] enabled = false)" if not config.stories.enabled else ""
        print(f"no stories{what} seen since {since}{off}")
        return 0
    for s in stories:
        outlets = f"{s['source_count']} {'outlet' if s['source_count'] == 1 else 'outlets'}"
        print(f"story {s['id']}  {s['title']}")
        print(f"     {s['article_count']} {'article' if s['article_count'] == 1 else 'articles'}, {outlets}"
              f" ({', '.join(s['sources'])}); first seen {s['first_seen_at']}, last {s['last_seen_at']}")
        rows = [[f"[{a['id']}]", a["outlet"] or a["source"], a["published_at"] or "-", a["title"][:80]]
                for a in s["articles"]]
        for line in table(["ID", "OUTLET", "PUBLISHED", "TITLE"], rows)[1:]:
            print(f"     {line}")
    return 0


def cmd_fetch(args: argparse.Namespace, config: Config) -> int:
    from daemon.pipeline import Pipeline  # noqa: PLC0415

    named("feed", args.name, config.feeds, config, "fetch")
    pipeline = Pipeline(config, open_store(config))
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
    if report.unchanged:
        print(f"{report.source}: unchanged since the last fetch (the same bytes; not parsed again)")
        return 0
    print(f"{report.source}: {report.new} new, {report.duplicates} duplicate, {report.alerts} alerts queued"
          + (f"  (warning: {report.warning})" if report.warning else ""))
    for title in report.titles:
        print(f"  + {title}")
    return 0


def cmd_alerts(args: argparse.Namespace, config: Config) -> int:
    store = open_store(config)
    if args.retry:
        ok = store.retry_alert(args.retry) or store.retry_failed_events(event=args.retry) == 1
        if ok:
            print(f"alert {args.retry} re-queued")
            return 0
        raise NewswatchError(f"no pending or failed alert {args.retry} (a delivered alert is not sent again)")
    if args.all_failed:
        events = store.retry_failed_events()
        also = f", and {events} failed events" if events else ""
        print(f"{store.retry_all_failed()} failed alerts re-queued{also}")
        return 0
    rows = store.list_alerts(status=args.status, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no alerts" + (f" with status {args.status}" if args.status else ""))
    for r in rows:
        err = f"  ({r['last_error']})" if r.get("last_error") else ""
        print(f"{r['id']}  {r['status']:<9} {r['rule']:<12} → {r['webhook']:<10} attempts {r['attempts']}"
              f"  {r.get('title', '')[:70]}{err}")
    return 0


def cmd_match(args: argparse.Namespace, config: Config) -> int:
    from daemon.match.prefilter import fts_query  # noqa: PLC0415
    from daemon.match.snippet import mark  # noqa: PLC0415
    from daemon.match_archive import IdleMeter, match_archive, start_early  # noqa: PLC0415
    from daemon.store.candidates import count_candidates  # noqa: PLC0415

    rule = named("rule", args.rule, config.rules, config, "match")
    store = open_store(config)
    since = store.iso(store.now() - timedelta(seconds=args.since)) if args.since else None
    # Only the articles the index says the rule could match are read and matched (match.prefilter).
    fts = fts_query(rule)
    idle = IdleMeter()  # while the rows are read: is a core free for a worker?
    helpers = start_early([rule], config.tz, lambda: count_candidates(store, since, fts))  # up while they are read
    try:
        rows = store.articles_since(since, fts)
        matched = match_archive([rule], [(r.title, r.body, r.content_hash, r.source) for r in rows], config.tz,
                                idle=idle, helpers=helpers)
    finally:
        if helpers is not None:
            helpers.close()
    found = [(row, matches) for row, matches in zip(rows, matched, strict=True) if matches]
    if args.json:
        print_json([{"id": row.id, "title": row.title, "published_at": row.published_at, "url": row.url,
                     "matches": [asdict(m) for m in matches]} for row, matches in found])
        keep_until_exit(rows, matched, found)
        return 0
    lines = [f"rule {rule.name!r} would match {len(found)} stored article(s)"
             + (f" since {since}" if since else " in the whole archive") + "; no alerts are sent by this command"]
    for row, matches in found:
        # Title hits are marked in the title itself; their snippet would only repeat it.
        title = mark(row.title, [m.text for m in matches if m.field == "title"])
        lines.append(f"[{row.id}] {title}  ({row.published_at or '-'})")
        lines += [f"     {m.keyword!r}: {m.snippet}" for m in matches if m.field != "title"]
    print("\n".join(lines))
    keep_until_exit(rows, matched, found, lines)
    return 0


def cmd_webhook_test(args: argparse.Namespace, config: Config) -> int:
    from daemon.deliver.outbox import send_test  # noqa: PLC0415

    hook = named("webhook", args.name, config.webhooks, config, "webhook test")
    status, text = send_test(hook, now=datetime.now(config.tz))
    print(f"{hook.name} ({hook.url}) answered: {status if status is not None else 'no answer'}")
    if text:
        print(text[:2000])
    return 0 if status is not None and 200 <= status < 300 else EXIT_ERROR


def cmd_webhook_enable(args: argparse.Namespace, config: Config) -> int:
    named("webhook", args.name, config.webhooks, config, "webhook enable")
    store = open_store(config)
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
    try:
        receiver = make_receiver(args.host, args.port, secret, sys.stdout, tz=config.tz if config else None)
    except (OSError, OverflowError) as exc:  # a busy port, a name that does not resolve, a privileged port
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        hint = " (another `newswatch listen`? try --port)" if getattr(exc, "errno", None) == errno.EADDRINUSE else ""
        raise NewswatchError(f"cannot listen on {args.host}:{args.port}: {reason.lower()}{hint}") from None
    checks = "signatures checked" if secret else "signatures NOT checked (no --secret)"
    print(f"listening on http://{args.host}:{receiver.port}/ ({checks}); Ctrl-C to stop", flush=True)
    if config is not None and mine and config.db_path.exists():
        # Alerts queued while nobody listened would otherwise wait for their next retry (up to minutes).
        due = open_store(config).make_due([h.name for h in mine])
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


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    from daemon.store.backup import BadTarget, backup  # noqa: PLC0415

    try:
        done = backup(config.db_path, args.path, force=args.force)
    except BadTarget as exc:
        raise UsageError(str(exc), "backup") from None
    c = done.counts
    print(f"backup of {done.source} written to {done.target}: {done.size / 1e6:.1f} MB, integrity ok,"
          f" schema v{done.schema_version}, {done.seconds:.1f} s")
    print(f"  {c['articles']} articles, {c['sightings']} sightings, {c['matches']} matches, {c['feeds']} feeds;"
          f" alerts {c['alerts_pending']} pending, {c['alerts_delivered']} delivered, {c['alerts_failed']} failed")
    return 0
