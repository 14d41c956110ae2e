"""Length-preserving views of a normalized text: folded (no diacritics, đ→d), and word edges in them.

Matching finds keywords in views of the text and reports spans of the original text, so every view must
keep every character at its index. The lower-cased view is ``text.chars.lower_view`` (the docref scanner
uses it too). The folded view is ``fold`` through the same ``text.chars.FoldTable``, except that a stray
combining mark, which ``fold`` drops, is kept as it is.

A folded view costs a pass through a translation table (~30 ns a character). For a few ASCII keywords
``folded_regex`` avoids it: the keyword becomes a regex of character classes over the text itself.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from daemon.text.chars import FoldTable, is_word_char

_FOLD_IN_PLACE = FoldTable(keep_marks=True)  # the project's fold, but a stray combining mark keeps its place


def fold_view(text: str) -> str:
    """Case- and diacritic-free: where plain ASCII keywords are looked for ("dang bo" finds "Đảng bộ")."""
    return text.translate(_FOLD_IN_PLACE)


@cache
def _folding_into() -> dict[str, str]:
    """For each character, every other character whose ``fold_view`` is that character ("a" ← "Ắ", "ạ", …).

    Only characters with a canonical decomposition or a lower case, and đ/Đ, can fold to anything but
    themselves, so one pass over the BMP's decomposition data finds them all (about 30 ms, once per
    process). Outside the BMP only historic scripts and musical symbols decompose; they are left out.
    """
    groups: dict[str, list[str]] = {}
    for code in range(0x10000):
        ch = chr(code)
        decomposition = unicodedata.decomposition(ch)
        if ch in "đĐ" or ch.lower() != ch or (decomposition and not decomposition.startswith("<")):
            folded = fold_view(ch)
            if folded != ch:
                groups.setdefault(folded, []).append(ch)
    return {folded: "".join(chars) for folded, chars in groups.items()}


def folded_regex(pattern: str) -> re.Pattern[str]:
    """A regex that finds, in the text itself, exactly the stretches whose ``fold_view`` is ``pattern``.

    "dang bo" becomes ``[dDđĐ…][aAàáảãạăắ…]ng…``: a few plain ASCII keywords are then found in one C-level
    regex pass each, with no folded copy of the article built at all. Spans are the text's own.
    """
    into = _folding_into()
    parts = []
    for ch in pattern:
        chars = (ch if fold_view(ch) == ch else "") + into.get(ch, "")
        if not chars:
            parts.append("(?!)")  # nothing folds to it: the pattern can never match
        elif len(chars) == 1:
            parts.append(re.escape(chars))
        else:
            parts.append("[" + "".join(map(re.escape, chars)) + "]")
    return re.compile("".join(parts))


def whole_word(text: str, start: int, end: int) -> bool:
    """Is ``text[start:end]`` not glued to a letter or digit on either side?

    An edge of the match that is itself punctuation ("#", "-") needs no boundary there.
    """
    if start > 0 and is_word_char(text[start]) and is_word_char(text[start - 1]):
        return False
    return not (end < len(text) and is_word_char(text[end - 1]) and is_word_char(text[end]))


def has_diacritics(keyword: str) -> bool:
    """A keyword with any non-ASCII letter asks for its diacritics exactly ("Đảng" is not "đang")."""
    return any(not ch.isascii() and (ch.isalpha() or unicodedata.combining(ch)) for ch in keyword)
