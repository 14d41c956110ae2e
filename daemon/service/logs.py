"""Logging for a daemon whose only reader is ``journalctl`` (or a log shipper).

One event is one line on stderr, so ``journalctl -u newswatch | grep feed=vnexpress`` finds it, and the
JSON form is one object per line for Loki/Elastic. Context goes in ``extra={...}`` (``feed=``,
``alert_id=``) rather than being formatted into the message, so both forms can show it as fields.

Errors newswatch raises on purpose (``NewswatchError``: a feed is down, the disk is full) are operations,
not bugs: their message already says what happened and what to do, so they stay on the one line. Anything
else reaching ``log.exception`` is a bug, and for those the traceback is worth the extra lines.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any, TextIO

from daemon.errors import NewswatchError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("human", "json")
# Chatty at INFO (one line per HTTP request, per job run, per file-change batch): drowns our own lines.
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "watchfiles", "trafilatura")

_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_JSON_KEYS = ("time", "level", "logger", "message", "exc", "exc_type", "stack")
_MARK = "_newswatch_handler"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed in ``extra={...}``: whatever LogRecord does not define itself."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _escape_line(text: str) -> str:
    """A message carrying a feed's error body must not forge extra log lines."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def format_value(value: Any) -> str:
    """key=value that splits back unambiguously: quote anything with spaces, quotes, '=' or newlines."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if text and not any(c.isspace() or c in '"=\\' for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _exception_summary(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _is_expected(exc: BaseException | None) -> bool:
    return isinstance(exc, NewswatchError)


class HumanFormatter(logging.Formatter):
    """``2026-11-23 10:15:02 INFO  newswatch.pipeline  message key=value``."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, self.tz).astimezone(self.tz)
        line = (
            f"{when:%Y-%m-%d %H:%M:%S} {record.levelname:<5} {record.name}  "
            f"{_escape_line(record.getMessage())}"
        )
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={format_value(v)}" for k, v in fields.items())
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _is_expected(exc):
            line += f" error={format_value(_exception_summary(exc))}"
        elif record.exc_info and record.exc_info[0] is not None:
            line += "\n" + self.formatException(record.exc_info).rstrip("\n")
        if record.stack_info:
            line += "\n" + record.stack_info.rstrip("\n")
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra`` fields sit beside the fixed keys (renamed ``x_<key>`` on clash)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, self.tz).astimezone(self.tz)
        obj: dict[str, Any] = {
            "time": when.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            obj[f"x_{key}" if key in _JSON_KEYS else key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc = record.exc_info[1]
            obj["exc_type"] = record.exc_info[0].__name__
            if exc is not None and _is_expected(exc):
                obj["exc"] = _exception_summary(exc)
            else:
                obj["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.stack_info:
            obj["stack"] = record.stack_info
        return json.dumps(obj, ensure_ascii=False, default=str)


def parse_level(level: str) -> int:
    name = level.strip().upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LEVELS)}")
    return int(getattr(logging, name))


def setup_logging(
    level: str = "INFO",
    fmt: str = "human",
    stream: TextIO | None = None,
    *,
    tz: tzinfo | None = None,
    quiet: Mapping[str, int] | None = None,
) -> logging.Handler:
    """Install the one stderr handler on the root logger; safe to call again (SIGHUP, tests).

    Only the handler installed by a previous call is replaced, so handlers others added (pytest's caplog)
    survive. ``tz`` defaults to the machine's zone; pass the config's zone to match stored timestamps.
    """
    numeric = parse_level(level)
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(HumanFormatter(tz) if fmt == "human" else JsonFormatter(tz))
    setattr(handler, _MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric)

    noisy = dict.fromkeys(NOISY_LOGGERS, logging.WARNING)
    noisy.update(quiet or {})
    for name, floor in noisy.items():
        # NOTSET at DEBUG so a reload from INFO to DEBUG really shows them again.
        logging.getLogger(name).setLevel(logging.NOTSET if numeric <= logging.DEBUG else max(floor, numeric))
    logging.captureWarnings(True)
    return handler
