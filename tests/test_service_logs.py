"""setup_logging: one line per event, human and JSON, expected errors vs bugs, noisy loggers quieted."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from daemon.errors import FeedError
from daemon.service.logs import NOISY_LOGGERS, format_value, setup_logging

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HUMAN_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO |WARNING|ERROR|CRITICAL) \S+  .*$")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)
    logging.captureWarnings(False)


def _lines(buf: io.StringIO) -> list[str]:
    return buf.getvalue().splitlines()


def test_human_line_shape_exact() -> None:
    buf = io.StringIO()
    handler = setup_logging("INFO", "human", buf, tz=VN)
    record = logging.getLogger("newswatch.pipeline").makeRecord(
        "newswatch.pipeline", logging.INFO, __file__, 1, "ingested %d articles", (3,), None,
        extra={"feed": "vnexpress", "title": "Hội nghị Ban Chấp hành", "took": 0.25},
    )
    record.created = datetime(2026, 11, 23, 10, 15, 2, tzinfo=VN).timestamp()
    assert handler.format(record) == (
        '2026-11-23 10:15:02 INFO  newswatch.pipeline  ingested 3 articles feed=vnexpress '
        'title="Hội nghị Ban Chấp hành" took=0.25'
    )


def test_human_one_line_per_event_and_level_filter() -> None:
    buf = io.StringIO()
    setup_logging("info", "human", buf)
    log = logging.getLogger("newswatch.test")
    log.debug("hidden")
    log.info("first line\nforged second line", extra={"body": "a\nb"})
    log.warning("careful")
    lines = _lines(buf)
    assert len(lines) == 2, lines
    assert all(HUMAN_LINE.match(line) for line in lines), lines
    assert "first line\\nforged second line" in lines[0]
    assert 'body="a\\nb"' in lines[0]
    assert " WARNING newswatch.test  careful" in lines[1]


def test_expected_error_stays_on_one_line_but_bug_gets_traceback() -> None:
    buf = io.StringIO()
    setup_logging("INFO", "human", buf)
    log = logging.getLogger("newswatch.feeds")
    try:
        raise FeedError("vnexpress", "HTTP 503 from https://vnexpress.net/rss")
    except FeedError:
        log.exception("fetch failed", extra={"feed": "vnexpress"})
    lines = _lines(buf)
    assert len(lines) == 1, lines
    assert lines[0].endswith('feed=vnexpress error="FeedError: vnexpress: HTTP 503 from https://vnexpress.net/rss"')

    buf.truncate(0)
    buf.seek(0)
    try:
        int("không phải số")
    except ValueError:
        log.exception("bug in pipeline")
    lines = _lines(buf)
    assert HUMAN_LINE.match(lines[0]) and lines[0].endswith("bug in pipeline")
    assert lines[1].startswith("Traceback (most recent call last):")
    assert lines[-1] == "ValueError: invalid literal for int() with base 10: 'không phải số'"


def test_json_fields_extra_and_exceptions() -> None:
    buf = io.StringIO()
    setup_logging("DEBUG", "json", buf, tz=VN)
    log = logging.getLogger("newswatch.deliver")
    log.info("delivered", extra={"webhook": "zalo", "alert_id": 7, "level": "clash", "when": datetime(2026, 1, 1)})
    try:
        raise FeedError("tuoitre", "not a feed")
    except FeedError:
        log.error("fetch failed", exc_info=True)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("bug")
    lines = _lines(buf)
    assert len(lines) == 3, lines
    first, second, third = (json.loads(line) for line in lines)
    assert first["message"] == "delivered"
    assert first["level"] == "INFO"
    assert first["logger"] == "newswatch.deliver"
    assert first["webhook"] == "zalo" and first["alert_id"] == 7
    assert first["x_level"] == "clash"
    assert first["when"] == "2026-01-01 00:00:00"
    parsed = datetime.fromisoformat(first["time"])
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]
    assert second["exc_type"] == "FeedError"
    assert second["exc"] == "FeedError: tuoitre: not a feed"
    assert third["exc_type"] == "ZeroDivisionError"
    assert third["exc"].startswith("Traceback") and "1 / 0" in third["exc"]


def test_reconfigure_replaces_only_our_handler() -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)
    first, second = io.StringIO(), io.StringIO()
    setup_logging("INFO", "human", first)
    setup_logging("INFO", "json", second)
    logging.getLogger("newswatch").info("once")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "once"
    assert other in logging.getLogger().handlers
    logging.getLogger().removeHandler(other)


def test_noisy_loggers_quiet_unless_debug() -> None:
    buf = io.StringIO()
    setup_logging("INFO", "human", buf)
    logging.getLogger("httpx").info("HTTP Request: GET https://example.invalid 200")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("httpx").warning("real problem")
    lines = _lines(buf)
    assert len(lines) == 1 and "real problem" in lines[0]

    buf = io.StringIO()
    setup_logging("DEBUG", "human", buf)
    logging.getLogger("apscheduler.scheduler").info("Added job")
    assert "Added job" in buf.getvalue()


def test_warnings_are_logged_as_one_line() -> None:
    buf = io.StringIO()
    setup_logging("INFO", "human", buf)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    assert "deprecated thing" in buf.getvalue()


@pytest.mark.parametrize(("level", "fmt"), [("LOUD", "human"), ("INFO", "xml"), ("", "json")])
def test_invalid_level_or_format(level: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="use one of") as info:
        setup_logging(level, fmt, io.StringIO())
    if fmt == "human" or not level:
        assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", "plain"), ("two words", '"two words"'), ("a=b", '"a=b"'), ("", '""'), (None, "null"),
     (True, "true"), (3, "3"), ("Đảng ủy", '"Đảng ủy"'), ("Hà_Nội", "Hà_Nội")],
)
def test_format_value(value: object, expected: str) -> None:
    assert format_value(value) == expected
