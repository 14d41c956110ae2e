"""What of an article is compared with other articles: a sample of its syllable shingles, hashed.

Outlets that republish a report keep its sentences and change what surrounds them: a new title, a new
opening sentence, an outlet prefix ("(Chinhphu.vn) - "), image captions, a trimmed ending, a moved
paragraph, a word changed here and there. The unit compared is a *shingle*: four consecutive syllables
of the normalized text, case aside. A changed word costs a copy the four shingles it is in, a dropped
paragraph its own shingles, and nothing else.

Only shingles that start at an *anchor* syllable are kept: one syllable in ``SAMPLE`` of the vocabulary
(by hash; the very common ones, "của", "và", "các", never), so the same shingles are kept in every copy
and the share two articles have in common estimates the share of all their shingles.

The sketch runs once per new article on the single writer's path of a feed poll, so it is written for
CPython's speed: every per-syllable step is a C loop (``str.split``, ``map`` over a dictionary that
caches each syllable's hash and whether it anchors, the hash of each tuple of four syllables' hashes,
``compress``): no Python code runs per syllable or per shingle. Lower-casing is done once per distinct
syllable (in the cache), not once per article. Keys are never stored: the store recomputes them from
the text when it rebuilds its window (``daemon.stories.window``), so they need only agree between the
processes of one installation (an int tuple's hash is not randomized, unlike a string's).

Reports of different events written from the same formulas (two provinces' conferences on one
resolution) share whole sentences; what tells them apart is their figures: dates, counts, percentages,
amounts. A copy keeps them. So ``numbers`` keeps the figures of the title and body (years and ranges
of years left out: every report of a season has them), and ``assign`` asks two articles to agree on
them too.

Two sets of shingles are kept: ``body`` (what copies share) and ``lead`` (the shingles of the title and
the first ``LEAD_CHARS`` characters of the body, sampled more densely): a feed item that carries only a
title and a lead is compared by its lead (``assign``).
"""

from __future__ import annotations

import re
import zlib
from itertools import compress, repeat
from operator import xor

from daemon.models import Sketch

__all__ = ["Sketch", "figures", "sketch"]

K = 4  # syllables per shingle
SAMPLE = 3  # one syllable in SAMPLE (of the vocabulary) is an anchor of the body's shingles
LEAD_SAMPLE = 3  # the lead is short: denser
SHORT_WORDS = 150  # a body shorter than this many syllables is a title-and-lead item, compared by its lead
LEAD_CHARS = 400  # the lead: the start of the body, about the length of a feed item's description
_LEAD_SALT = 0x9E3779B9  # the lead's keys start from another value: their own key space
_BOUND = 500_000  # syllables cached: a feed of random tokens must not grow the caches forever

# Syllables too common to anchor a shingle: what follows them is as common as they are.
STOP = frozenset((
    "của", "và", "các", "những", "là", "có", "được", "trong", "cho", "với", "đã", "để", "này", "một", "người",
    "không", "về", "theo", "tại", "từ", "đến", "năm", "ngày", "đồng", "chí", "thực", "hiện", "tỉnh", "ủy",
    "đảng", "công", "tác", "nhiệm", "vụ", "hội", "nghị", "cấp", "thành", "phố", "ban", "trên", "đó", "khi",
    "đây", "đều", "cũng", "như", "sẽ", "đang", "vào", "ra", "lại", "thì", "mà", "nhưng", "hay", "hoặc", "bộ",
))


class _Hashes(dict[str, int]):
    """Syllable as written -> CRC-32 of its lower-cased form."""

    def __missing__(self, word: str) -> int:
        value = zlib.crc32(word.lower().encode())
        if len(self) < _BOUND:
            self[word] = value
        return value


class _Anchors(dict[str, bool]):
    """Syllable as written -> whether it anchors a shingle: one in ``sample`` by hash, never a common one."""

    def __init__(self, sample: int) -> None:
        super().__init__()
        self.sample = sample

    def __missing__(self, word: str) -> bool:
        value = _HASHES[word] % self.sample == 0 and word.lower() not in STOP
        if len(self) < _BOUND:
            self[word] = value
        return value


_HASHES = _Hashes()
_BODY = _Anchors(SAMPLE)
_LEAD = _Anchors(LEAD_SAMPLE)


# A figure, not the number of a document ("57" in "57-NQ/TW", "13" in "13/2023/NĐ-CP": a letter follows).
# The check that no letter comes before it is made after its first digit, not at every character: so the
# regular expression engine skips to the digits (4× faster than with the look-behind first).
_FIGURE = re.compile(r"\d(?<![^\W\d_]\d)\d*(?:[.,/:-]\d+)*(?![.,/:-]?[^\W\d_])(?![.,/:-]?\d)")
_NOT_A_FIGURE = re.compile(r"(?:19|20)\d\d(?:-(?:19|20)\d\d)?")  # a year, a range of years


def figures(text: str) -> tuple[int, ...]:
    """The figures of ``text``, hashed: what two reports from one set of formulas differ in."""
    out: dict[int, None] = {}
    for token in _FIGURE.findall(text):
        if not _NOT_A_FIGURE.fullmatch(token):
            out[zlib.crc32(token.encode())] = None
    return tuple(out)


def _keys(words: list[str], ids: list[int], anchors: _Anchors, salt: int) -> tuple[int, ...]:
    """The keys of the shingles that start at an anchor: the hash of their four syllables' hashes.

    ``compress`` keeps the anchored ones of the tuples ``zip`` makes (it reuses one tuple for those it
    drops), and those are hashed: C loops, no Python code per shingle.
    """
    shingles = compress(zip(ids, ids[1:], ids[2:], ids[3:], strict=False), map(anchors.__getitem__, words))
    hashes = map(hash, shingles)
    if salt:
        hashes = map(xor, hashes, repeat(salt))
    return tuple(dict.fromkeys(hashes))


def sketch(title: str, body: str, *, split: tuple[list[str], list[str]] | None = None) -> Sketch:
    """The sketch of a normalized article (``prepare``'s title and body).

    ``split``: ``(title.split(), body.split())`` when the caller has them (``prepare`` splits once for the
    folded copy and this; the split is a tenth of a sketch's time).
    """
    heading, words = split if split is not None else (title.split(), body.split())
    ids = list(map(_HASHES.__getitem__, words))
    # A body no longer than the lead is all lead (a feed item's, mostly): its words are counted already.
    n = len(words) if len(body) <= LEAD_CHARS else len(body.lstrip()[:LEAD_CHARS].split())
    lead = heading + words[:n]
    lead_ids = list(map(_HASHES.__getitem__, heading)) + ids[:n]
    return Sketch(_keys(words, ids, _BODY, 0), _keys(lead, lead_ids, _LEAD, _LEAD_SALT), len(words) < SHORT_WORDS,
                  figures(f"{title}\n{body}"))
