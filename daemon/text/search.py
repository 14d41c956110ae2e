"""Search queries: what a user typed, as an FTS5 expression, and where its words are in a text.

One definition for every place a query is seen: ``newswatch search``, Datasette's search box and its
canned search (through the plugin in ``daemon.ui``). The index (``store.schema``) holds each article
twice in one FTS5 table tokenized with ``unicode61 remove_diacritics 0``: ``title`` and ``body`` as
written (lower-cased by the tokenizer, diacritics kept) and ``folded``, their folded copy (no
diacritics, đ→d). So a quoted word needs no column filter at all:

* a word written with diacritics ("Đà", "đảng") can only match the exact columns: the folded copy has no
  diacritics. "Đà Nẵng" never finds «đã», "Đảng" never «đang»;
* a word without them ("dang", "bo") matches the folded copy, so every spelling that folds to it.

That is also what ``sqlite-utils search`` and a plain Datasette search do with a raw query. Here the query
is normalized first (NFC, one tone placement: hoà = hòa), and the operators are read:

* ``"a phrase"``: the words in that order. A phrase mixing words with and without diacritics is searched
  folded, and its words with diacritics must also be in the article as written;
* ``word*``: prefix;  ``a OR b``: either;  ``-word``, ``-"a phrase"`` or ``NOT word``: without it;
* everything else is a word: punctuation separates words ("57-NQ/TW" is the phrase "57 nq tw"), and no
  input reaches FTS5 unquoted, so no input is an FTS5 syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from daemon.errors import QueryError
from daemon.text.chars import lower_view
from daemon.text.normalize import fold_canonical, normalize

_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')  # a phrase (-"excluded" too), or anything up to a space
_WORD = re.compile(r"\w+")
FOLDED_COLUMN = "folded"


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # lower case; folded when not ``exact``
    exact: bool  # written with diacritics: matched with them


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase (several words in order); ``prefix``: its last word may go on."""

    words: tuple[Word, ...]
    prefix: bool = False

    def fts(self) -> str:
        star = "*" if self.prefix else ""
        if all(w.exact for w in self.words) or not any(w.exact for w in self.words):
            return '"' + " ".join(w.text for w in self.words) + '"' + star
        # Mixed: the phrase folded (in the folded copy), and each word with diacritics as written somewhere.
        phrase = '"' + " ".join(fold_canonical(w.text) for w in self.words) + '"' + star
        exact = [f'"{w.text}"' for w in self.words if w.exact]
        return "(" + " AND ".join([f"{FOLDED_COLUMN} : {phrase}", *exact]) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """All of ``groups`` (each: any one of its terms), none of ``excluded``."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def fts(self) -> str:
        """The FTS5 MATCH expression."""
        parts = []
        for group in self.groups:
            alternatives = [t.fts() for t in group]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
        expr = " AND ".join(parts)
        if self.excluded:
            expr = f"({expr}) NOT (" + " OR ".join(t.fts() for t in self.excluded) + ")"
        return expr

    @property
    def terms(self) -> list[Term]:
        """The terms an article is found by (what a snippet marks)."""
        return [t for group in self.groups for t in group]


def _word(raw: str) -> Word:
    low = lower_view(raw)
    folded = fold_canonical(low)
    # A word without letters that fold ("57", "nq") is the same in both copies: matched folded.
    return Word(low, exact=False) if folded == low else Word(low, exact=True)


def _term(text: str, prefix: bool) -> Term | None:
    words = tuple(_word(w) for w in _WORD.findall(text))
    return Term(words, prefix) if words else None


def parse(query: str) -> Query:
    """Read a query; a ``QueryError`` says why there is nothing to search for."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    negate = join_next = False
    for m in _CHUNK.finditer(normalize(query)):
        minus, phrase, bare = m.group(1), m.group(2), m.group(3)
        if minus:
            negate = True
        if bare is not None:
            if bare == "OR":
                join_next = bool(groups)
                continue
            if bare == "NOT":
                negate = True
                continue
            if bare == "AND":
                continue
            if bare.startswith("-") and len(bare) > 1:
                negate, bare = True, bare[1:]
        text = phrase if phrase is not None else bare
        term = _term(text, prefix=phrase is None and text.endswith("*"))
        if term is None:
            negate = join_next = False
            continue
        if negate:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        negate = join_next = False
    if not groups:
        if excluded:
            raise QueryError(f"{query!r} only excludes words: give at least one word to look for")
        raise QueryError(f"nothing to search for in {query!r}: give at least one word or number")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


