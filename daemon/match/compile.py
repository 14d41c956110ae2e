"""Turn rule terms (keywords, ``all``, ``exclude``) into the few kinds of test the matcher runs.

Each distinct term is compiled once and shared by every rule that uses it, so ten thousand keywords cost
one automaton, one docref index and a list of regexes, not ten thousand scans:

* ``DOCREF``  – the term names a document ("Nghị quyết 57", "57-NQ/TW"): looked up by (type, number)
  for each reference found in the text, then fields compared (``docrefs.agrees``);
* ``EXACT``   – a phrase with Vietnamese diacritics: found in the lower-cased text, diacritics must agree;
* ``FOLDED``  – a plain ASCII phrase: found in the folded text, so "dang bo" fires on "Đảng bộ";
* ``REGEX``   – ``regex:`` prefix: Python ``re`` (IGNORECASE) on the normalized text; the pattern itself is
  normalized too (NFC, tone placement, runs of spaces collapsed). The slow path: each one runs on its
  own over every article, so use them sparingly. No word boundaries are added: write ``\b`` yourself.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from daemon.errors import ConfigError
from daemon.match.textforms import fold_view, has_diacritics
from daemon.models import REGEX_PREFIX, Rule
from daemon.text.chars import lower_view
from daemon.text.docrefs import DocRef, parse_docref
from daemon.text.normalize import normalize


class Kind(enum.Enum):
    DOCREF = "docref"
    EXACT = "exact"
    FOLDED = "folded"
    REGEX = "regex"


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled test. ``pattern`` is the automaton key (EXACT/FOLDED) or the regex source (REGEX)."""

    kind: Kind
    pattern: str = ""
    docref: DocRef | None = None
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule whose terms are indices into ``Compiled.terms``; keywords keep their spelling for reports."""

    rule: Rule
    keywords: tuple[tuple[int, str], ...]  # (term id, keyword as written in the config)
    all: tuple[int, ...]
    exclude: tuple[int, ...]
    sources: frozenset[str]


@dataclass(frozen=True, slots=True)
class Compiled:
    terms: tuple[Term, ...]
    rules: tuple[CompiledRule, ...]


def compile_term(keyword: str, rule_name: str) -> Term | None:
    """The test for one keyword; ``None`` for a keyword that is empty once normalized (it never fires)."""
    if keyword.startswith(REGEX_PREFIX):
        # Same normalization as the text it runs on, so "hoà" or NFD in a regex still finds "hòa".
        source = normalize(keyword[len(REGEX_PREFIX) :])
        try:
            return Term(Kind.REGEX, pattern=source, regex=re.compile(source, re.IGNORECASE))
        except re.error as exc:
            raise ConfigError(f"rule {rule_name!r}: invalid regular expression {keyword!r}: {exc}") from None
    ref = parse_docref(keyword)
    if ref is not None:
        return Term(Kind.DOCREF, docref=ref)
    phrase = normalize(keyword)
    if not phrase:
        return None
    if has_diacritics(phrase):
        return Term(Kind.EXACT, pattern=lower_view(phrase))
    return Term(Kind.FOLDED, pattern=fold_view(phrase))


def _term_key(term: Term) -> tuple[object, ...]:
    return (term.kind, term.pattern, term.docref)


def compile_rules(rules: Sequence[Rule]) -> Compiled:
    """Compile every rule; raises ``ConfigError`` naming the rule for an invalid regex."""
    terms: list[Term] = []
    ids: dict[tuple[object, ...], int] = {}

    def intern(keyword: str, rule_name: str) -> int | None:
        term = compile_term(keyword, rule_name)
        if term is None:
            return None
        key = _term_key(term)
        if key not in ids:
            ids[key] = len(terms)
            terms.append(term)
        return ids[key]

    compiled: list[CompiledRule] = []
    for rule in rules:
        keywords = tuple((tid, kw) for kw in rule.keywords if (tid := intern(kw, rule.name)) is not None)
        required = tuple(tid for kw in rule.all if (tid := intern(kw, rule.name)) is not None)
        excluded = tuple(tid for kw in rule.exclude if (tid := intern(kw, rule.name)) is not None)
        compiled.append(CompiledRule(rule, keywords, required, excluded, frozenset(rule.sources)))
    return Compiled(tuple(terms), tuple(compiled))
