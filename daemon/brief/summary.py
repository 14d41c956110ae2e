"""A story's summary: one to three sentences taken from its text (pure).

The reader wants why the story is in the briefing: the sentences where the rule's words stand, in text
order; where no sentence holds them (a hit in the title only), the lead. The body's start that repeats
the title is skipped (``lead_overlap``), and so are caption lines ("… Ảnh: NGỌC PHÚ") and datelines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from daemon.deliver.payload import excerpt
from daemon.match.snippet import lead_overlap

MAX_SENTENCES = 3
MAX_CHARS = 420  # a summary is cut here, at a word, with "…"
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”»)]?\s+(?=[\"“«(]?[A-ZĐÀ-Ỹ0-9])|\n+")
_CAPTION = re.compile(r"(?:^|\s)Ảnh\s*:|\(Ảnh[^)]*\)\s*$|^\d{1,2}:\d{2},? \d{1,2}/\d{1,2}/\d{4}")
_PREFIX = re.compile(r"^(?:\(?[A-ZĐ][\w.]{1,15}\)?\s*[-–—]\s+)")  # "ĐNO - ", "(TTXVN) - "


def sentences(body: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(body)]
    return [p for p in parts if len(p) > 20 and not _CAPTION.search(p)]


def _clip(text: str) -> str:
    return excerpt(text, MAX_CHARS)


def summarize(title: str, body: str, matched: Sequence[str] = ()) -> str:
    """Up to three sentences of ``body`` containing a matched text; else its first sentences."""
    text = body[lead_overlap(title, body):]
    found = sentences(text)
    if not found:
        return _clip(text or title)
    wanted = [m.lower() for m in matched if m]
    chosen = [s for s in found if any(w in s.lower() for w in wanted)][:MAX_SENTENCES]
    if not chosen:
        chosen, size = [], 0
        for s in found[:MAX_SENTENCES]:
            if chosen and size + len(s) > MAX_CHARS:
                break
            chosen.append(s)
            size += len(s)
    chosen[0] = _PREFIX.sub("", chosen[0])
    return _clip(" ".join(chosen))


def citing_sentence(body: str, start: int, end: int) -> str:
    """The sentence around [start, end) of ``body``, cut to MAX_CHARS around the citation."""
    left = max(body.rfind(". ", 0, start), body.rfind("\n", 0, start)) + 1
    stops = [i for i in (body.find(". ", end), body.find("\n", end)) if i >= 0]
    right = min(stops) + 1 if stops else len(body)
    sentence = body[left:right].strip()
    if len(sentence) > MAX_CHARS:
        offset = max(0, start - left - MAX_CHARS // 2)
        sentence = ("…" if offset else "") + _clip(sentence[offset:])
    return sentence
