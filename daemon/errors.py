"""One exception tree for the whole service.

Every error the daemon reports on purpose is a ``NewswatchError``; anything else is a bug.

    NewswatchError
    ├── ConfigError            config.toml (or a value given on the command line) cannot be used; the message
    │                          names the file, line or key. config's internal ``_Invalid`` is one.
    ├── SourceError            one source failed; the pass goes on with the others (a base: never raised as is)
    │   ├── SeedFileError      a file in seeds/ is empty, binary, unreadable or too big
    │   ├── FeedError          a feed could not be fetched or parsed (the fetcher's internal ``_Failed`` is one)
    │   ├── OpmlError          an OPML file given to `feeds import` cannot be read: nothing is imported
    │   └── DecodeError        bytes that are not text we can read (also a ``ValueError``)
    ├── StoreError             the database (or the instance lock beside it) cannot be opened, migrated, read or
    │   │                      written. Every ``sqlite3.Error`` leaving ``daemon.store`` is one, its class chosen
    │   │                      by ``sqlite_errorcode``:
    │   ├── StoreBusy          another connection holds a lock too long (SQLITE_BUSY, SQLITE_LOCKED); a write
    │   │                      raises it only after every retry
    │   ├── StoreFull          the disk, or the database's size limit, is full (SQLITE_FULL)
    │   └── StoreCorrupt       the file is damaged or is not a database (SQLITE_CORRUPT, SQLITE_NOTADB)
    ├── AlreadyRunning         another `newswatch run` holds the lock on this database
    └── QueryError             a search query with nothing to look for ('', '*', only `-word`s); also a ``ValueError``

Where each one ends up: a ``SeedFileError`` skips its file (recorded in the ledger) and a ``FeedError`` becomes
the feed's ``last_error``; a ``DecodeError`` is turned into one of those two by whoever read the bytes. A
``StoreError`` ends the job that met it: the job's run is logged as one line and counted, and the next run redoes
the work (a ``StoreFull`` is reported once, then once a minute, then when writes work again). The CLI turns
``ConfigError`` into exit status 3, ``AlreadyRunning`` into 4 and any other ``NewswatchError`` into 1.

A webhook that fails is not an exception: its answer (or the lack of one) is a recorded delivery attempt and a
retry time (``daemon.deliver``).

Messages are written for the operator reading one log line: they name the source and say what to do.
"""

from __future__ import annotations

from typing import Any


class NewswatchError(Exception):
    """Base of every error newswatch raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as (class, args, attributes), rebuilt without calling __init__, whose parameters differ
        # from ``args`` in the subclasses (an error raised in a worker process must reach the parent intact).
        return _rebuild, (type(self), self.args), self.__dict__ or None


def _rebuild(cls: type[NewswatchError], args: tuple[Any, ...]) -> NewswatchError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ConfigError(NewswatchError):
    """The configuration file is malformed or names an unknown key."""


class SourceError(NewswatchError):
    """One source (a seed file, a feed) could not be read; others are unaffected.

    ``source`` may be left empty by code that does not know it (a parser); the caller that does adds it.
    """

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source
        self.reason = message


class SeedFileError(SourceError):
    """A seed file was skipped (empty, binary, undecodable, oversize, unreadable)."""


class FeedError(SourceError):
    """A feed fetch or parse failed; recorded as the feed's last_error."""


class OpmlError(SourceError):
    """An OPML subscription list is unusable (not XML, no feed outlines, an outline without xmlUrl, entities)."""


class DecodeError(SourceError, ValueError):
    """The bytes are not text we can read; the message is a short reason for one log line."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(source, message)


class StoreError(NewswatchError):
    """The SQLite database cannot be opened, migrated, read or written.

    ``sqlite_errorcode``/``sqlite_errorname`` are SQLite's (extended) result code and its name when the error
    came from SQLite, else None.
    """

    def __init__(self, message: str, *, sqlite_errorcode: int | None = None,
                 sqlite_errorname: str | None = None) -> None:
        super().__init__(message)
        self.sqlite_errorcode = sqlite_errorcode
        self.sqlite_errorname = sqlite_errorname


class StoreBusy(StoreError):
    """Another connection held the database's write lock longer than every retry waited."""


class StoreFull(StoreError):
    """A write needed room the disk (or the database's page limit) does not have; nothing was written."""


class StoreCorrupt(StoreError):
    """The database file is damaged, or is not an SQLite database at all."""


class AlreadyRunning(NewswatchError):
    """Another instance holds the lock for this database."""


class QueryError(NewswatchError, ValueError):
    """A search query that cannot be searched; the message says what to type instead (the CLI: exit 2)."""
