"""Run every rule against one article in a bounded number of passes over its text.

Per field the cost is: normalize, two translated views, one Aho-Corasick pass per view, one scan for
document references, plus each ``regex:`` keyword. None of that grows with the number of plain or
docref keywords except through the hits actually found, so 10,000 keywords cost about what 10 do.
Only rules that have a keyword hit (or a regex keyword) are then evaluated against ``all``, ``exclude``
and ``sources``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import ahocorasick

from daemon.match.compile import CompiledRule, Kind, Term, compile_rules
from daemon.match.snippet import snippet
from daemon.match.textforms import ascii_sketch, fold_view, lower_view, whole_word
from daemon.models import Match, Rule
from daemon.text.docrefs import agrees, find_docrefs
from daemon.text.normalize import normalize, normalize_body

MAX_MATCHES_PER_RULE = 20  # enough to show why an article fired, small enough for one alert
FIELDS = ("title", "body")

_DIGITS = re.compile(r"\d+")
def _number(digits: str) -> str:
    """A document number as the reference parser writes it (no leading zeros, ASCII); "" past six digits."""
    if len(digits) > 6:
        return ""  # document numbers have at most six digits (and int() refuses huge runs)
    return digits if digits.isascii() and digits[0] != "0" else str(int(digits))


_WINDOW_BEFORE = 400  # characters searched before a followed number for its type word
_WINDOW_AFTER = 100  # and after it for its code
Hit = tuple[int, int, int]  # (field index, start, end) in the normalized field text


def _automaton(terms: Sequence[Term], kind: Kind) -> ahocorasick.Automaton | None:
    automaton = ahocorasick.Automaton()
    for tid, term in enumerate(terms):
        if term.kind is kind:
            automaton.add_word(term.pattern, (tid, len(term.pattern)))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


class Matcher:
    """Compiled rules; build one per config load (or SIGHUP) and share it, ``match`` keeps no state."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        compiled = compile_rules(rules)
        self._terms = compiled.terms
        self._rules = compiled.rules
        self._exact = _automaton(self._terms, Kind.EXACT)
        self._folded = _automaton(self._terms, Kind.FOLDED)
        self._docrefs: dict[tuple[str, str], list[int]] = {}
        for tid, term in enumerate(self._terms):
            if term.docref is not None:
                self._docrefs.setdefault((term.docref.type, term.docref.number), []).append(tid)
        self._docref_numbers = frozenset(number for _, number in self._docrefs)
        self._rules_by_term: dict[int, list[int]] = {}
        regex_rules: set[int] = set()
        for ri, rule in enumerate(self._rules):
            for tid, _ in rule.keywords:
                if self._terms[tid].kind is Kind.REGEX:
                    regex_rules.add(ri)
                else:
                    self._rules_by_term.setdefault(tid, []).append(ri)
        self._regex_rules = frozenset(regex_rules)

    def match(self, title: str, body: str, source: str) -> list[Match]:
        """Every firing rule's matches, rules in config order, each rule's matches title first, in text order."""
        texts = (normalize(title), normalize_body(body))
        hits = self._scan(texts)
        regex_hits: dict[int, list[Hit]] = {}

        def found(tid: int) -> list[Hit]:
            term = self._terms[tid]
            if term.regex is None:
                return hits.get(tid, [])
            if tid not in regex_hits:
                regex_hits[tid] = [
                    (fi, m.start(), m.end())
                    for fi, text in enumerate(texts)
                    for m in term.regex.finditer(text)
                    if m.end() > m.start()
                ]
            return regex_hits[tid]

        candidates = {ri for tid in hits for ri in self._rules_by_term.get(tid, ())} | self._regex_rules
        out: list[Match] = []
        for ri in sorted(candidates):
            rule = self._rules[ri]
            if rule.sources and source not in rule.sources:
                continue
            keyword_hits = [(hit, kw) for tid, kw in rule.keywords for hit in found(tid)]
            if not keyword_hits:
                continue
            if not all(found(tid) for tid in rule.all) or any(found(tid) for tid in rule.exclude):
                continue
            out.extend(self._report(rule, keyword_hits, texts))
        return out

    def _citing_windows(self, text: str) -> list[tuple[int, int]]:
        """Stretches of ``text`` around each followed document number; only these are parsed for references.

        Parsing references is the costly part of matching, and most numbers in an article are not the
        ones followed. A window reaches far enough back for the type word of a list ("Nghị quyết 57, 66
        và 68") and forward for the code ("-NQ/TW ngày 22/12/2024"); it starts and ends on white space so
        no word or code is cut. A pure filter: it never changes a result.
        """
        numbers = self._docref_numbers
        if numbers.isdisjoint(_number(n) for n in _DIGITS.findall(text)):
            return []  # the common case: none of the followed numbers appears at all
        windows: list[tuple[int, int]] = []
        for m in _DIGITS.finditer(text):
            if _number(m.group()) not in numbers:
                continue  # document numbers have at most six digits (and int() refuses huge runs)
            start = text.rfind(" ", 0, max(0, m.start() - _WINDOW_BEFORE)) + 1
            end = text.find(" ", m.end() + _WINDOW_AFTER)
            end = len(text) if end < 0 else end
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], end))
            else:
                windows.append((start, end))
        return windows

    def _scan(self, texts: Sequence[str]) -> dict[int, list[Hit]]:
        """Hits of every non-regex term in both fields, found in one pass per view."""
        hits: dict[int, list[Hit]] = {}
        for fi, text in enumerate(texts):
            if not text:
                continue
            for automaton, view in ((self._exact, lower_view), (self._folded, fold_view)):
                if automaton is None:
                    continue
                if view is fold_view and next(automaton.iter(ascii_sketch(text)), None) is None:
                    continue  # no ASCII keyword can occur: skip the exact (costlier) folded view
                viewed = view(text)
                for last, (tid, length) in automaton.iter(viewed):
                    start = last + 1 - length
                    if whole_word(viewed, start, last + 1):
                        hits.setdefault(tid, []).append((fi, start, last + 1))
            for w_start, w_end in self._citing_windows(text) if self._docrefs else ():
                for ref, start, end in find_docrefs(text[w_start:w_end]):
                    for tid in self._docrefs.get((ref.type, ref.number), ()):
                        wanted = self._terms[tid].docref
                        if wanted is not None and agrees(wanted, ref):
                            hits.setdefault(tid, []).append((fi, w_start + start, w_start + end))
        return hits

    @staticmethod
    def _report(rule: CompiledRule, keyword_hits: Iterable[tuple[Hit, str]], texts: Sequence[str]) -> list[Match]:
        """One Match per (keyword, field, matched text), first occurrence wins, at most MAX_MATCHES_PER_RULE."""
        seen: set[tuple[str, int, str]] = set()
        out: list[Match] = []
        for (fi, start, end), keyword in sorted(keyword_hits, key=lambda h: h[0]):
            text = texts[fi][start:end]
            if (keyword, fi, text) in seen:
                continue
            seen.add((keyword, fi, text))
            out.append(Match(rule.rule.name, keyword, text, FIELDS[fi], snippet(texts[fi], start, end)))
            if len(out) >= MAX_MATCHES_PER_RULE:
                break
        return out
