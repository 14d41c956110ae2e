"""How each rule term will be matched, in words: what `newswatch rules` and `newswatch check` show.

A keyword's spelling decides its test (``compile.compile_term``), and the difference matters: "Đảng" with
its marks never fires on "đang", "dang" fires on both, "Nghị quyết 57" is a document reference that fires on
"NQ số 57-NQ/TW". An operator should see which one a keyword became before an alert (or its absence)
surprises them, so this reads the same compiled term the matcher runs, never a second guess at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.match.compile import Kind, compile_term
from daemon.models import Rule
from daemon.text.docrefs import DOC_TYPES, DocRef

NEVER = "never"  # the kind of a term that is empty once normalized
_TYPE_NAMES = {code: names[0] for code, names in DOC_TYPES}


@dataclass(frozen=True, slots=True)
class TermPlan:
    term: str  # as written in config.toml
    kind: str  # "exact" | "folded" | "docref" | "regex" | "never"
    label: str  # the kind in a few words, for a listing's line
    how: str  # the same in a sentence
    document: DocRef | None = None


def _document(ref: DocRef) -> str:
    name = _TYPE_NAMES.get(ref.type, ref.type)
    parts = [f"{name} {ref.number}" + (f" ({ref.type})" if name != ref.type else "")]
    parts.append(f"year {ref.year}" if ref.year is not None else "any year")
    parts.append(f"issuer {ref.issuer}" if ref.issuer is not None else "any issuer")
    return "document reference " + ", ".join(parts)


def explain_term(term: str, rule_name: str = "") -> TermPlan:
    compiled = compile_term(term, rule_name)
    if compiled is None:
        return TermPlan(term, NEVER, "never matches", "nothing is left of it once normalized: it never fires")
    if compiled.kind is Kind.DOCREF:
        assert compiled.docref is not None
        label = _document(compiled.docref)
        return TermPlan(term, "docref", label, f"{label}: every way a text cites it (số, code, abbreviation, lists)",
                        compiled.docref)
    if compiled.kind is Kind.EXACT:
        return TermPlan(term, "exact", "diacritics exact",
                        "whole words with these diacritics; any case, NFC or NFD, old or new tone placement")
    if compiled.kind is Kind.FOLDED:
        return TermPlan(term, "folded", "folded", "whole words whatever their diacritics (đ as d): also other words")
    return TermPlan(term, "regex", "regex",
                    "Python regular expression, case-insensitive, on the normalized text; no word boundaries added")


@dataclass(frozen=True, slots=True)
class RulePlan:
    rule: Rule
    keywords: tuple[TermPlan, ...]
    all: tuple[TermPlan, ...]
    exclude: tuple[TermPlan, ...]


def explain_rule(rule: Rule) -> RulePlan:
    def each(terms: tuple[str, ...]) -> tuple[TermPlan, ...]:
        return tuple(explain_term(t, rule.name) for t in terms)

    return RulePlan(rule, each(rule.keywords), each(rule.all), each(rule.exclude))
