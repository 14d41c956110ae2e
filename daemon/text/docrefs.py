"""Find references to party and state documents ("Nghị quyết số 57-NQ/TW", "NQ 57", "1519/QĐ-TTg").

Offices follow documents, and articles cite the same document in many shapes: the full title with a
code, the bare type word and number, an abbreviation, the code alone, or a list ("các Nghị quyết số 57,
66 và 68"). A keyword that names a document should fire on all of them, and only on them: "Nghị quyết
57" is not "Nghị quyết 570" nor "Chỉ thị 57", and "57-NQ/TW" is not "57-NQ/TU".

Two code styles exist:

* party: ``NUMBER-TYPE/ISSUER`` (57-NQ/TW, 34-CT/TU, 13140-QĐ/TU, 08-QĐi/TW);
* state: ``NUMBER/[YEAR/]TYPE-ISSUER`` (1519/QĐ-TTg, 13/2023/NĐ-CP); after a type word the type code may
  be missing (Luật số 15/2012/QH13, Công văn 1234/VPCP-KSTT).

A reference is reduced to a ``DocRef`` whose fields compare by value; fields a source does not give are
``None`` and agree with anything (see ``agrees``). Pure functions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from daemon.text.chars import lower_view
from daemon.text.normalize import fold, normalize

# The one table of document types: canonical code, then every way an article names the type.
# The code is what appears inside document codes (57-NQ/TW); names are matched case-insensitively, with
# or without diacritics. Longer names are tried first, so "Nghị quyết liên tịch" is not "Nghị quyết".
DOC_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("NQ", ("Nghị quyết",)),
    ("NQLT", ("Nghị quyết liên tịch",)),
    ("CT", ("Chỉ thị",)),
    ("QĐ", ("Quyết định",)),
    ("QĐi", ("Quy định",)),
    ("KL", ("Kết luận",)),
    ("TB", ("Thông báo",)),
    ("HD", ("Hướng dẫn",)),
    ("QC", ("Quy chế",)),
    ("CTr", ("Chương trình",)),
    ("KH", ("Kế hoạch",)),
    ("BC", ("Báo cáo",)),
    ("CV", ("Công văn",)),
    ("CĐ", ("Công điện",)),
    ("NĐ", ("Nghị định",)),
    ("TT", ("Thông tư",)),
    ("TTLT", ("Thông tư liên tịch",)),
    ("Luật", ("Luật",)),  # laws have no type code: Luật số 15/2012/QH13
    ("PL", ("Pháp lệnh",)),
    ("TTr", ("Tờ trình",)),
    ("ĐA", ("Đề án",)),
    ("BB", ("Biên bản",)),
)


@dataclass(frozen=True, slots=True)
class DocRef:
    """One document as cited: type code, number without leading zeros, year and issuer when given.

    ``issuer`` is folded and upper-cased ("TTg" → "TTG", "ĐU" → "DU") so spelling variants compare equal.
    """

    type: str
    number: str
    year: int | None = None
    issuer: str | None = None


def agrees(wanted: DocRef, found: DocRef) -> bool:
    """Does a reference found in text name the document a keyword wants?

    Type and number must be equal. Year and issuer must be equal when both sides give them: a field the
    keyword leaves out matches anything, and so does a field the article leaves out, because articles
    cite "Nghị quyết 57-NQ/TW" once and then say "Nghị quyết 57".
    """
    return (
        wanted.type == found.type
        and wanted.number == found.number
        and (wanted.year is None or found.year is None or wanted.year == found.year)
        and (wanted.issuer is None or found.issuer is None or wanted.issuer == found.issuer)
    )


@cache
def _key(s: str) -> str:
    return fold(s).lower()


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, names in DOC_TYPES:
        for form in (code, *names):
            key = _key(form)
            if lookup.setdefault(key, code) != code:  # pragma: no cover - guards edits to the table
                raise ValueError(f"document type table: {form!r} is ambiguous")
    return lookup


_TYPE_BY_KEY = _build_lookup()
_CODE_KEYS = {_key(code): code for code, _ in DOC_TYPES}


_Trie = dict[str, "_Trie"]  # character -> the forms that continue with it; "" marks the end of a form


def _alternation(forms: set[str]) -> str:
    """The lower-cased forms as one regex, shaped as a trie, that prefers the longest form.

    At a position the regex engine tries the alternatives of a group one by one, so a flat list of
    ~80 type names and codes costs ~80 tests per character scanned. As a trie, only the few distinct
    first letters are tried, and the rest follows one path. On that path a longer form is tried before
    a shorter one ("quy định" before "quy", "ctr" before "ct"), which is what "longest first" means.
    """
    trie: _Trie = {}
    for form in {f.lower() for f in forms}:
        node = trie
        for ch in form:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: _Trie) -> str:
    branches = [re.escape(ch) + _trie_regex(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a form ends here: continuing is tried first, then stopping
        return f"(?:{body})?"
    return body


def _forms(*, names: bool, codes: bool) -> set[str]:
    out: set[str] = set()
    for code, type_names in DOC_TYPES:
        if codes:
            out |= {code, fold(code)}
        if names:
            out |= {n for name in type_names for n in (name, fold(name))}
    return out


_SP = r"[^\S\n]*"  # a reference never spans a paragraph break
# Document numbers and years are ASCII digits (as every outlet writes them); the matcher relies on it to
# find the followed numbers with byte-level string operations before parsing anything.
_NUM = r"(?P<num>[0-9]{1,6})"
_YEAR = r"(?P<year>(?:19|20)[0-9][0-9])"
_TYPE_CODE = rf"(?P<code>{_alternation(_forms(names=False, codes=True))})"
_ISSUER = r"(?P<issuer>[^\W\d_][^\W_]*(?:-[^\W\d_][^\W_]*)*)"
_END = r"(?!\w)"

# Document codes, tried in this order at a number. All patterns run on lower-cased text.
_PARTY = re.compile(rf"{_NUM}{_SP}-{_SP}{_TYPE_CODE}{_SP}/{_SP}{_ISSUER}{_END}")
_STATE = re.compile(rf"{_NUM}{_SP}/{_SP}(?:{_YEAR}{_SP}/{_SP})?{_TYPE_CODE}{_SP}-{_SP}{_ISSUER}{_END}")
# Only after a type word: the code lacks a type (Luật số 15/2012/QH13), or there is no code at all.
_STATE_UNTYPED = re.compile(rf"{_NUM}{_SP}/{_SP}(?:{_YEAR}{_SP}/{_SP})?{_ISSUER}{_END}")
_NUM_YEAR = re.compile(rf"{_NUM}{_SP}/{_SP}{_YEAR}{_END}(?!{_SP}[-/]{_SP}\w)")
_BARE = re.compile(rf"{_NUM}{_END}(?!{_SP}[-/]{_SP}\w)")

_TYPE_WORD = _alternation(_forms(names=True, codes=True))
# Where a reference can start: a type word or abbreviation, or a number that begins a code.
_ANCHOR_BODY = rf"(?:(?P<word>{_TYPE_WORD}){_END}|(?=[0-9]+{_SP}[-/]{_SP}\w))"
_ANCHOR = re.compile(rf"(?<!\w){_ANCHOR_BODY}")
# The same, found by the character before it: a pattern that starts with a character class lets the regex
# engine skip to the next candidate in C, where one that starts with a lookbehind is tried at every
# position (1.7x slower over the text around a followed number).
_ANCHOR_AFTER = re.compile(rf"\W{_ANCHOR_BODY}")

_AFTER_WORD = re.compile(rf"{_SP}(?:(?:số|so|no\.?){_SP}:?{_SP})?")
_LIST_SEP = re.compile(rf"{_SP}(?:[,;]|,?{_SP}(?:và|va|hoặc|hoac)(?!\w)){_SP}")


@lru_cache(maxsize=1024)  # few issuers recur (TW, TU, TTg, CP): folding each again was a seventh of a match
def _issuer_key(issuer: str | None) -> str | None:
    return fold(issuer).upper() if issuer else None


# What a type word or code matched in the lower-cased text stands for: (type code, is it a code). The
# alternations are built from the lower-cased forms, so whatever they match is one of these keys.
_WORDS = {form.lower(): (_TYPE_BY_KEY[_key(form)], _key(form) in _CODE_KEYS)
          for form in _forms(names=True, codes=True)}
_CODES = {form.lower(): _CODE_KEYS[_key(form)] for form in _forms(names=False, codes=True)}
_CODED = (_PARTY, _STATE)  # tried first at a number, with or without a type word before it
_TYPED = (_STATE_UNTYPED, _NUM_YEAR, _BARE)  # then, after a type word only, in this order
_ALL = _CODED + _TYPED


def _number(digits: str) -> str:
    return digits.lstrip("0") or "0"  # ASCII digits (``_NUM``): what str(int(...)) gives, without the int


def _build(m: re.Match[str], pattern: re.Pattern[str], doc_type: str | None) -> DocRef:
    year = m["year"] if pattern is not _PARTY and pattern is not _BARE else None
    year_number = int(year) if year else None
    if pattern is _PARTY or pattern is _STATE:
        return DocRef(_CODES[m["code"]], _number(m["num"]), year_number, _issuer_key(m["issuer"]))
    assert doc_type is not None
    issuer = _issuer_key(m["issuer"]) if pattern is _STATE_UNTYPED else None
    return DocRef(doc_type, _number(m["num"]), year_number, issuer)


# Each reference a pattern matched, by the text it matched: an article cites a handful of documents, an
# archive the same few thousand again and again, so building a DocRef from the groups (a third of the
# scan) is mostly a lookup. Exact: the patterns have no lookahead past the next character but ``_BARE``'s
# and ``_NUM_YEAR``'s, whose digits leave them one way to match, so equal matched text means equal groups.
_BUILT: dict[tuple[int, str | None, str], DocRef] = {}  # (pattern's place in _CODED + _TYPED, doc_type, text)
_BUILT_MAX = 20_000  # then it starts again: a service reading years of news keeps it small


def _ref_at(low: str, pos: int, doc_type: str | None) -> tuple[DocRef, int] | None:
    """Parse one reference starting at ``pos`` of the lower-cased text; ``doc_type`` from a type word, if any."""
    for i, pattern in enumerate(_CODED if doc_type is None else _ALL):
        m = pattern.match(low, pos)
        if m:
            key = (i, doc_type, m[0])  # not the pattern itself: hashing one hashes its whole compiled code
            ref = _BUILT.get(key)
            if ref is None:
                if len(_BUILT) >= _BUILT_MAX:
                    _BUILT.clear()
                ref = _BUILT[key] = _build(m, pattern, doc_type)
            return ref, m.end()
    return None


def _anchor(low: str, pos: int) -> tuple[int, re.Match[str]] | None:
    """The first place at or after ``pos`` where a reference may start, and the anchor's match there."""
    if pos == 0 and (at_start := _ANCHOR.match(low)) is not None:
        return 0, at_start
    m = _ANCHOR_AFTER.search(low, max(pos - 1, 0))
    return (m.start() + 1, m) if m is not None else None


