"""The `newswatch` command line.

Every command loads the config the same way (``--config``, ``$NEWSWATCH_CONFIG``, ``./config.toml``) and
reports a problem as one line on stderr with a distinct exit status, never a traceback:
0 ok · 1 runtime error · 2 usage · 3 bad config · 4 another instance is running.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence

from daemon.cli.common import EXIT_CONFIG, EXIT_ERROR, EXIT_RUNNING, EXIT_USAGE, UsageError
from daemon.cli.parser import build_parser
from daemon.errors import AlreadyRunning, ConfigError, NewswatchError

log = logging.getLogger(__name__)

__all__ = ["build_parser", "console", "main"]


def _json_logs(argv: Sequence[str]) -> bool:
    """Does the command line ask for JSON logs? Read from the raw words, so it holds when parsing fails."""
    return any(arg == "--log-format=json" or (arg == "--log-format" and argv[i + 1 : i + 2] == ["json"])
               for i, arg in enumerate(argv))


def _fail(as_json: bool, message: str, command: str = "", *, logging_ready: bool = True) -> None:
    """The one-line reason for a non-zero exit; under ``--log-format json`` a log shipper must parse it too."""
    if as_json:
        from daemon.service.logs import setup_logging  # noqa: PLC0415

        if not logging_ready:  # parsing failed before logging was set up
            setup_logging("INFO", "json")
        log.error(f"{command}: {message}" if command else message)
    else:
        print(f"newswatch{' ' + command if command else ''}: {message}", file=sys.stderr)


def _oserror(exc: OSError) -> str:
    """'state/news.db: permission denied', not "[Errno 13] Permission denied: 'state/news.db'"."""
    if exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror.lower()}"
    return exc.strerror or str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = _json_logs(words)
    logging_ready = False
    try:
        args = build_parser(words).parse_args(words)
        from daemon.service.logs import setup_logging  # noqa: PLC0415

        try:
            setup_logging(args.log_level, args.log_format)
        except ValueError as exc:
            raise UsageError(f"{exc} (see `newswatch --help`)") from None
        logging_ready = True
        from daemon.config import load, resolve_path  # noqa: PLC0415  (`--version` and `--help` need no config)

        path = resolve_path(args.config)
        if args.command == "listen":
            listened: int = args.func(args, load(path) if path.exists() else None)
            return listened
        config = load(path)
        setup_logging(args.log_level, args.log_format, tz=config.tz)  # log times in the configured zone
        result: int = args.func(args, config)
        return result
    except UsageError as exc:
        _fail(as_json, str(exc), exc.command, logging_ready=logging_ready)
        return EXIT_USAGE
    except ConfigError as exc:
        _fail(as_json, f"config error: {exc}")
        return EXIT_CONFIG
    except AlreadyRunning as exc:
        _fail(as_json, str(exc))
        return EXIT_RUNNING
    except NewswatchError as exc:
        _fail(as_json, str(exc))
        return EXIT_ERROR
    except OSError as exc:  # the environment (a path, a permission), not a bug: one line, not a traceback
        if isinstance(exc, BrokenPipeError):  # `newswatch search x | head`
            return 0
        _fail(as_json, _oserror(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def console() -> int:
    """The `newswatch` script and `python -m daemon`: ``main``, in a process that ends when it returns.

    Python's shutdown runs the cyclic garbage collector over every object the imports made, several
    times: 14-18 ms of a `newswatch search` that takes 100. Frozen (``gc.freeze``), those objects are left
    to the exit, which frees the memory anyway. Nothing of value waits for that collector: the stores
    are freed by reference counting when a command returns (their connections closed), atexit handlers
    and the flushing of stdout and stderr still run. Not in ``main``: tests call it in their own process.
    """
    try:
        return main()
    finally:  # `--version` and `--help` leave through argparse's SystemExit
        gc.freeze()
