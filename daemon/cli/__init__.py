"""The `newswatch` command line.

Every command loads the config the same way (``--config``, ``$NEWSWATCH_CONFIG``, ``./config.toml``) and
reports a problem as one line on stderr with a distinct exit status, never a traceback:
0 ok · 1 runtime error · 2 usage · 3 bad config · 4 another instance is running.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from daemon.cli.commands import EXIT_CONFIG, EXIT_ERROR, EXIT_RUNNING, cmd_listen
from daemon.cli.parser import build_parser
from daemon.config import load, resolve_path
from daemon.errors import AlreadyRunning, ConfigError, NewswatchError

log = logging.getLogger(__name__)

__all__ = ["build_parser", "main"]


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
