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

``Store`` (in ``tables``) is imported on first use: importing any module of the package runs this file
first, and `newswatch search` opens only ``search.SearchTables``, not the writers' tables and what they
import (tests/test_startup.py checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from daemon.store.db import Database

if TYPE_CHECKING:
    from daemon.store.tables import Store

__all__ = ["Database", "Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from daemon.store.tables import Store  # noqa: PLC0415

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