def _scan(text: str, *, strict_abbreviations: bool, until: int | None = None) -> list[tuple[DocRef, int, int]]:
    # The scan runs on a lower-cased copy (about three times faster than IGNORECASE); spans point into text.
    low = lower_view(text)
    found: list[tuple[DocRef, int, int]] = []
    last = len(low) if until is None else until
    pos = 0
    while pos <= last and (next_anchor := _anchor(low, pos)) is not None and next_anchor[0] <= last:
        start, anchor = next_anchor
        word = anchor["word"]
        doc_type: str | None = None
        at = start
        if word is not None:
            doc_type, is_code = _WORDS[word]
            if is_code and strict_abbreviations and text[start : anchor.end()].islower():
                # "ct 5", "tt 3" in running text are not document abbreviations; keywords may be lower case.
                pos = anchor.end()
                continue
            filler = _AFTER_WORD.match(low, anchor.end())
            at = filler.end() if filler else anchor.end()
        parsed = _ref_at(low, at, doc_type)
        if parsed is None:
            pos = max(anchor.end(), start + 1)
            continue
        ref, end = parsed
        found.append((ref, start, end))
        # A list continues the type of the first item: "Nghị quyết 57, 66 và 68", "57-NQ/TW, 59-NQ/TW".
        list_type = doc_type or ref.type
        while (sep := _LIST_SEP.match(low, end)) is not None:
            item = _ref_at(low, sep.end(), list_type)
            if item is None:
                break
            ref, item_end = item
            found.append((ref, sep.end(), item_end))
            end = item_end
        pos = end
    return found


