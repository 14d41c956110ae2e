"""The delivery run: send what is due, record what happened, never lose an alert.

Guarantees, in the order they matter:

* An alert leaves ``pending`` as delivered only after a 2xx answer, and the mark is written after the
  POST returns: a crash in between means the alert is sent again, with the same ``webhook-id``.
* Each webhook gets its own worker thread, so a dead or slow receiver costs only its own alerts time;
  within a webhook alerts go out oldest first, one at a time.
* When a webhook looks down (no answer, 3xx, 429, 5xx) its worker stops for this run and pushes its
  other due alerts back to the failed alert's retry time, without counting attempts they never made:
  a dead receiver costs one request per run, not one timeout per queued alert.
* 410 Gone disables the webhook (``newswatch webhook enable NAME`` undoes it); its alerts stay pending.
* Storm control: when more than ``max_alerts_per_pass`` alerts are due for one webhook, they go out as
  one digest message (at most ``DIGEST_MAX`` alerts, oldest first; the rest follow in the next run),
  delivered or rescheduled all together.

``now`` drives every database decision (what is due, retry times) so tests can move time; the
``webhook-timestamp`` header always uses the real clock because receivers check it against theirs.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from daemon.deliver import backoff, formats, payload
from daemon.deliver.client import USER_AGENT, PostResult, new_client, post
from daemon.deliver.signing import request_headers
from daemon.headers import parse_retry_after
from daemon.models import WebhookConfig
from daemon.store.alerts import DueAlert
from daemon.store.events import DueEvent, Outbox

log = logging.getLogger(__name__)

DIGEST_MAX = 100  # alerts in one digest message
PASS_BUDGET_S = 60.0  # a worker starts no new request after this long; the rest waits for the next run


@dataclass
class WebhookReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0  # dead-lettered in this run
    deferred: int = 0  # not tried because the webhook had just failed
    digests: int = 0
    disabled: bool = False  # answered 410 Gone in this run
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds from alert creation to delivery


@dataclass
class DeliveryReport:
    webhooks: dict[str, WebhookReport] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)  # due alerts for webhooks not in the config

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.webhooks.values())

    @property
    def retried(self) -> int:
        return sum(r.retried for r in self.webhooks.values())

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.webhooks.values())


Clock = Callable[[], datetime]


def _clock(store: Outbox, now: datetime | None) -> Clock:
    """A clock starting at ``now`` (when given) that still advances with real elapsed time."""
    if now is None:
        return store.now
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


@dataclass(frozen=True)
class _Outcome:
    stop: bool  # the webhook looks down or gone: send nothing more to it in this run
    retry_at: datetime | None = None  # when the remaining alerts should be tried again


class _Worker:
    """Sends one webhook's due alerts; owns that webhook's report."""

    def __init__(self, store: Outbox, hook: WebhookConfig, client: httpx.Client, *, clock: Clock,
                 rng: random.Random | None, budget: float) -> None:
        self.store = store
        self.hook = hook
        self.client = client
        self.clock = clock
        self.rng = rng
        self.budget = budget
        self.report = WebhookReport()

    def run(self, due: int, events: int = 0) -> WebhookReport:
        try:
            stopped = False
            if due > self.hook.max_alerts_per_pass:
                alerts = self.store.due_alerts(self.hook.name, self.clock(), limit=DIGEST_MAX)
                if alerts:
                    stopped = self._send(alerts, digest=True).stop
            elif due:
                stopped = self._send_each(self.store.due_alerts(self.hook.name, self.clock(), limit=due))
            if events and not stopped:  # a receiver that just failed is not tried again in this run
                for event in self.store.due_events(self.hook.name, self.clock(), limit=events):
                    if self._send_event(event).stop:
                        break
        except Exception as exc:  # one webhook's trouble must not stop the others
            log.exception("webhook %s: delivery stopped: %s", self.hook.name, exc)
            self.report.errors.append(f"{type(exc).__name__}: {exc}")
        return self.report

    def _send_each(self, alerts: Sequence[DueAlert]) -> bool:
        """Send one by one; True when the webhook looked down (or gone) and the rest waits."""
        started = time.monotonic()
        for i, alert in enumerate(alerts):
            if i and time.monotonic() - started > self.budget:  # at least one per run, always
                log.info("webhook %s: %d alerts left for the next run (pass budget spent)",
                         self.hook.name, len(alerts) - i)
                return True
            outcome = self._send([alert], digest=False)
            if outcome.stop:
                rest = [a.id for a in alerts[i + 1:]]
                if rest and outcome.retry_at is not None:
                    self.store.defer_alerts(rest, outcome.retry_at)
                    self.report.deferred += len(rest)
                return True
        return False

    def _send_event(self, event: DueEvent) -> _Outcome:
        """One event (``briefing.ready``, ``rule.spike``): its body was rendered when it was queued."""
        hook = self.hook
        headers = request_headers(hook, event.id, event.body, int(time.time()), USER_AGENT)
        result = post(self.client, hook.url, event.body, headers, hook.timeout)
        at = self.clock()
        self.store.record_event_attempt(event.id, hook.name, at=at, status_code=result.status, error=result.error,
                                        duration_ms=result.duration_ms)
        if result.ok:
            self.store.event_delivered(event.id, at)
            self.report.delivered += 1
            return _Outcome(stop=False)
        what = f"event {event.id} ({event.type})"
        if result.status == 410:
            return self._gone(result, at, what)
        error = result.error or "failed"
        self.report.errors.append(f"{what}: {error}")
        delay = backoff.retry_delay(event.attempts + 1, retry_after=self._retry_after(result), rng=self.rng)
        when = backoff.next_attempt(event.created_at, at, delay)
        if when is None:
            self.store.event_failed(event.id, error)
            self.report.failed += 1
            log.error("webhook %s: %s given up after %d attempts over %s: %s", hook.name, what, event.attempts + 1,
                      backoff.GIVE_UP_AFTER, error)
        else:
            self.store.event_retry(event.id, when, error)
            self.report.retried += 1
            log.warning("webhook %s: %s attempt %d failed: %s; next try in %.0f s", hook.name, what,
                        event.attempts + 1, error, delay)
        return _Outcome(stop=_looks_down(result))

    def _gone(self, result: PostResult, at: datetime, what: str) -> _Outcome:
        hook = self.hook
        reason = f"receiver answered 410 Gone at {at.isoformat(timespec='seconds')}"
        self.store.disable_webhook(hook.name, reason, at)
        self.report.disabled = True
        self.report.errors.append(f"{what}: {result.error}")
        log.error("WEBHOOK %s DISABLED: the receiver answered 410 Gone (%s). Its alerts stay pending; "
                  "fix the URL, then run `newswatch webhook enable %s`.", hook.name, what, hook.name)
        return _Outcome(stop=True)

    @staticmethod
    def _retry_after(result: PostResult) -> float | None:
        if result.status in (429, 503):
            return parse_retry_after(result.retry_after, datetime.now(UTC))
        return None

    def _send(self, alerts: Sequence[DueAlert], *, digest: bool) -> _Outcome:
        hook = self.hook
        ids = [a.id for a in alerts]
        msg_id = payload.digest_id(ids) if digest else ids[0]
        body = formats.render(hook, alerts, self.clock(), digest=digest)
        headers = request_headers(hook, msg_id, body, int(time.time()), USER_AGENT)
        result = post(self.client, hook.url, body, headers, hook.timeout)
        at = self.clock()
        self.store.record_attempt(ids, hook.name, msg_id, at=at, status_code=result.status, error=result.error,
                                  duration_ms=result.duration_ms)
        if digest:
            self.report.digests += 1
        if result.ok:
            self.store.mark_delivered(ids, at)
            self.report.delivered += len(ids)
            self.report.latencies.extend((at - a.created_at).total_seconds() for a in alerts)
            return _Outcome(stop=False)
        what = f"digest {msg_id} ({len(ids)} alerts)" if digest else f"alert {msg_id}"
        if result.status == 410:
            return self._gone(result, at, what)
        return self._reschedule(alerts, result, at, what)

    def _reschedule(self, alerts: Sequence[DueAlert], result: PostResult, at: datetime, what: str) -> _Outcome:
        error = result.error or "failed"
        self.report.errors.append(f"{what}: {error}")
        failures = max(a.attempts for a in alerts) + 1
        delay = backoff.retry_delay(failures, retry_after=self._retry_after(result), rng=self.rng)
        retry_at = at + timedelta(seconds=delay)
        for alert in alerts:
            when = backoff.next_attempt(alert.created_at, at, delay)
            if when is None:
                self.store.mark_failed(alert.id, error)
                self.report.failed += 1
                log.error("webhook %s: alert %s given up after %d attempts over %s: %s", self.hook.name,
                          alert.id, alert.attempts + 1, backoff.GIVE_UP_AFTER, error)
            else:
                self.store.schedule_retry(alert.id, when, error)
                self.report.retried += 1
        log.warning("webhook %s: %s attempt %d failed: %s; next try in %.0f s", self.hook.name, what,
                    failures, error, delay)
        return _Outcome(stop=_looks_down(result), retry_at=retry_at)


def _looks_down(result: PostResult) -> bool:
    """No answer, a redirect, 429 or a 5xx: the receiver is not taking anything now."""
    return result.status is None or result.status == 429 or 300 <= result.status < 400 or result.status >= 500


def deliver_due(
    store: Outbox,
    webhooks: Sequence[WebhookConfig],
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    rng: random.Random | None = None,
    budget: float = PASS_BUDGET_S,
) -> DeliveryReport:
    """One delivery run over every enabled webhook with due alerts; returns when all workers finish."""
    clock = _clock(store, now)
    report = DeliveryReport()
    due = store.due_counts(clock())
    events = store.due_event_counts(clock())
    hooks = {h.name: h for h in webhooks if h.enabled}
    known = {h.name for h in webhooks}
    report.unknown = {name: n for name, n in due.items() if name not in known}
    work = [(hooks[name], due.get(name, 0)) for name in sorted(due.keys() | events.keys()) if name in hooks]
    if not work:
        return report
    own_client = client is None
    http = client if client is not None else new_client()
    started = time.monotonic()
    try:
        workers = [_Worker(store, hook, http, clock=clock, rng=rng, budget=budget) for hook, _ in work]
        with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="deliver") as pool:
            futures = [pool.submit(w.run, n, events.get(w.hook.name, 0))
                       for w, (_, n) in zip(workers, work, strict=True)]
            for w, f in zip(workers, futures, strict=True):
                report.webhooks[w.hook.name] = f.result()
    finally:
        if own_client:
            http.close()
    log.info("delivery run: %s in %.1f s", _summary(report), time.monotonic() - started)
    return report


def _summary(report: DeliveryReport) -> str:
    """The run in one line: totals, then each webhook's non-zero counts (a quiet success is still visible)."""
    def counts(r: WebhookReport, *, all_: bool) -> str:
        parts = [(r.delivered, "delivered"), (r.retried, "to retry"), (r.failed, "given up"), (r.deferred, "deferred")]
        text = ", ".join(f"{n} {what}" for n, what in parts if all_ or n)
        if r.digests:
            text += f", {r.digests} digest{'s' if r.digests > 1 else ''}"
        return text + (", DISABLED (410 Gone)" if r.disabled else "")

    total = WebhookReport(
        delivered=report.delivered, retried=report.retried, failed=report.failed,
        deferred=sum(r.deferred for r in report.webhooks.values()),
        digests=sum(r.digests for r in report.webhooks.values()))
    each = "; ".join(f"{name}: {counts(r, all_=False) or 'nothing sent'}" for name, r in report.webhooks.items())
    return f"{counts(total, all_=True)} ({each})"


def send_test(webhook: WebhookConfig, client: httpx.Client | None = None, *,
              now: datetime | None = None) -> tuple[int | None, str]:
    """``newswatch webhook test NAME``: one signed probe; the receiver's status and answer, or the error.

    ``now`` stamps the event; pass it in the configured zone so it reads like the alerts' timestamps.
    """
    msg_id = f"test_{secrets.token_hex(8)}"
    body = formats.render_probe(webhook, now if now is not None else datetime.now(UTC).astimezone())
    headers = request_headers(webhook, msg_id, body, int(time.time()), USER_AGENT)
    http = client if client is not None else new_client()
    try:
        result = post(http, webhook.url, body, headers, webhook.timeout)
    finally:
        if client is None:
            http.close()
    if result.status is None:
        return None, result.error or "no answer"
    return result.status, result.text if result.ok else (result.error or result.text)
