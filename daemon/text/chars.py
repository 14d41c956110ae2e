"""Per-character definitions that more than one stage relies on, kept once so the stages agree.

Tone fixing (``text.normalize``) and the matcher's whole-word test (``match.textforms``) must draw word
edges in the same places: a tone is moved only at the end of a syllable, and a keyword fires only at the
edge of a word. Both ask ``is_word_char``, which lives here, below ``text`` and ``match`` alike. It is
part of the canonical form: a change to it is a change to ``normalize`` (bump ``HASH_VERSION``).
"""

from __future__ import annotations

import unicodedata


def is_word_char(ch: str) -> bool:
    """Letters and digits make words ("57" is not in "570" or "57a"); a combining mark belongs to its letter."""
    return ch.isalnum() or ch == "_" or unicodedata.combining(ch) != 0
