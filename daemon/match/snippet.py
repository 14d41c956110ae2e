"""The few words around a match that an alert shows, with the match marked «like this»."""

from __future__ import annotations

import re

CONTEXT = 80  # characters of context wanted on each side
_SPACES = re.compile(r"\s+")


def _squash(s: str) -> str:
    if s.isprintable() and "  " not in s:
        return s  # only single plain spaces (every other white-space character is unprintable): nothing to do
    return _SPACES.sub(" ", s)


def snippet(text: str, start: int, end: int, context: int = CONTEXT) -> str:
    """About ``context`` characters either side of ``text[start:end]``, cut only between words.

    A cut side gets "…"; line breaks become spaces so the snippet fits one chat line.
    """
    left_from = max(0, start - context)
    if left_from > 0 and not text[left_from - 1].isspace():
        # Drop the partial word at the cut; if the context is one long word, keep nothing of it.
        space = text.find(" ", left_from, start)
        space_nl = text.find("\n", left_from, start)
        cuts = [i for i in (space, space_nl) if i != -1]
        left_from = min(cuts) + 1 if cuts else start
    right_to = min(len(text), end + context)
    if right_to < len(text) and not text[right_to].isspace():
        cuts = [i for i in (text.rfind(" ", end, right_to + 1), text.rfind("\n", end, right_to + 1)) if i != -1]
        right_to = max(cuts) if cuts else end
    left = _squash(text[left_from:start]).lstrip()
    right = _squash(text[end:right_to]).rstrip()
    prefix = "…" if left_from > 0 else ""
    suffix = "…" if right_to < len(text) else ""
    return f"{prefix}{left}«{_squash(text[start:end])}»{right}{suffix}"
