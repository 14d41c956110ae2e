"""Make equal Vietnamese text compare equal.

The same sentence reaches us as NFC or NFD, with the old tone placement ("hoà", "uỷ") or the new one
("hòa", "ủy"), with no-break spaces from web pages, CRLF from Windows. Dedupe, matching and search all
work on the form produced here, so a change to it must bump ``HASH_VERSION`` (and add a migration that
recomputes the stored hashes: ``store.schema``).

Tone placement: we keep the convention the samples and most official texts use, the tone on the first
vowel of an open ``oa``/``oe``/``uy`` syllable: hoà→hòa, khoẻ→khỏe, uỷ→ủy, thuý→thúy. With a final
consonant both conventions agree (hoàng, khuyến) and nothing moves; ``qu`` is a consonant, so quý stays.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from daemon.text.chars import FoldTable, is_word_char

HASH_VERSION = "v2"  # v1 hashed the body alone; v2 hashes title and body

# The five Vietnamese tone marks as combining characters (grave, acute, tilde, hook above, dot below).
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _old_tone_table() -> dict[str, tuple[str, str]]:
    """NFC "à" → ("a", "\u0300") for the vowels that carry the tone in old-style oa/oe/uy syllables."""
    table = {}
    for base in "aeyAEY":
        for mark in TONE_MARKS:
            table[unicodedata.normalize("NFC", base + mark)] = (base, mark)
    return table


_TONED_SECOND = _old_tone_table()
# In NFC, an old-style open syllable is: o|u (no marks of its own), then a toned a|e|y, then no letter.
# The regex itself rules out a following letter (canonical text has many "toàn" and no old-style syllable
# left), so Python sees few candidates; "qu" and a following combining mark are checked there.
_OLD_TONE_CANDIDATE = re.compile(rf"[oOuU][{''.join(_TONED_SECOND)}](?!\w)")
# Zero-width characters and soft hyphens that copy-paste leaves in text; they split words invisibly.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
_BLANK_LINES = re.compile(r"\n{3,}")


def _fix_tones(text: str) -> str:
    """Move old-style tone marks onto the first vowel (NFC in, NFC out)."""
    parts: list[str] = []
    last = 0
    for m in _OLD_TONE_CANDIDATE.finditer(text):
        start, end = m.span()
        if start > 0 and text[start - 1] in "qQ":
            continue  # "qu" is a consonant: quý, quỷ keep their tone where it is
        if end < len(text) and is_word_char(text[end]):
            continue  # a final consonant follows (hoàng, toàn): both conventions agree
        base, mark = _TONED_SECOND[text[start + 1]]
        parts += [text[last:start], unicodedata.normalize("NFC", text[start] + mark), base]
        last = end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


class CanonicalBody(str):
    """Text known to be in ``normalize_body``'s form: ``normalize_body`` hands it back as it is.

    One article's text passes through several stages that each normalize it to be safe (parser, prepare,
    content hash, matcher). Normalization is idempotent, so text that says so in its type costs those
    stages nothing. Any operation on it (a slice, ``strip``, a join) gives a plain ``str`` again, which
    the next stage normalizes: only the functions here, and a producer that constructs one on purpose,
    can make the claim.
    """

    __slots__ = ()


class Canonical(CanonicalBody):
    """One line known to be in ``normalize``'s form (which is also a canonical body of one paragraph)."""

    __slots__ = ()


def normalize(text: str) -> Canonical:
    """One line of text in canonical form: NFC, new tone placement, single spaces, trimmed."""
    if isinstance(text, Canonical):
        return text
    if isinstance(text, CanonicalBody) and "\n" not in text:
        # One paragraph in normalize_body's form is in this form: single spaces, trimmed (a feed item's title
        # comes here from html_to_text).
        return Canonical(text)
    # str.split() knows every Unicode space, U+00A0 and U+202F too.
    return Canonical(" ".join(_canonical(text).split()))


def normalize_body(text: str) -> CanonicalBody:
    """A multi-paragraph body in canonical form; keeps paragraph breaks (at most one blank line)."""
    if isinstance(text, CanonicalBody):
        return text
    return CanonicalBody(_normalize_body(text))


