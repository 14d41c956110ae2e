"""Persistence: the only package that talks to SQLite.

``Store`` is assembled from one mixin per group of tables, each in its own module, all sharing the
connection and transaction helpers of ``db.Database``.
"""

from daemon.store.db import Database

Store = Database

__all__ = ["Database", "Store"]
