"""Persistence: the only package that talks to SQLite.

``Store`` is assembled from one mixin per group of tables, each in its own module, all sharing the
connection and transaction helpers of ``db.Database``:

* ``articles`` — articles, sightings, matches, new alert rows, the seed-file ledger
* ``search``   — full-text search of the articles
* ``feeds``    — per-feed health and conditional-GET state
* ``alerts``   — the outbox as delivery sees it: due alerts, attempts, retries, disabled webhooks
* ``jobs``     — scheduling state and the counts behind `newswatch status` and `/metrics`
* ``briefs``   — what a briefing reads (one set of queries), the briefings made
* ``events``   — the outbox of messages that are not article alerts (``briefing.ready``, ``rule.spike``)
* ``stories``  — which story each article belongs to: assignment (inside ``ingest``, so ``ArticleTables``
  builds on it), the backfill, listings
"""

from daemon.store.articles import ArticleTables
from daemon.store.briefs import BriefTables
from daemon.store.db import Database
from daemon.store.events import Outbox
from daemon.store.feeds import FeedTables
from daemon.store.jobs import JobTables
from daemon.store.search import SearchTables


class Store(ArticleTables, SearchTables, FeedTables, Outbox, JobTables, BriefTables):
    """The database as the pipeline, the scheduler and the CLI see it."""


__all__ = ["Database", "Store"]
