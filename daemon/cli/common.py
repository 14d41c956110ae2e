"""What every command shares: exit statuses, the usage error, opening the store, printing JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from daemon.errors import NewswatchError

if TYPE_CHECKING:
    from daemon.config import Config
    from daemon.store import Store

EXIT_ERROR, EXIT_USAGE, EXIT_CONFIG, EXIT_RUNNING = 1, 2, 3, 4
T = TypeVar("T")


class UsageError(NewswatchError):
    """The command line asks for something that cannot be (exit 2): fix the arguments, not the config.

    ``command`` ("match", "webhook test") prefixes the printed line so the operator sees which
    command refused, as argparse does for its own errors.
    """

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command


def open_store(config: Config) -> Store:
    from daemon.store import Store  # noqa: PLC0415  (keeps `--help` and `--version` fast)

    return Store(config.db_path, config.tz)


_KEPT: list[object] = []


def keep_until_exit(*objects: object) -> None:
    """Leave a command's big results to the end of the process instead of freeing them one by one on return.

    `match` holds 20,000 articles and their matches: freeing them took 32–40 ms (3 % of the command).
    ``console`` leaves what is still referenced at the end to the exit (``gc.freeze``), which hands the
    memory back at once. Only the last command's are kept: a process that calls ``main`` again and again
    (the tests) holds one set.
    """
    _KEPT[:] = objects


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def named(kind: str, name: str, items: Sequence[T], config: Config, command: str) -> T:
    """The configured feed/rule/webhook called ``name``, or a UsageError listing the ones there are."""
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    known = ", ".join(str(getattr(i, "name", "")) for i in items) or "none"
    raise UsageError(f"no {kind} named {name!r} in {config.path} (configured: {known})", command)