def find_docrefs(text: str, *, until: int | None = None) -> list[tuple[DocRef, int, int]]:
    """Every document reference in ``text`` (normalized), with its [start, end) span, in text order.

    In a list each item is its own reference and its span covers that item only, so the first item's
    span includes the type word ("Nghị quyết số 57-NQ/TW") and the others are the number or code ("66").
    Abbreviations used as type words must not be all lower case ("NQ 57" counts, "nq 57" does not).
    ``until``: only the references (and lists) that start at or before this index, the same as without it;
    the scan stops there (the matcher wants those that hold a given number, and knows where it stands).
    """
    return _scan(text, strict_abbreviations=True, until=until)


def parse_docref(keyword: str) -> DocRef | None:
    """The document a keyword names, or ``None`` when the keyword is a plain phrase.

    Only a keyword that is exactly one reference counts: a type word or abbreviation with a number
    ("Nghị quyết 57", "NQ 57", "nghi quyet so 57"), or a code ("57-NQ/TW", "1519/QĐ-TTg"). "Nghị quyết
    57 của Bộ Chính trị" or "57" alone are phrases.
    """
    text = normalize(keyword)
    refs = _scan(text, strict_abbreviations=False)
    if len(refs) == 1 and refs[0][1] == 0 and refs[0][2] == len(text):
        return refs[0][0]
    return None


