"""The few words around a match that an alert shows, with the match marked «like this».

A seed file without a title line gives its lead's first sentence as the title, so its body starts with
the title again (a feed whose description opens with the headline does the same). Every display shows
the title on its own line, so a snippet that reaches back into that repeated title, or a second report
of a keyword found "in the body" there, only says the same sentence twice: ``lead_overlap`` finds that
stretch so the matcher and the search can leave it out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CONTEXT = 80  # characters of context wanted on each side
_SPACES = re.compile(r"\s+")
_AFTER_TITLE = ".:;,!?…-–—"  # what may separate a title from the rest of its lead sentence
MARK_OPEN, MARK_CLOSE = "«", "»"


def _squash(s: str) -> str:
    if s.isprintable() and "  " not in s:
        return s  # only single plain spaces (every other white-space character is unprintable): nothing to do
    return _SPACES.sub(" ", s)


def lead_overlap(title: str, body: str) -> int:
    """Where the body's own text begins after repeating the title (0 when it does not start with it).

    A title cut to length ends in "…": what precedes it must still be the body's start. The
    punctuation and space that followed the title in the lead are counted as part of the repeat.
    """
    head = title[:-1].rstrip() if title.endswith("…") else title
    if not head or not body.startswith(head):
        return 0
    end = len(head)
    while end < len(body) and (body[end].isspace() or body[end] in _AFTER_TITLE):
        end += 1
    return end


def snippet(text: str, start: int, end: int, context: int = CONTEXT, floor: int = 0) -> str:
    """About ``context`` characters either side of ``text[start:end]``, cut only between words.

    A cut side gets "…"; line breaks become spaces so the snippet fits one chat line. The left context
    never reaches before ``floor`` (the end of a repeated title) when the match itself lies after it.
    """
    lowest = floor if start >= floor else 0
    left_from = max(lowest, start - context)
    if left_from > 0 and not text[left_from - 1].isspace():
        # Drop the partial word at the cut; if the context is one long word, keep nothing of it.
        space = text.find(" ", left_from, start)
        space_nl = text.find("\n", left_from, start)
        if space == -1:
            space = space_nl
        elif space_nl != -1:
            space = min(space, space_nl)
        left_from = space + 1 if space != -1 else start
    right_to = min(len(text), end + context)
    if right_to < len(text) and not text[right_to].isspace():
        right_to = max(text.rfind(" ", end, right_to + 1), text.rfind("\n", end, right_to + 1))
        right_to = end if right_to == -1 else right_to
    shown = text[left_from:right_to]
    if shown.isprintable() and "  " not in shown:  # as _squash sees each part: nothing to squash (the usual)
        left, matched, right = text[left_from:start].lstrip(), text[start:end], text[end:right_to].rstrip()
    else:
        left = _squash(text[left_from:start]).lstrip()
        matched = _squash(text[start:end])
        right = _squash(text[end:right_to]).rstrip()
    prefix = "…" if left_from > 0 else ""
    suffix = "…" if right_to < len(text) else ""
    return f"{prefix}{left}{MARK_OPEN}{matched}{MARK_CLOSE}{right}{suffix}"


def mark(text: str, phrases: Iterable[str]) -> str:
    """``text`` whole, every occurrence of each phrase marked «like this» (overlaps: the earlier wins).

    For a title: it is shown in full anyway, so marking it says why it matched without a snippet
    that would repeat it.
    """
    spans: list[tuple[int, int]] = []
    for phrase in {p for p in phrases if p}:
        at = text.find(phrase)
        while at >= 0:
            spans.append((at, at + len(phrase)))
            at = text.find(phrase, at + len(phrase))
    out, pos = [], 0
    for s, e in sorted(spans):
        if s < pos:
            continue
        out += [text[pos:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        pos = e
    out.append(text[pos:])
    return "".join(out)
