"""What of an article is compared with other articles: a sample of its syllable shingles, hashed.

Outlets that republish a report keep its sentences and change what surrounds them: a new title, a new
opening sentence, an outlet prefix ("(Chinhphu.vn) - "), image captions, a trimmed ending, a moved
paragraph, a word changed here and there. The unit compared is a *shingle*: four consecutive syllables
of the lower-cased normalized text. A changed word costs a copy the four shingles it is in, a dropped
paragraph its own shingles, and nothing else.

Only shingles that start at an *anchor* syllable are kept: one syllable in ``SAMPLE`` of the vocabulary
(by hash; the very common ones, "của", "và", "các", never), so the same shingles are kept in every copy
and the share two articles have in common estimates the share of all their shingles. Choosing by the
first syllable costs one dictionary look-up per syllable (the answer is cached per syllable), where
hashing every shingle first would cost a hash per syllable: a sketch is a few tens of microseconds
(bench/bench_stories.py). Syllables are split at white space only (the text is normalized), so a
comma stays on its word: copies keep their punctuation.

Reports of different events written from the same formulas (two provinces' conferences on one
resolution) share whole sentences; what tells them apart is their figures: dates, counts, percentages,
amounts. A copy keeps them. So ``numbers`` keeps the figures of the title and body (years and ranges
of years left out: every report of a season has them), and ``assign`` asks two articles to agree on
them too.

Two sets of shingles are kept: ``body`` (what copies share) and ``lead`` (the shingles of the title and the first
``LEAD_CHARS`` characters of the body, sampled more densely, in their own key space): a feed item that
carries only a title and a lead is compared by its lead (``assign``).
"""

from __future__ import annotations

import re
import zlib
from itertools import compress

from daemon.models import Sketch

__all__ = ["Sketch", "figures", "sketch"]

K = 4  # syllables per shingle
SAMPLE = 5  # one syllable in SAMPLE (of the vocabulary) is an anchor of the body's shingles
LEAD_SAMPLE = 3  # the lead is short: denser
SHORT_WORDS = 150  # a body shorter than this many syllables is a title-and-lead item, compared by its lead
LEAD_CHARS = 400  # the lead: the start of the body, about the length of a feed item's description
_LEAD_SEED = 0x9E3779B9  # the lead's keys are hashed from another starting value: their own key space

# Syllables too common to anchor a shingle: what follows them is as common as they are.
STOP = frozenset((
    "của", "và", "các", "những", "là", "có", "được", "trong", "cho", "với", "đã", "để", "này", "một", "người",
    "không", "về", "theo", "tại", "từ", "đến", "năm", "ngày", "đồng", "chí", "thực", "hiện", "tỉnh", "ủy",
    "đảng", "công", "tác", "nhiệm", "vụ", "hội", "nghị", "cấp", "thành", "phố", "ban", "trên", "đó", "khi",
    "đây", "đều", "cũng", "như", "sẽ", "đang", "vào", "ra", "lại", "thì", "mà", "nhưng", "hay", "hoặc", "bộ",
))


class _Anchors(dict[str, int]):
    """Syllable -> its anchor hash (0: not an anchor), computed once per syllable seen."""

    def __init__(self, sample: int) -> None:
        super().__init__()
        self.sample = sample

    def __missing__(self, word: str) -> int:
        h = zlib.crc32(word.encode())
        value = 0 if word in STOP or h % self.sample or len(self) > 500_000 else h | 1
        if len(self) <= 500_000:  # bounded: a feed of random tokens must not grow it forever
            self[word] = value
        return value


_BODY = _Anchors(SAMPLE)
_LEAD = _Anchors(LEAD_SAMPLE)


# A figure, not the number of a document ("57" in "57-NQ/TW", "13" in "13/2023/NĐ-CP": a letter follows).
_FIGURE = re.compile(r"(?<![^\W\d_])\d+(?:[.,/:-]\d+)*(?![.,/:-]?[^\W\d_])(?![.,/:-]?\d)")
_NOT_A_FIGURE = re.compile(r"(?:19|20)\d\d(?:-(?:19|20)\d\d)?")  # a year, a range of years


def figures(text: str) -> tuple[int, ...]:
    """The figures of ``text``, hashed: what two reports from one set of formulas differ in."""
    out: dict[int, None] = {}
    for token in _FIGURE.findall(text):
        if not _NOT_A_FIGURE.fullmatch(token):
            out[zlib.crc32(token.encode())] = None
    return tuple(out)


def _keys(words: list[str], anchors: _Anchors, seed: int) -> tuple[int, ...]:
    """62-bit keys (non-negative in SQLite's signed integers) of the shingles starting at an anchor.

    The anchors are found by ``compress`` over ``map``: the loop over every syllable runs in C.
    """
    out: dict[int, None] = {}
    for i in compress(range(len(words) - K + 1), map(anchors.__getitem__, words)):
        b = " ".join(words[i : i + K]).encode()
        out[((zlib.crc32(b, seed) & 0x3FFFFFFF) << 32) | zlib.crc32(b)] = None
    return tuple(out)


def sketch(title: str, body: str) -> Sketch:
    """The sketch of a normalized article (``prepare``'s title and body)."""
    words = body.lower().split()
    lead = f"{title}\n{body.lstrip()[:LEAD_CHARS]}".lower().split()
    return Sketch(_keys(words, _BODY, 0), _keys(lead, _LEAD, _LEAD_SEED), len(words) < SHORT_WORDS,
                  figures(f"{title}\n{body}"))