def _normalize_body(text: str) -> str:
    text = _canonical(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _has_odd_spacing(line):
            lines[i] = " ".join(line.split())  # str.split() knows every Unicode space, U+00A0 and U+202F too
    text = "\n".join(lines)
    return (_BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text).strip()


def _has_odd_spacing(line: str) -> bool:
    """Does this line need re-spacing? Most lines of most bodies do not, and this is cheaper than doing it.

    Every white-space character but " " is unprintable, so a line that ``isprintable`` (one C-level pass)
    has none; a line that is not may hold some other unprintable character, and is re-spaced for nothing.
    """
    return not line.isprintable() or line[:1] == " " or line[-1:] == " " or "  " in line


def _has_invisible(text: str) -> bool:
    """Whether ``text`` holds one of ``_INVISIBLE_CHARS``, read from that list itself. (The six tests
    written out took 0.3 µs less a text: not worth a second copy of the list.)"""
    return any(map(text.__contains__, _INVISIBLE_CHARS))


def _canonical(text: str) -> str:
    if _has_invisible(text):
        text = text.translate(_INVISIBLE)
    # NFC first (a no-op check for text that already is), then move old-style tones in the NFC form.
    return _fix_tones(unicodedata.normalize("NFC", text))


def squash(text: str) -> str:
    """Text as hashed: canonical, and every run of white space (line breaks too) is one space."""
    # A canonical body has single spaces and no space around its line breaks: joining lines is enough.
    return normalize_body(text).replace("\n\n", " ").replace("\n", " ")


def content_hash(title: str, body: str) -> str:
    """Identity of an article: ``v2:`` + SHA-256 of ``squash(title) + "\\n" + squash(body)`` in UTF-8.

    Line wrapping, normalization form and tone placement do not change it; any change of words does, in
    the title as in the body. The title is part of it because bodies alone collide: a feed whose every
    description is "Comments", two stories sharing one lead. A squashed text holds no line break, so the
    one between them keeps ("a b", "c") and ("a", "b c") apart.
    """
    # Text typed canonical (what prepare() hands over) is not normalized again: squashing only joins its lines.
    return _canonical_hash(normalize_body(title), normalize_body(body))


def _canonical_hash(title: str, body: str) -> str:
    """``content_hash`` of a title and body in ``normalize_body``'s form (not checked)."""
    # Lines are joined in the UTF-8 bytes (a line break is one byte there, never part of another character's):
    # the same bytes as squash() then encode, for two-thirds of the time (`newswatch match` checks 20,000).
    digest = hashlib.sha256(title.encode("utf-8").replace(b"\n\n", b" ").replace(b"\n", b" "))
    digest.update(b"\n")
    digest.update(body.encode("utf-8").replace(b"\n\n", b" ").replace(b"\n", b" "))
    return f"{HASH_VERSION}:{digest.hexdigest()}"


def canonical_by_hash(title: str, body: str, stored_hash: str) -> tuple[Canonical, CanonicalBody] | None:
    """A stored article's title and body typed canonical, when its content hash proves they are; else None.

    The store keeps the text ``prepare`` made and the hash of it, so normalizing it again (`newswatch
    match` over a month of the archive) costs about 30 µs an article for nothing; hashing it as if it were
    canonical costs a quarter of that. When that gives the stored hash, the text squashes to the canonical
    form it was hashed from, so it can differ from a canonical text only by a line break (or a blank line)
    where that has a space, and ``normalize_body`` keeps those too; a title with a line break is not taken
    (``normalize`` makes it a space). A row edited by hand, or hashed by an older recipe, does not agree:
    the caller normalizes it as before. (Exact but for a SHA-256 collision.)
    """
    return (Canonical(title), CanonicalBody(body)) if vouched_by_hash(title, body, stored_hash) else None


def vouched_by_hash(title: str, body: str, stored_hash: str) -> bool:
    """Whether ``canonical_by_hash`` would take the text, without its typed copies (a copy of every body
    costs `newswatch match` 2 %: it tells the matcher instead, ``Matcher.match(canonical=True)``)."""
    return "\n" not in title and _canonical_hash(title, body) == stored_hash


_SEARCH_FOLD = FoldTable(keep_marks=False)  # fold() and the folded words kept for search: stray marks go


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text``; also return, per folded character, its index in ``text``.

    The map lets a caller find a match in folded text and point at (or highlight) the original words.
    For NFC text (the normal case) every character folds to exactly one, and the map is the identity.
    """
    folded = text.translate(_SEARCH_FOLD)
    if len(folded) == len(text):
        return folded, list(range(len(text)))
    index = [i for i, ch in enumerate(text) if _SEARCH_FOLD[ord(ch)] is not None]
    return folded, index


def fold_canonical(text: str) -> str:
    """``fold`` for text that is canonical already: the table alone, no normalization pass."""
    return text.translate(_SEARCH_FOLD)


def fold(text: str) -> str:
    """Diacritic- and case-free form for search: "Đảng bộ" → "dang bo"."""
    return normalize(text).translate(_SEARCH_FOLD)
