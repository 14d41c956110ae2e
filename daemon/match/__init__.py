"""Keyword rules that understand Vietnamese: diacritics, tone placement, folded ASCII, document references.

    m = Matcher(config.rules)                # compile once; ConfigError for a bad regex
    m.match(title, body, source) -> [Match]  # pure, thread-safe, no I/O
"""

from daemon.match.matcher import MAX_MATCHES_PER_RULE, Matcher

__all__ = ["MAX_MATCHES_PER_RULE", "Matcher"]
