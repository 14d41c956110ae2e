"""Run every rule against one article in a bounded number of passes over its text.

Per field the cost is: normalize, a lower-cased view with one Aho-Corasick pass, the plain ASCII
keywords (one regex each while they are few, else a folded view with its own automaton), one scan for
the followed document numbers, plus each ``regex:`` keyword. None of that grows with the number of
keywords except through the hits actually found, so 10,000 keywords cost about what 10 do.
Only rules that have a keyword hit (or a regex keyword) are then evaluated against ``all``, ``exclude``
and ``sources``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import ahocorasick

from daemon.match.compile import CompiledRule, Kind, Term, compile_rules
from daemon.match.snippet import lead_overlap, snippet
from daemon.match.textforms import fold_view, folded_regex, whole_word
from daemon.models import Match, Rule
from daemon.text.chars import lower_view
from daemon.text.docrefs import DocRef, agrees, find_docrefs
from daemon.text.normalize import normalize, normalize_body

MAX_MATCHES_PER_RULE = 20  # enough to show why an article fired, small enough for one alert
FIELDS = ("title", "body")

_FEW_NUMBERS = 4  # up to this many followed numbers, str.find beats collecting every number of the text
FOLDED_DIRECT_MAX = 8  # up to this many plain ASCII keywords, a regex each beats building a folded view
_ONLY_DIGITS = bytes.maketrans(bytes(range(256)), bytes(b if 0x30 <= b <= 0x39 else 0x20 for b in range(256)))


def _numbers_in(text: str) -> set[str]:
    """Every run of ASCII digits in ``text`` as a document number (no leading zeros), in C-level passes.

    UTF-8 keeps ASCII digits as single bytes and every other character out of that byte range, so a
    byte translation leaves only the digit runs. (Document numbers are ASCII digits: ``docrefs._NUM``.)
    """
    runs = text.encode("utf-8", "surrogatepass").translate(_ONLY_DIGITS).split()
    return {run.lstrip(b"0").decode() or "0" for run in runs if len(run) <= 6}


def _occurrences(text: str, number: str) -> list[tuple[int, int]]:
    """Spans of the digit runs in ``text`` that are ``number`` (leading zeros allowed), by ``str.find``."""
    spans: list[tuple[int, int]] = []
    at = text.find(number)
    while at >= 0:
        end = at + len(number)
        start = at
        while start > 0 and text[start - 1] == "0":
            start -= 1
        if (start == 0 or not "0" <= text[start - 1] <= "9") and (end == len(text) or not "0" <= text[end] <= "9"):
            spans.append((start, end))
        at = text.find(number, end)
    return spans


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
        folded = [tid for tid, term in enumerate(self._terms) if term.kind is Kind.FOLDED]
        # Few plain ASCII keywords (the usual config): one regex each over the text. Many: one folded view
        # of the text and one automaton pass (with thousands, some of them are in every article).
        self._folded_regexes = [(tid, folded_regex(self._terms[tid].pattern))
                                for tid in folded] if len(folded) <= FOLDED_DIRECT_MAX else []
        self._folded = _automaton(self._terms, Kind.FOLDED) if len(folded) > FOLDED_DIRECT_MAX else None
        views = ((self._exact, lower_view), (self._folded, fold_view))
        self._automata = [(automaton, view) for automaton, view in views if automaton is not None]
        # Each followed (type, number): its terms, with the document when a year or issuer must also agree
        # (None: the type and number are all it names, so every reference found under this key is one).
        self._docrefs: dict[tuple[str, str], list[tuple[int, DocRef | None]]] = {}
        for tid, term in enumerate(self._terms):
            if (ref := term.docref) is not None:
                precise = ref if ref.year is not None or ref.issuer is not None else None
                self._docrefs.setdefault((ref.type, ref.number), []).append((tid, precise))
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

    def match(self, title: str, body: str, source: str, *, canonical: bool = False) -> list[Match]:
        """Every firing rule's matches, rules in config order, each rule's matches title first, in text order.

        ``canonical``: the caller vouches that the title and body are in ``normalize``'s and
        ``normalize_body``'s form (``text.normalize.vouched_by_hash``), so they are not normalized again.
        """
        texts = (title, body) if canonical else (normalize(title), normalize_body(body))
        hits = self._scan(texts)
        if not hits and not self._regex_rules:
            return []  # no keyword anywhere: no rule to evaluate
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

    def _citing_windows(self, text: str) -> list[tuple[int, int, int]]:
        """Stretches of ``text`` around each followed document number; only these are parsed for references.

        Parsing references is the costly part of matching, and most numbers in an article are not the
        ones followed. A window reaches far enough back for the type word of a list ("Nghị quyết 57, 66
        và 68") and forward for the code ("-NQ/TW ngày 22/12/2024"); it starts and ends on white space so
        no word or code is cut. A pure filter: it never changes a result. Each window comes with where its
        last followed number starts: a reference that starts after it holds none of them, so the parse
        stops there.
        """
        numbers = self._docref_numbers
        if len(numbers) > _FEW_NUMBERS:
            numbers = numbers.intersection(_numbers_in(text))
        spans = [span for n in numbers for span in _occurrences(text, n)]  # few: a str.find each
        if not spans:
            return []  # the common case: none of the followed numbers appears at all
        if len(numbers) > 1:
            spans.sort()
        windows: list[tuple[int, int, int]] = []
        for number_start, number_end in spans:
            start = text.rfind(" ", 0, max(0, number_start - _WINDOW_BEFORE)) + 1
            end = text.find(" ", number_end + _WINDOW_AFTER)
            end = len(text) if end < 0 else end
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(windows[-1][1], end), number_start)
            else:
                windows.append((start, end, number_start))
        return windows

    def _scan(self, texts: Sequence[str]) -> dict[int, list[Hit]]:
        """Hits of every non-regex term in both fields."""
        hits: dict[int, list[Hit]] = {}
        for fi, text in enumerate(texts):
            if not text:
                continue
            for automaton, view in self._automata:
                viewed = view(text)
                for last, (tid, length) in automaton.iter(viewed):
                    if whole_word(viewed, last + 1 - length, last + 1):
                        hits.setdefault(tid, []).append((fi, last + 1 - length, last + 1))
            for tid, regex in self._folded_regexes:
                for start, end in _folded_spans(regex, text):
                    hits.setdefault(tid, []).append((fi, start, end))
            for w_start, w_end, last in self._citing_windows(text) if self._docrefs else ():
                for ref, start, end in find_docrefs(text[w_start:w_end], until=last - w_start):
                    for tid, wanted in self._docrefs.get((ref.type, ref.number), ()):
                        if wanted is None or agrees(wanted, ref):
                            hits.setdefault(tid, []).append((fi, w_start + start, w_start + end))
        return hits

    @staticmethod
    def _report(rule: CompiledRule, keyword_hits: Iterable[tuple[Hit, str]], texts: Sequence[str]) -> list[Match]:
        """One Match per (keyword, field, matched text), first occurrence wins, at most MAX_MATCHES_PER_RULE.

        Where the body starts by repeating the title, a hit there is the title's and is reported once.
        """
        hits = sorted(keyword_hits, key=lambda h: h[0])
        repeat = lead_overlap(texts[0], texts[1])  # the body's start that is the title again
        in_title = {(start, end, kw) for (fi, start, end), kw in hits if fi == 0} if repeat else set()
        seen: set[tuple[str, int, str]] = set()
        out: list[Match] = []
        for (fi, start, end), keyword in hits:
            if fi == 1 and end <= repeat and (start, end, keyword) in in_title:
                continue  # the title's own hit, met again where the lead repeats it
            text = texts[fi][start:end]
            if (keyword, fi, text) in seen:
                continue
            seen.add((keyword, fi, text))
            floor = repeat if fi == 1 else 0
            out.append(Match(rule.rule.name, keyword, text, FIELDS[fi], snippet(texts[fi], start, end, floor=floor)))
            if len(out) >= MAX_MATCHES_PER_RULE:
                break
        return out


def _folded_spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Every whole-word match of a ``folded_regex`` (overlapping ones too, as an automaton reports them)."""
    spans: list[tuple[int, int]] = []
    m = regex.search(text)
    while m is not None:
        start, end = m.span()
        lo = max(0, start - 1)
        if whole_word(fold_view(text[lo : end + 1]), start - lo, end - lo):  # boundaries as in the folded view
            spans.append((start, end))
        m = regex.search(text, start + 1)
    return spans
