"""The scheduler's briefing job: make every due (briefing, period) once, and queue spikes (one tick, pure-ish).

Scheduling state lives in the database (``briefings``, ``briefing_schedules``), so the job needs no
memory: each tick computes, from the clock and the config, which periods have ended since the service
first knew the briefing, and makes those not recorded yet (oldest first, at most ``CATCH_UP`` of them: a
service down a week makes the week's dailies at its next start, not a year's). A briefing added to the
config today starts with the next period that ends, not with a backlog. ``run --once`` runs the same
tick, so a briefing that is due is made by it too.

Spikes: each tick counts today's mentions of every rule against the 14 days before; a rule over its
``spike_factor`` queues ``rule.spike`` to its webhooks, once per (rule, day).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from daemon.brief.build import TRAILING_DAYS, spikes
from daemon.brief.events import SPIKE, spike_events, spike_key
from daemon.brief.make import make_scheduled
from daemon.brief.periods import Period, following, latest_complete, preceding
from daemon.config import Config
from daemon.models import BriefingConfig, WebhookConfig
from daemon.store import Store

log = logging.getLogger(__name__)

CATCH_UP = 7  # periods per briefing made after a downtime, the most recent ones
IDLE_TICK = 60.0  # seconds between two ticks when nothing is due sooner (spikes are checked each tick)


@dataclass(slots=True)
class TickReport:
    made: list[str] = field(default_factory=list)  # "name period-key"
    spikes: int = 0  # rule.spike events queued
    next_due: datetime | None = None  # when the next period of any briefing ends


def _targets(names: Sequence[str], hooks: Sequence[WebhookConfig]) -> list[WebhookConfig]:
    enabled = [h for h in hooks if h.enabled]
    return [h for h in enabled if h.name in names] if names else enabled


def due_periods(cfg: BriefingConfig, now: datetime, since: datetime, config: Config) -> list[Period]:
    """Periods of ``cfg`` that ended after ``since`` and by ``now``, oldest first (at most CATCH_UP)."""
    weekly = cfg.period == "week"
    tz = config.tz
    latest = latest_complete(cfg.period, now, cfg.at, tz, cfg.weekday if weekly else None)
    found: list[Period] = []
    p = latest
    while p.end >= since and len(found) < CATCH_UP:
        found.append(p)
        p = preceding(p, cfg.at, tz, weekly)
    return found[::-1]


def next_due(cfg: BriefingConfig, now: datetime, config: Config) -> datetime:
    weekly = cfg.period == "week"
    latest = latest_complete(cfg.period, now, cfg.at, config.tz, cfg.weekday if weekly else None)
    return following(latest, cfg.at, config.tz, weekly).end


def tick(store: Store, config: Config, now: datetime | None = None) -> TickReport:
    now = now or store.now()
    report = TickReport()
    for cfg in config.briefings:
        since = store.schedule_since(cfg.name, now)
        for period in due_periods(cfg, now, since, config):
            try:
                made = make_scheduled(store, cfg, period, rules=config.rules,
                                      hooks=_targets(cfg.webhooks, config.webhooks), tz=config.tz, now=now)
            except OSError as exc:  # the folder is not writable, the disk is full: one line, tried next tick
                log.error("briefing %s (%s %s): cannot write its files in %s: %s; tried again at the next run",
                          cfg.name, period.kind, period.key(), cfg.out, exc.strerror or exc)
                break
            if made is not None:
                b = made.briefing
                report.made.append(f"{cfg.name} {period.key()}")
                log.info("briefing %s (%s %s) made: %d articles, %d stories, %d outlets; %s in %s", cfg.name,
                         period.kind, period.key(), b.articles, b.stories, b.outlets, ", ".join(cfg.formats), cfg.out)
        due = next_due(cfg, now, config)
        report.next_due = due if report.next_due is None else min(report.next_due, due)
    report.spikes = queue_spikes(store, config, now)
    return report


def queue_spikes(store: Store, config: Config, now: datetime) -> int:
    """Queue ``rule.spike`` for each rule whose mentions today exceed its spike factor (once per rule and day)."""
    rules = [r for r in config.rules if _targets(r.webhooks, config.webhooks)]
    if not rules:
        return 0
    today = now.astimezone(config.tz).date()
    start = datetime(today.year, today.month, today.day, tzinfo=config.tz) - timedelta(days=TRAILING_DAYS)
    daily = store.daily_mentions([r.name for r in rules], start, now + timedelta(seconds=1))
    found = {r.name: spikes(daily.get(r.name, {}), [today], r.spike_factor) for r in rules}
    done = store.events_queued(SPIKE, [spike_key(name, today) for name, hit in found.items() if hit])
    queued = 0
    for rule in rules:
        for day, count, mean in found[rule.name]:
            if spike_key(rule.name, day) in done:
                continue
            rows = spike_events(rule, day, count, mean, now=now, hooks=_targets(rule.webhooks, config.webhooks))
            queued += store.queue_events(rows, now)
            log.info("rule %s: spike on %s: %d articles (14-day mean %.1f, factor %g); rule.spike queued",
                     rule.name, day.isoformat(), count, mean, rule.spike_factor)
    return queued
