"""Keyword rules that understand Vietnamese: diacritics, tone placement, folded ASCII, document references.

Build ``Matcher(config.rules)`` once per config load (``ConfigError`` for a bad regex), then call
``matcher.match(title, body, source)`` per article: pure, no I/O, safe to share between threads.
"""

from daemon.match.matcher import MAX_MATCHES_PER_RULE, Matcher

__all__ = ["MAX_MATCHES_PER_RULE", "Matcher"]
