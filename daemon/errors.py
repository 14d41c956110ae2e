"""One exception tree for the whole service.

Every error the daemon reports on purpose is a ``NewswatchError``; anything else is a bug.

    NewswatchError
    ├── ConfigError            config.toml cannot be used (message names file, line or key)
    ├── SourceError            one source failed; the pass goes on with the others
    │   ├── SeedFileError      a file in seeds/ is empty, binary, unreadable or too big
    │   └── FeedError          a feed could not be fetched or parsed
    ├── StoreError             the database cannot be opened or migrated
    ├── DeliveryError          a webhook request failed (the alert stays queued)
    └── AlreadyRunning         another `newswatch run` holds the lock on this database

Messages are written for the operator reading one log line: they name the source and say what to do.
"""


class NewswatchError(Exception):
    """Base of every error newswatch raises on purpose."""


class ConfigError(NewswatchError):
    """The configuration file is malformed or names an unknown key."""


class SourceError(NewswatchError):
    """One source (a seed file, a feed) could not be read; others are unaffected."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = message


class SeedFileError(SourceError):
    """A seed file was skipped (empty, binary, undecodable, oversize, unreadable)."""


class FeedError(SourceError):
    """A feed fetch or parse failed; recorded as the feed's last_error."""


class StoreError(NewswatchError):
    """The SQLite database cannot be opened, migrated or written."""


class DeliveryError(NewswatchError):
    """A webhook delivery attempt failed; the alert is retried later."""


class AlreadyRunning(NewswatchError):
    """Another instance holds the lock for this database."""
