"""Make equal Vietnamese text compare equal.

The same sentence reaches us as NFC or NFD, with the old tone placement ("hoà", "uỷ") or the new one
("hòa", "ủy"), with no-break spaces from web pages, CRLF from Windows. Dedupe, matching and search all
work on the form produced here, so a change to it must bump ``HASH_VERSION``.

Tone placement: we keep the convention the samples and most official texts use, the tone on the first
vowel of an open ``oa``/``oe``/``uy`` syllable: hoà→hòa, khoẻ→khỏe, uỷ→ủy, thuý→thúy. With a final
consonant both conventions agree (hoàng, khuyến) and nothing moves; ``qu`` is a consonant, so quý stays.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

HASH_VERSION = "v1"

# The five Vietnamese tone marks as combining characters (grave, acute, tilde, hook above, dot below).
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"

# In NFD, an old-style open syllable looks like: o|u, then a|e|y, then a tone mark, then no letter.
_OLD_TONE = re.compile(
    rf"(?<![qQ])([oOuU])([aAeEyY])([{TONE_MARKS}])(?![\w\u0300-\u036f])",
)
# Zero-width characters and soft hyphens that copy-paste leaves in text; they split words invisibly.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Every horizontal space, including no-break (U+00A0), narrow no-break (U+202F) and figure spaces.
_HSPACE = re.compile(r"[^\S\n]+")
_ANY_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _fix_tones(nfd: str) -> str:
    """Move old-style tone marks onto the first vowel (expects NFD input)."""

    def swap(m: re.Match[str]) -> str:
        # Only when the pair has no other marks: "ơa"/"uê" are different vowels, not old-style tones.
        return m.group(1) + m.group(3) + m.group(2)

    return _OLD_TONE.sub(swap, nfd)


def normalize(text: str) -> str:
    """One line of text in canonical form: NFC, new tone placement, single spaces, trimmed."""
    return _ANY_SPACE.sub(" ", _canonical(text)).strip()


def normalize_body(text: str) -> str:
    """A multi-paragraph body in canonical form; keeps paragraph breaks (at most one blank line)."""
    text = _canonical(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_HSPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _canonical(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text.translate(_INVISIBLE))
    return unicodedata.normalize("NFC", _fix_tones(nfd))


def squash(text: str) -> str:
    """Body as hashed: canonical, and every run of white space (line breaks too) is one space."""
    return normalize(text)


def content_hash(body: str) -> str:
    """Identity of an article: ``v1:`` + SHA-256 of the squashed body.

    Line wrapping, normalization form and tone placement do not change it; any change of words does.
    """
    digest = hashlib.sha256(squash(body).encode("utf-8")).hexdigest()
    return f"{HASH_VERSION}:{digest}"


def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    return (base.lower() or base)[:1]


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` one character at a time; also return, per folded character, its index in ``text``.

    The map lets a caller find a match in folded text and point at (or highlight) the original words.
    ``text`` should already be normalized (NFC), so every character folds to exactly one character.
    """
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.combining(ch):
            continue  # stray mark (NFD input): belongs to the previous letter
        out.append(_fold_char(ch))
        index.append(i)
    return "".join(out), index


def fold(text: str) -> str:
    """Diacritic- and case-free form for search: "Đảng bộ" → "dang bo". Keeps length for NFC input."""
    return fold_with_map(normalize(text))[0]
