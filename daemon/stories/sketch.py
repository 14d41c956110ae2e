"""What of an article is compared with other articles: a sample of its clauses, hashed.

Outlets that republish a report keep its sentences and change what surrounds them: a new title, a new
opening sentence, an outlet prefix ("(Chinhphu.vn) - "), image captions, a trimmed ending, a moved
paragraph, a word changed here and there. So the unit compared is a *clause* of normalized text (the
words between two punctuation marks or line breaks, lower-cased), at least ``MIN_WORDS`` syllables long:
an edit costs the copy the one or two clauses it touches and nothing else. Splitting on punctuation runs
in C (a regex split), and hashing a clause is one call, so a sketch costs a few tens of microseconds where
syllable shingles cost a Python step per syllable (measured: bench/bench_stories.py).

Only the clauses whose hash falls in one bucket of ``SAMPLE`` are kept (the same clause is kept or left
out in every article alike), so the store indexes a fraction of them; the share of sampled clauses two
articles have in common estimates the share of all their clauses (Broder's mod-m sampling).

Two sets are kept: ``body`` (the body's clauses: what copies share) and ``lead`` (every clause of the
title and the first ``LEAD_CHARS`` characters of the body, unsampled, in their own key space): a feed
item that carries only a title and a lead has too few body clauses to compare, and is compared by its
lead instead (``assign``).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MIN_WORDS = 5  # shorter clauses ("Sáng 12-3", "bí thư tỉnh ủy") say nothing about which report it is
SAMPLE = 2  # one body clause in SAMPLE is indexed
SHORT = 6  # an article with fewer sampled body clauses than this is a title-and-lead item
LEAD_CHARS = 600  # the lead: the start of the body, about the length of a feed item's description

# Clause boundaries: sentence and clause punctuation, brackets, quotes, line breaks, and a dash between
# spaces (the outlet prefix "VOV.VN - ", replaced by a line break first: an alternative in the pattern
# made the split three times slower); a hyphen inside "57-NQ/TW" or "25-12" is not one.
_CLAUSE = re.compile(r"[;:!?…()\[\]{}\"“”‘’«»\n\t|•*]+|[.,](?!\d)")  # "8.000", "2,5" are numbers
_LEAD_SEED = 0x9E3779B9  # the lead's keys are hashed from another starting value: their own key space


@dataclass(frozen=True, slots=True)
class Sketch:
    """The sampled clause keys of an article's body and the keys of its title and lead."""

    body: tuple[int, ...]
    lead: tuple[int, ...]

    @property
    def short(self) -> bool:
        """Too little body to compare by (a title and a lead): compared by its lead."""
        return len(self.body) < SHORT


def _keys(parts: list[bytes], seed: int) -> dict[int, None]:
    """62-bit keys (non-negative in SQLite's signed integers): two CRC-32s from different starting values.

    CRC-32 runs in C, about four times faster than blake2b here; a collision between two clauses only
    adds one shared clause to a pair of articles, far below any threshold.
    """
    return dict.fromkeys(((zlib.crc32(b, seed) & 0x3FFFFFFF) << 32) | zlib.crc32(b) for b in parts)


def clauses(text: str) -> list[str]:
    """The clauses of normalized ``text`` worth comparing, lower-cased (its white space is single spaces)."""
    parts = _CLAUSE.split(text.lower().replace(" - ", "\n").replace(" – ", "\n"))
    return [c for c in (p.strip() for p in parts) if c.count(" ") >= MIN_WORDS - 1]


def sketch(title: str, body: str) -> Sketch:
    """The sketch of a normalized article (``prepare``'s title and body)."""
    body_keys = [k for k in _keys([c.encode() for c in clauses(body)], 0) if k % SAMPLE == 0]
    lead = f"{title}\n{body.lstrip()[:LEAD_CHARS]}"
    return Sketch(tuple(body_keys), tuple(_keys([c.encode() for c in clauses(lead)], _LEAD_SEED)))
