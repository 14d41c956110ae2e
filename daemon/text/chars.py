"""Per-character definitions that more than one stage relies on, kept once so the stages agree.

They live here, below ``text`` and ``match`` alike:

* ``is_word_char``: tone fixing (``text.normalize``) and the matcher's whole-word test (``match.textforms``)
  must draw word edges in the same places: a tone is moved only at the end of a syllable, and a keyword
  fires only at the edge of a word. It is part of the canonical form: a change to it is a change to
  ``normalize`` (bump ``HASH_VERSION``).
* ``lower_view``: the document-reference scanner (``text.docrefs``) and the matcher both search a
  lower-cased copy and report spans of the original, so both need a lower case that moves no character.
* ``FoldTable``: ``fold`` (the folded text kept for search) and the matcher's folded view must fold every
  letter alike, or a plain ASCII keyword would find what search does not. They differ on purpose in one
  thing only, a combining mark on its own: search drops it, the matcher's view keeps every index.
"""

from __future__ import annotations

import unicodedata


def is_word_char(ch: str) -> bool:
    """Letters and digits make words ("57" is not in "570" or "57a"); a combining mark belongs to its letter."""
    return ch.isalnum() or ch == "_" or unicodedata.combining(ch) != 0


class _LowerTable(dict[int, str]):
    """``str.translate`` table that learns each character once: lower case, or itself if that changes length."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        low = ch.lower()
        out = low if len(low) == 1 else ch
        self[code] = out
        return out


_LOWER = _LowerTable()


def lower_view(text: str) -> str:
    """Lower case with every character at its index: ``str.lower`` may not keep it ("İ" lowers to two)."""
    low = text.lower()  # fast path: Vietnamese never changes length when lower-cased
    return low if len(low) == len(text) else text.translate(_LOWER)


class FoldTable(dict[int, str | None]):
    """``str.translate`` table that learns each character's folded form once.

    Letters lose their marks and case (đ/Đ → d, which Unicode never decomposes). A combining mark on its
    own (only in NFD or broken input) belongs to the letter before it: with ``keep_marks`` it stays as it
    is, so the folded text keeps every character at its index; without, it is dropped.
    """

    def __init__(self, *, keep_marks: bool) -> None:
        super().__init__()
        self.keep_marks = keep_marks

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        if unicodedata.combining(ch):
            out: str | None = ch if self.keep_marks else None
        elif ch in "đĐ":
            out = "d"
        else:
            base = unicodedata.normalize("NFD", ch)[0]
            out = (base.lower() or base)[:1]
        self[code] = out
        return out