class _FoldedChunks(dict[str, str]):
    """The folded form of each chunk of text between spaces, learnt once (up to ``limit`` chunks).

    Folding character by character costs about 28 ns a character, on every article; an archive's chunks
    ("Đảng", "bộ,", "2025") repeat from one article to the next, and a dictionary hit costs one look-up
    a word: 176 → 100 µs for a 6 KB article.
    """

    limit = 200_000

    def __missing__(self, chunk: str) -> str:
        folded = fold_canonical(chunk)  # canonical text (as stored): the fold table alone, no normalize
        if len(self) < self.limit:
            self[chunk] = folded
        return folded


_FOLDED_CHUNKS = _FoldedChunks()


def folded_copy(title: str, body: str) -> str:
    """An article's folded copy for the index: title and body without diacritics, đ→d ("Đảng bộ" → "dang bo").

    The text as written is indexed too (a word given with diacritics must match them: "Đà" never finds
    «đã»); this copy beside it is what a word given without them finds, whatever its spelling. Only its
    words count (FTS5 reads no white space), so runs of white space are one space.
    """
    return folded_words(f"{title} {body}".split())


def folded_words(words: Iterable[str]) -> str:
    """``folded_copy`` of an article whose words (``str.split`` of its title, then of its body) are at
    hand: ``prepare`` splits them once for this copy and the stories sketch, which reads the same words."""
    return " ".join(map(_FOLDED_CHUNKS.__getitem__, words))


# -- where a query's words are in a text (for snippets) ---------------------------------------------------


def find(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Spans of ``text`` (canonical) where a term occurs, by the same rules as the index.

    Every hit of a search shows a snippet, so this runs on 20 bodies per search: the text is lower-cased
    once (``lower_view`` moves no character, so its spans are the text's), each distinct word folded once,
    and a term's first word is looked for with list scans, not a test at every position.
    """
    low = lower_view(text)
    matches = list(_WORD.finditer(low))
    exact = [m.group() for m in matches]
    folds: dict[str, str] = {}
    folded = [folds.get(w) or folds.setdefault(w, fold_canonical(w)) for w in exact]
    spans: list[tuple[int, int]] = []
    for term in terms:
        n = len(term.words)
        last = len(exact) - n
        for i in _starts(term, exact, folded):
            if i > last:
                continue
            for k in range(1, n):
                w = term.words[k]
                target = (exact if w.exact else folded)[i + k]
                if not (target.startswith(w.text) if term.prefix and k == n - 1 else target == w.text):
                    break
            else:
                spans.append((matches[i].start(), matches[i + n - 1].end()))
    return sorted(set(spans))


def _starts(term: Term, exact: Sequence[str], folded: Sequence[str]) -> list[int]:
    """Positions of the words that can begin ``term`` (its first word; as a prefix when it is also its last)."""
    first = term.words[0]
    forms, want = (exact if first.exact else folded), first.text
    if term.prefix and len(term.words) == 1:
        return [i for i, f in enumerate(forms) if f.startswith(want)]
    return [i for i, f in enumerate(forms) if f == want]


def highlight(text: str, spans: Sequence[tuple[int, int]], width: int = 90, floor: int = 0) -> str:
    """A one-line snippet of ``text[floor:]`` around the first span there, every span marked «like this».

    Without a span there (the words are only in the title) it is the start of that stretch.
    """
    spans = [s for s in spans if s[0] >= floor]
    if not spans:
        head = " ".join(text[floor : floor + 2 * width].split())
        return ("…" if floor else "") + head + ("…" if floor + 2 * width < len(text) else "")
    first_start, first_end = spans[0]
    start = max(floor, first_start - width)
    end = min(len(text), first_end + width)
    while 0 < start < first_start and not text[start - 1].isspace():
        start += 1
    while first_end < end < len(text) and not text[end].isspace():
        end -= 1
    merged: list[tuple[int, int]] = []
    for s, e in spans:  # one mark around "Nghị quyết 57", not three
        if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    out, pos = [], start
    for s, e in merged:
        if s < pos or e > end:
            continue
        out += [text[pos:s], "«", text[s:e], "»"]
        pos = e
    out.append(text[pos:end])
    return ("…" if start > 0 else "") + " ".join("".join(out).split()) + ("…" if end < len(text) else "")
