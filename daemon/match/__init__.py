"""Keyword rules that understand Vietnamese: diacritics, tone placement, folded ASCII, document references.

Build ``Matcher(config.rules)`` once per config load (``ConfigError`` for a bad regex), then call
``matcher.match(title, body, source)`` per article: pure, no I/O, safe to share between threads.

``Matcher`` is imported from ``matcher`` on first use: importing any submodule runs this file first, and
`newswatch search` needs only ``snippet``, not the compiler and its document-reference patterns (a tenth
of its start; tests/test_startup.py checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daemon.match.matcher import MAX_MATCHES_PER_RULE, Matcher

__all__ = ["MAX_MATCHES_PER_RULE", "Matcher"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from daemon.match import matcher  # noqa: PLC0415

        return getattr(matcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
