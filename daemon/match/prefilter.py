"""Which stored articles a rule could match, as an FTS5 query: `newswatch match` reads only those.

Matching a month of a year's archive article by article costs about 100 µs each in Python (reading the
rows costs as much again): seconds for 80,000 articles. The full-text index (``articles_fts``: title and
body as written, and the folded copy) answers in milliseconds which articles contain a term's words, so
``match`` runs the real matcher on those alone. The query is a *superset*: every article the matcher
fires on is among its hits, and the matcher still decides, so the result is the same; only the work is
less. It holds because a keyword fires only on whole words (``text.chars.is_word_char``) and the index
splits words at the same edges (unicode61: letters and digits make words):

* a phrase with diacritics (``EXACT``) or a plain ASCII one (``FOLDED``): the phrase itself, which the
  index finds in the text as written or in its folded copy, by the same folding as the matcher's;
* a document (``DOCREF``, "Nghị quyết 57"): its number as a word of its own, with leading zeros
  ("057") or glued to the "số"/"so"/"no" the reference grammar lets precede it ("số57-NQ/TW"); every
  citing form the matcher accepts has one of these;
* ``all`` terms are ANDed in; ``exclude`` terms and ``sources`` are left to the matcher.

A rule with a ``regex:`` keyword has no such query (``None``): a regex can match anything, so every
article is read. (One gap, in text no newspaper writes: a private-use character glued to a keyword,
which unicode61 counts as part of a word and the matcher does not.)
"""

from __future__ import annotations

from daemon.match.compile import Kind, Term, compile_term
from daemon.models import Rule
from daemon.text.docrefs import DocRef

_NUMBER_DIGITS = 6  # the longest document number the reference grammar reads (``docrefs._NUM``)
_GLUED = ("", "số", "so", "no")  # what may stand right before a cited number, inside one indexed word


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _docref(ref: DocRef) -> str:
    numbers = [ref.number.rjust(n, "0") for n in range(len(ref.number), _NUMBER_DIGITS + 1)]
    return "(" + " OR ".join(_quoted(glue + n) for n in numbers for glue in _GLUED) + ")"


def _term(term: Term) -> str | None:
    if term.kind is Kind.DOCREF and term.docref is not None:
        return _docref(term.docref)
    if term.kind in (Kind.EXACT, Kind.FOLDED) and any(ch.isalnum() for ch in term.pattern):
        return _quoted(term.pattern)  # FTS5 reads the phrase's words as it read the article's
    return None  # a regex, or a keyword of punctuation only: the index cannot say where it fires


def fts_query(rule: Rule) -> str | None:
    """An FTS5 query every article ``rule`` can match satisfies, or None when the index cannot narrow it."""
    keywords = []
    for keyword in rule.keywords:
        term = compile_term(keyword, rule.name)
        if term is None:
            continue  # empty once normalized: it never fires
        query = _term(term)
        if query is None:
            return None
        keywords.append(query)
    if not keywords:
        return None  # nothing can fire; reading every article says so as the matcher always did
    required = []
    for keyword in rule.all:
        term = compile_term(keyword, rule.name)
        query = _term(term) if term is not None else None
        if query is not None:
            required.append(query)
    parts = ["(" + " OR ".join(keywords) + ")", *required]
    return " AND ".join(parts)