def doc_code(ref: DocRef) -> str:
    """One spelling for every way a document is cited: type, number, year, issuer ("NQ 57 (TW)")."""
    year = f"/{ref.year}" if ref.year else ""
    issuer = f" ({ref.issuer})" if ref.issuer else ""
    return f"{ref.type} {ref.number}{year}{issuer}"


def cited_documents(text: str) -> list[str]:
    """The distinct documents ``text`` cites, sorted; a bare "NQ 57" is dropped where the text also gives its code."""
    refs = {ref for ref, _, _ in find_docrefs(text)}
    coded = {(r.type, r.number) for r in refs if r.issuer}
    return sorted({doc_code(r) for r in refs if r.issuer or (r.type, r.number) not in coded})


# Where a coded reference may be: a number followed by a code ("57-NQ", "1519/QĐ") or a year ("13/2023").
# Only the stretches around these are parsed (a pure filter): most articles cite nothing, and a date
# such as "18-10" is not a hint.
_CODE_HINT = re.compile(r"\d[ \t]?[-/][ \t]?[^\W\d_]|\d/(?:19|20)\d\d(?!\d)")
_HINT_BEFORE = 80  # a type word ("Nghị quyết số") before the number
_HINT_AFTER = 60  # the rest of the code after it


def document_codes(text: str) -> list[str]:
    """The documents ``text`` identifies: references that give an issuer or a year ("57-NQ/TW", "13/2023/NĐ-CP").

    A bare "Nghị quyết 57" does not say whose resolution it is, so it cannot be a document's first
    citation; the briefing's new documents are these. Same result as filtering ``find_docrefs(text)``,
    parsing only around the numbers that carry a code (about 10× cheaper on a 5 KB article).
    """
    windows: list[tuple[int, int]] = []
    for m in _CODE_HINT.finditer(text):
        start = text.rfind(" ", 0, max(0, m.start() - _HINT_BEFORE)) + 1
        end = text.find(" ", m.end() + _HINT_AFTER)
        end = len(text) if end < 0 else end
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    found = {r for start, end in windows for r, _, _ in find_docrefs(text[start:end])}
    coded = {(r.type, r.number) for r in found if r.issuer}
    return sorted({doc_code(r) for r in found if r.issuer or (r.year and (r.type, r.number) not in coded)})
