"""Load and validate ``config.toml``.

A service that runs for months must refuse a bad config loudly at start (or at SIGHUP) rather than
half-work: every problem becomes one ``ConfigError`` line naming the file and the key path, with a
"did you mean" where a key is misspelled. Relative paths are resolved against the config file's folder,
so the service behaves the same whatever directory it is started from.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daemon.errors import ConfigError
from daemon.models import (
    BRIEF_FORMATS,
    BRIEF_PERIODS,
    REGEX_PREFIX,
    SEEDS_SOURCE,
    BriefingConfig,
    FeedConfig,
    Rule,
    StorySettings,
    WebhookConfig,
)

ENV_VAR = "NEWSWATCH_CONFIG"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
WEBHOOK_FORMATS = ("json", "slack", "discord", "telegram")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, None: 1}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """`[fetch]`: how feeds are fetched."""

    concurrency: int = 16
    per_host: int = 2
    timeout: float = 30.0  # total deadline per request
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch; feed monitor)"
    stale_after: float = 2 * 86400.0  # `newswatch status` flags feeds silent or failing this long
    max_backoff: float = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration; immutable so a SIGHUP reload can swap it atomically."""

    path: Path
    db_path: Path
    seeds_path: Path
    seeds_interval: float = 30.0
    seeds_watch: bool = True
    seeds_follow_symlinks: bool = False  # symlinks to targets outside the seed folder are read too
    seeds_rescan_interval: float = 3600.0  # with the watcher: the full scan that catches what it missed
    seeds_full_rescan_interval: float = 86400.0  # that scan stats every file, not only changed folders' ones
    timezone: str = DEFAULT_TIMEZONE
    delivery_interval: float = 10.0
    shutdown_timeout: float = 10.0
    checkpoint_interval: float = 300.0
    watch_config: bool = True  # a running service reloads this file when it changes, as on SIGHUP
    http_listen: str | None = None
    fetch: FetchSettings = field(default_factory=FetchSettings)
    stories: StorySettings = field(default_factory=StorySettings)
    feeds: tuple[FeedConfig, ...] = ()
    rules: tuple[Rule, ...] = ()
    webhooks: tuple[WebhookConfig, ...] = ()
    briefings: tuple[BriefingConfig, ...] = ()
    digest: str = ""  # SHA-256 of the file's bytes as loaded: the config watcher reloads only on a real change

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def lock_path(self) -> Path:
        """The single-instance lock sits beside the database, never on it."""
        return self.db_path.with_name(self.db_path.name + ".lock")


# ---------------------------------------------------------------------------------------------
# value parsers: each takes (value, key path) and returns the typed value or raises _Invalid


class _Invalid(ConfigError):
    """A value is unusable; ``where`` is its key path. ``loads`` turns it into a ConfigError naming the file and
    line, and a command-line value (``--since``) checked by these parsers reports it as it is."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


def parse_duration(value: object, where: str = "value") -> float:
    """"30s", "15m", "1h", "2d", "500ms" or a plain number of seconds."""
    if isinstance(value, bool):
        raise _Invalid(where, f"expected a duration like \"30s\", \"15m\" or \"1h\", got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value.lower())):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise _Invalid(where, f"expected a duration like \"30s\", \"15m\" or \"1h\", got {value!r}")
    if seconds <= 0:
        raise _Invalid(where, f"must be positive, got {value!r}")
    return seconds


def _size(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (m := _SIZE.match(value)):
        return int(float(m.group(1)) * _SIZE_UNITS[m.group(2) and m.group(2).lower()])
    raise _Invalid(where, f"expected a size like \"10MB\" or a number of bytes, got {value!r}")


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(where, f"expected a non-empty string, got {value!r}")
    return value.strip()


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(where, f"expected true or false, got {value!r}")
    return value


def _posint(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(where, f"expected a positive whole number, got {value!r}")
    return value


def _strlist(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid(where, f"expected a list of non-empty strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _headers(value: object, where: str) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Invalid(where, 'expected a table of strings, e.g. { "Accept-Language" = "vi" }')
    return MappingProxyType(dict(value))


def _http_url(value: object, where: str) -> str:
    url = _str(value, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Invalid(where, f"expected an http:// or https:// URL, got {url!r}")
    return url


def _timezone(value: object, where: str) -> str:
    name = _str(value, where)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(where, f"unknown time zone {name!r} (e.g. \"Asia/Ho_Chi_Minh\")") from None
    return name


def _listen(value: object, where: str) -> str:
    addr = _str(value, where)
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _Invalid(where, f"expected HOST:PORT such as \"127.0.0.1:9100\", got {addr!r}")
    return addr


# ---------------------------------------------------------------------------------------------
# sizes and durations the other way, for the lines an operator reads (fetch errors, retry logs): here,
# beside the parsers, so that what an operator reads is in the units config.toml takes (MB, KB; s, m, h)


def human_size(n: int) -> str:
    """"10 MB", "512 KB", "100 bytes": for error lines an operator reads."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def human_duration(seconds: float) -> str:
    """"45s", "15m", "2.5h": for log lines an operator reads."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


# ---------------------------------------------------------------------------------------------
# table readers: check the keys against the allowed set, then parse each value


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, required: set[str] = set()) -> None:  # noqa: B006
    for key in table:
        if key not in allowed:
            hint = difflib.get_close_matches(key, sorted(allowed), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
            raise _Invalid(f"{where}.{key}" if where else key, f"unknown key{suggestion}")
    for key in sorted(required - set(table)):
        raise _Invalid(f"{where}.{key}" if where else key, "is required")


def _table(doc: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise _Invalid(name, f"expected a table [{name}]")
    return value


def _array_of_tables(doc: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = doc.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Invalid(name, f"expected [[{name}]] entries")
    return value


def _given(table: Mapping[str, Any], where: str, /, **parsers: Callable[[object, str], Any]) -> dict[str, Any]:
    """The optional keys ``table`` sets, each parsed, in the order given; keys are dataclass field names.

    A key the table leaves out is left out here too, so the dataclass applies its own default: each
    default is written once, on the field.
    """
    return {key: parse(table[key], f"{where}.{key}") for key, parse in parsers.items() if key in table}


def _prefixed(prefix: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """``[seeds] interval`` is the field ``Config.seeds_interval``."""
    return {prefix + key: value for key, value in given.items()}


def _default(cls: type[Any], name: str) -> Any:
    """The default a dataclass field declares, for a check that needs it before the dataclass is built."""
    default = next(f.default for f in fields(cls) if f.name == name)
    assert default is not MISSING, f"{cls.__name__}.{name} has no plain default"
    return default


def _unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise _Invalid(f"{where}[{i}].name", f"duplicate name {name!r}")
        seen.add(name)


def _read_feed(t: Mapping[str, Any], where: str) -> FeedConfig:
    keys = {"name", "url", "interval", "headers", "enabled", "full_text", "alert_on_first_fetch", "title", "category"}
    _check_keys(t, keys, where, required={"name", "url"})
    name = _str(t["name"], f"{where}.name")
    if name == SEEDS_SOURCE:
        raise _Invalid(f"{where}.name", f"{SEEDS_SOURCE!r} is reserved for the seed folder")
    return FeedConfig(
        name=name,
        url=_http_url(t["url"], f"{where}.url"),
        **_given(t, where, interval=parse_duration, headers=_headers, enabled=_bool, full_text=_bool,
                 alert_on_first_fetch=_bool, title=_str, category=_str),
    )


def _check_regexes(keywords: tuple[str, ...], where: str) -> None:
    for i, kw in enumerate(keywords):
        if kw.startswith(REGEX_PREFIX):
            try:
                re.compile(kw[len(REGEX_PREFIX) :])
            except re.error as exc:
                raise _Invalid(f"{where}[{i}]", f"invalid regular expression {kw!r}: {exc}") from None


def _read_rule(t: Mapping[str, Any], where: str) -> Rule:
    _check_keys(t, {"name", "keywords", "all", "exclude", "sources", "webhooks", "title", "spike_factor"}, where,
                {"name", "keywords"})
    rule = Rule(
        name=_str(t["name"], f"{where}.name"),
        keywords=_strlist(t["keywords"], f"{where}.keywords"),
        **_given(t, where, all=_strlist, exclude=_strlist, sources=_strlist, webhooks=_strlist, title=_str,
                 spike_factor=_factor),
    )
    if not rule.keywords:
        raise _Invalid(f"{where}.keywords", "needs at least one keyword")
    for attr in ("keywords", "all", "exclude"):
        _check_regexes(getattr(rule, attr), f"{where}.{attr} (rule {rule.name!r})")
    return rule


def _factor(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 1:
        raise _Invalid(where, f"expected a number above 1, such as 3, got {value!r}")
    return float(value)


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock(value: object, where: str) -> tuple[int, int, int]:
    m = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if m is None:
        raise _Invalid(where, f"expected a time of day like \"07:00\", got {value!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _choice(options: tuple[str, ...]) -> Callable[[object, str], str]:
    def parse(value: object, where: str) -> str:
        text = _str(value, where).lower()
        if text not in options:
            hint = difflib.get_close_matches(text, options, n=1)
            raise _Invalid(where, f"unknown value {text!r}" + (f" (did you mean {hint[0]!r}?)" if hint
                                                               else f" (one of {', '.join(options)})"))
        return text
    return parse


def _weekday(value: object, where: str) -> int:
    text = _str(value, where).lower()
    short = {day[:3]: day for day in WEEKDAYS}
    return WEEKDAYS.index(_choice(WEEKDAYS)(short.get(text, text), where))


def _formats(value: object, where: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(_choice(BRIEF_FORMATS)(v, f"{where}[{i}]")
                                 for i, v in enumerate(_strlist(value, where))))
    if not chosen:
        raise _Invalid(where, f"needs at least one of {', '.join(BRIEF_FORMATS)}")
    return chosen


def _read_briefing(t: Mapping[str, Any], where: str, base: Path) -> BriefingConfig:
    keys = {"name", "title", "at", "period", "weekday", "rules", "webhooks", "formats", "out", "min_sources"}
    _check_keys(t, keys, where, required={"name", "title"})
    name = _str(t["name"], f"{where}.name")
    if not _NAME.match(name):
        raise _Invalid(f"{where}.name", f"use letters, digits, '-', '_' or '.' (it names the files), got {name!r}")
    given = _given(t, where, at=_clock, period=_choice(BRIEF_PERIODS), weekday=_weekday, rules=_strlist,
                   webhooks=_strlist, formats=_formats, out=_str, min_sources=_posint)
    if "weekday" in given and given.get("period") != "week":
        raise _Invalid(f"{where}.weekday", 'only a weekly briefing (period = "week") has a weekday')
    given["out"] = str((base / given.get("out", _default(BriefingConfig, "out"))).resolve())
    return BriefingConfig(name=name, title=_str(t["title"], f"{where}.title"), **given)


def _read_webhook(t: Mapping[str, Any], where: str) -> WebhookConfig:
    keys = {"name", "url", "secret", "secret_env", "format", "chat_id", "max_alerts_per_pass", "timeout",
            "headers", "enabled"}
    _check_keys(t, keys, where, required={"name", "url"})
    name = _str(t["name"], f"{where}.name")
    if "secret" in t and "secret_env" in t:
        raise _Invalid(where, "give either secret or secret_env, not both")
    secret: str | None = _given(t, where, secret=_str).get("secret")
    var: str | None = None
    if "secret_env" in t:
        var = _str(t["secret_env"], f"{where}.secret_env")
        secret = os.environ.get(var)
        if not secret:
            raise _Invalid(f"{where}.secret_env", f"environment variable {var} is not set")
    if secret is not None and not secret.startswith("whsec_"):
        raise _Invalid(f"{where}.secret", "a signing secret looks like \"whsec_<base64>\"")
    if secret is not None:
        _check_secret(secret, where)
    chosen = _given(t, where, format=_str)
    fmt = chosen.get("format", _default(WebhookConfig, "format"))
    if fmt not in WEBHOOK_FORMATS:
        hint = difflib.get_close_matches(fmt, WEBHOOK_FORMATS, n=1)
        raise _Invalid(f"{where}.format", f"unknown format {fmt!r}" + (f" (did you mean {hint[0]!r}?)" if hint
                                                                        else f" (one of {', '.join(WEBHOOK_FORMATS)})"))
    chosen |= _given(t, where, chat_id=lambda v, w: str(v) if isinstance(v, int | str) else _str(v, w))
    if fmt == "telegram" and chosen.get("chat_id") is None:
        raise _Invalid(f"{where}.chat_id", "is required for format = \"telegram\"")
    return WebhookConfig(
        name=name,
        url=_http_url(t["url"], f"{where}.url"),
        secret=secret,
        secret_env=var,
        **chosen,
        **_given(t, where, max_alerts_per_pass=_posint, timeout=parse_duration, headers=_headers, enabled=_bool),
    )


def _check_secret(secret: str, where: str) -> None:
    import base64  # noqa: PLC0415 - only needed when a secret is configured
    import binascii  # noqa: PLC0415

    try:
        base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise _Invalid(f"{where}.secret", "the part after \"whsec_\" must be base64") from None


def _read_fetch(t: Mapping[str, Any]) -> FetchSettings:
    w = "fetch"
    _check_keys(t, {"concurrency", "per_host", "timeout", "max_bytes", "max_redirects", "user_agent",
                    "stale_after", "max_backoff"}, w)
    return FetchSettings(**_given(t, w, concurrency=_posint, per_host=_posint, timeout=parse_duration,
                                  max_bytes=_size, max_redirects=_posint, user_agent=_str,
                                  stale_after=parse_duration, max_backoff=parse_duration))


def _share(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise _Invalid(where, f"expected a number above 0 and at most 1, such as 0.5, got {value!r}")
    return float(value)


def _read_stories(t: Mapping[str, Any]) -> StorySettings:
    w = "stories"
    _check_keys(t, {"enabled", "window", "threshold", "lead_window", "alert_each_copy"}, w)
    return StorySettings(**_given(t, w, enabled=_bool, window=parse_duration, threshold=_share,
                                  lead_window=parse_duration, alert_each_copy=_bool))


def _build(doc: Mapping[str, Any], path: Path) -> Config:
    base = path.parent
    _check_keys(doc, {"service", "storage", "seeds", "delivery", "http", "fetch", "stories", "feeds", "rules",
                      "webhooks", "briefings"}, "")

    service = _table(doc, "service")
    _check_keys(service, {"timezone", "shutdown_timeout", "checkpoint_interval", "watch_config"}, "service")
    storage = _table(doc, "storage")
    _check_keys(storage, {"path"}, "storage")
    seeds = _table(doc, "seeds")
    _check_keys(seeds, {"path", "interval", "watch", "follow_symlinks", "rescan_interval",
                        "full_rescan_interval"}, "seeds")
    delivery = _table(doc, "delivery")
    _check_keys(delivery, {"interval"}, "delivery")
    http = _table(doc, "http")
    _check_keys(http, {"listen"}, "http")

    feeds = [_read_feed(t, f"feeds[{i}]") for i, t in enumerate(_array_of_tables(doc, "feeds"))]
    rules = [_read_rule(t, f"rules[{i}]") for i, t in enumerate(_array_of_tables(doc, "rules"))]
    hooks = [_read_webhook(t, f"webhooks[{i}]") for i, t in enumerate(_array_of_tables(doc, "webhooks"))]
    _unique([f.name for f in feeds], "feeds")
    _unique([r.name for r in rules], "rules")
    _unique([h.name for h in hooks], "webhooks")
    briefings = [_read_briefing(t, f"briefings[{i}]", base) for i, t in enumerate(_array_of_tables(doc, "briefings"))]
    _unique([b.name for b in briefings], "briefings")

    hook_names = {h.name for h in hooks}
    source_names = {f.name for f in feeds} | {SEEDS_SOURCE}
    for i, rule in enumerate(rules):
        _known(rule.webhooks, f"rules[{i}].webhooks", "webhook", hook_names)
        _known(rule.sources, f"rules[{i}].sources", "source", source_names)
    rule_names = {r.name for r in rules}
    for i, briefing in enumerate(briefings):
        _known(briefing.rules, f"briefings[{i}].rules", "rule", rule_names)
        _known(briefing.webhooks, f"briefings[{i}].webhooks", "webhook", hook_names)

    return Config(
        path=path,
        # The two paths have no dataclass default: a default path depends on the config file's folder.
        db_path=(base / _given(storage, "storage", path=_str).get("path", "state/news.db")).resolve(),
        seeds_path=(base / _given(seeds, "seeds", path=_str).get("path", "seeds")).resolve(),
        **_prefixed("seeds_", _given(seeds, "seeds", interval=parse_duration, watch=_bool,
                                                    follow_symlinks=_bool, rescan_interval=parse_duration,
                                                    full_rescan_interval=parse_duration)),
        **_given(service, "service", timezone=_timezone, shutdown_timeout=parse_duration,
                 checkpoint_interval=parse_duration, watch_config=_bool),
        **_prefixed("delivery_", _given(delivery, "delivery", interval=parse_duration)),
        **_prefixed("http_", _given(http, "http", listen=_listen)),
        fetch=_read_fetch(_table(doc, "fetch")),
        stories=_read_stories(_table(doc, "stories")),
        feeds=tuple(feeds),
        rules=tuple(rules),
        webhooks=tuple(hooks),
        briefings=tuple(briefings),
    )


def _known(names: Sequence[str], where: str, kind: str, known: set[str]) -> None:
    """Every entry of a list that names other config entries (``rules[0].webhooks``) names one that exists."""
    for j, name in enumerate(names):
        if name not in known:
            raise _Invalid(f"{where}[{j}]", _unknown_name(kind, name, known))


def _unknown_name(kind: str, name: str, known: set[str]) -> str:
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    return f"unknown {kind} {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")


def resolve_path(explicit: str | os.PathLike[str] | None) -> Path:
    """--config wins, then $NEWSWATCH_CONFIG, then ./config.toml."""
    return Path(explicit or os.environ.get(ENV_VAR) or "config.toml")


def load(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; every problem is a one-line ``ConfigError``."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror or exc}") from None
    return replace(loads(raw.decode("utf-8", errors="replace"), p), digest=file_digest(raw))


def file_digest(raw: bytes) -> str:
    """What ``Config.digest`` holds: the watcher compares it with the file's bytes now."""
    return hashlib.sha256(raw).hexdigest()


def loads(text: str, path: Path) -> Config:
    """Validate config text as if it were the file at ``path`` (relative paths resolve against it)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _build(doc, path.resolve())
    except _Invalid as exc:
        line = _line_of(text, exc.where)
        raise ConfigError(f"{path}{f' line {line}' if line else ''}: {exc}") from None


def _line_of(text: str, where: str) -> int | None:
    """Best-effort line number of the key a message is about (tomllib keeps no positions)."""
    key = re.sub(r"\[\d+\]", "", where.split(" ", maxsplit=1)[0]).rsplit(".", 1)[-1]
    if not key:
        return None
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    hits = [i for i, line in enumerate(text.splitlines(), 1) if pattern.match(line)]
    return hits[0] if len(hits) == 1 else None
