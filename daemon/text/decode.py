"""Turn the bytes of a seed file or a feed body into text, whatever the office's editor saved.

Vietnamese text reaches us as UTF-8 (with or without a BOM), as UTF-16 from Windows tools ("Unicode" in
Notepad; sometimes without a BOM), and as Windows-1258, the legacy Vietnamese code page, which writes most
tones as separate combining marks. The order of guesses matters:

1. A byte-order mark is an explicit statement: use that codec.
2. NUL bytes in text only come from UTF-16 or UTF-32: if they sit on one parity (every high byte of
   mostly Latin text), decode as UTF-16 of that endianness; if two of every four bytes are NUL, as
   UTF-32 (each code point below U+10000 has a zero top half). NUL bytes anywhere else mean a binary file.
3. Strict UTF-8. Legacy 8-bit Vietnamese practically never forms valid UTF-8 sequences, so success is
   reliable. A file that is UTF-8 except for a cut-off last character (a truncated download) or a rare
   stray byte is still UTF-8; re-reading it as cp1258 would garble every other letter.
4. cp1258 when its reading is Vietnamese, else cp1252. Both decode almost any 8-bit text: they differ
   in 18 bytes only, which cp1258 reads as ă ơ ư đ and the five combining tone marks, cp1252 as the
   Portuguese, Italian and Icelandic letters ã õ ì ò ð … ("prisão" becomes "prisăo" in cp1258). So the
   words holding those bytes decide: in Vietnamese nearly every one is a well-formed syllable (onset,
   rhyme, at most one tone, on a vowel), in a Western text nearly none is. The test needs no letter
   statistics, so it also decides a one-word title, where charset-normalizer answers "Unknown" (and it
   ranks Portuguese "Spanish" under both code pages with equal scores). cp1252 also covers bytes cp1258
   leaves undefined (Š, Ž). ISO-8859-1 is deliberately not a candidate: it accepts every byte string,
   so it would turn binary junk into "text" instead of an error.

The returned text is not normalized: cp1258 yields combining tone marks, and the caller runs
``normalize_body`` (NFC) anyway. Known binary formats are named in the error so the operator knows which
file slipped into the seed folder.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

from daemon.errors import DecodeError

__all__ = ["DecodeError", "decode_bytes"]

# (magic prefix, human name) for files people drop into a seed folder by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "zip archive (or .docx/.xlsx)"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document (.doc/.xls)"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "executable"),
    (b"MZ", "Windows executable"),
    (b"SQLite format 3\x00", "SQLite database"),
)
# Control characters (C0, DEL, C1) except those that legitimately occur in text files: tab, line breaks,
# form feed and \x1a, the DOS end-of-file mark some old tools append.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if not _CONTROL_CHARS.match(chr(b)) or b >= 0x80)
_C1_IN_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
_SAMPLE = 64 * 1024  # bytes/characters examined by the statistical checks
_MAX_CONTROL_SHARE = 0.05
_MIN_UTF16_NUL_SHARE = 0.2  # share of NUL high bytes: ASCII/Latin-1 letters, spaces, digits, punctuation
_MAX_UTF16_OTHER_NUL_SHARE = 0.05
_MIN_UTF32_NUL_SHARE = 0.9  # the two top bytes of UTF-32: NUL below U+10000 (emoji and rare Han are above)
_MAX_UTF8_ERROR_SHARE = 0.01  # invalid sequences per non-ASCII character still read as UTF-8


# What cp1258 reads where cp1252 reads other letters: ă ơ ư đ (either case) and the five tone marks.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_CP1258_ONLY = re.compile(f"[ĂăĐđƠơƯư{_TONES}]")
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_TONE = re.compile(f"[{_TONES}]")
_TONE_OFF_VOWEL = re.compile(f"(?<![aeiouy\u0302\u0306\u031b])[{_TONES}]")  # NFD: tones follow the vowel
_NO_TONES = str.maketrans("", "", _TONES)
_DECIDING_WORDS = 32  # enough for a clear majority; the first lines of a file have that many


def _rhymes() -> frozenset[str]:
    """Every Vietnamese rhyme (vần) without its tone: nucleus and the codas it takes.

    Generous at the edges (bare "ă"/"â" are letter names, "k" ends "Đắk Lắk"): a false "yes" costs
    little when most words must agree, a false "no" on a real Vietnamese word costs a garbled file.
    """
    codas = {
        "a": " i o u y c ch m n ng nh p t", "ă": " c m n ng p t k", "â": " c m n ng p t u y",
        "e": " o c m n ng p t", "ê": " u ch m n nh p t", "i": " a u ch m n nh p t c",
        "iê": "c m n ng p t u", "yê": "m n t u", "o": " i c m n ng p t", "oo": "c ng",
        "oa": " i y o c ch m n ng nh p t", "oă": "c m n ng t", "oe": " o n t", "ô": " i c m n ng p t k",
        "ơ": " i m n p t", "u": " a i c m n ng p t", "uâ": "n ng t y", "uê": " ch nh", "uô": "i c m n ng t",
        "uơ": "", "uy": " a u ch n nh p t", "uyê": "n t", "ư": " a i u c m n ng t",
        "ươ": "i u c m n ng p t", "y": "",
    }
    return frozenset(nucleus + coda for nucleus, tails in codas.items() for coda in tails.split(" "))


_RHYMES = _rhymes()
_ONSETS = frozenset({"", "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu",
                     *"bcdđghklmnprstvx"})


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode ``raw`` to text; return ``(text, encoding name used)`` or raise ``DecodeError``."""
    if not raw:
        raise DecodeError("empty file")
    bom = _decode_with_bom(raw)
    if bom is not None:
        return bom
    for magic, name in _MAGIC:
        if raw.startswith(magic) and (len(magic) > 2 or _control_bytes(raw) > 0):
            raise DecodeError(f"binary content ({name})")
    if b"\x00" in raw:
        return _checked(*(_decode_utf32_without_bom(raw) or _decode_utf16_without_bom(raw)))
    c0_controls = _control_bytes(raw)
    if c0_controls > _MAX_CONTROL_SHARE * min(len(raw), _SAMPLE):
        # Before any 8-bit guess: the same C0 bytes are controls in UTF-8, cp1258 and cp1252 alike.
        raise DecodeError("binary content (control characters)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        mostly = _mostly_utf8(raw, exc)
        if mostly is not None:
            return _checked(*mostly)
    else:
        return _checked_utf8(raw, text, c0_controls)
    try:
        text = raw.decode("cp1258")
    except UnicodeDecodeError:
        pass  # Š, Ž…: bytes cp1258 leaves undefined; cp1252 is the only candidate
    else:
        if reads_as_vietnamese(text):
            return _checked(text, "cp1258")
    try:
        return _checked(raw.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        raise DecodeError("undecodable text (not UTF-8, UTF-16 or Windows-1258)") from None


def reads_as_vietnamese(cp1258_text: str) -> bool:
    """True when most words holding a letter only cp1258 reads (ă ơ ư đ, tone marks) are Vietnamese syllables.

    False also when there is no such word: then cp1252 reads the same text (bar "₫"/"þ"). The first
    32 such words decide; a file whose first lines are mostly foreign names is not worth a full scan.
    """
    if not _CP1258_ONLY.search(cp1258_text, 0, _SAMPLE):
        return False
    deciding = valid = 0
    for m in _WORD.finditer(cp1258_text, 0, _SAMPLE):
        word = m.group()
        if _CP1258_ONLY.search(word):
            deciding += 1
            valid += _is_syllable(word)
            if deciding == _DECIDING_WORDS:
                break
    return valid * 2 > deciding


@functools.lru_cache(maxsize=4096)  # a bulk ingest meets the same few thousand words again and again
def _is_syllable(word: str) -> bool:
    """A well-formed Vietnamese syllable: onset + rhyme, and at most one tone mark, on a vowel."""
    letters = unicodedata.normalize("NFD", word.lower())
    if len(_TONE.findall(letters)) > 1 or _TONE_OFF_VOWEL.search(letters):
        return False
    bare = unicodedata.normalize("NFC", letters.translate(_NO_TONES))
    return any(bare[:n] in _ONSETS and bare[n:] in _RHYMES for n in range(min(len(bare), 3), -1, -1))


def _decode_with_bom(raw: bytes) -> tuple[str, str] | None:
    # UTF-32 LE's BOM starts with UTF-16 LE's, so the longer marks are tried first.
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    for bom, codec in boms:
        if not raw.startswith(bom):
            continue
        body = raw[len(bom) :]
        if codec.startswith("utf-32"):
            try:
                return _checked(body.decode(codec), codec)
            except UnicodeDecodeError:
                continue  # FF FE 00 00 can also be a UTF-16 LE BOM followed by U+0000
        if codec.startswith("utf-16") and len(body) % 2:
            body = body[:-1]  # a truncated last code unit
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            raise DecodeError(f"invalid {codec.upper()} despite its byte-order mark") from None
        return _checked(text, codec)
    return None


def _decode_utf32_without_bom(raw: bytes) -> tuple[str, str] | None:
    sample = raw[: _SAMPLE - _SAMPLE % 4]
    units = max(len(sample) // 4, 1)
    nuls = [sample[i::4].count(0) / units for i in range(4)]
    if nuls[2] >= _MIN_UTF32_NUL_SHARE and nuls[3] >= _MIN_UTF32_NUL_SHARE and nuls[0] <= _MAX_UTF16_OTHER_NUL_SHARE:
        codec = "utf-32-le"
    elif nuls[1] >= _MIN_UTF32_NUL_SHARE and nuls[0] >= _MIN_UTF32_NUL_SHARE and nuls[3] <= _MAX_UTF16_OTHER_NUL_SHARE:
        codec = "utf-32-be"
    else:
        return None
    try:
        return raw[: len(raw) - len(raw) % 4].decode(codec), codec
    except UnicodeDecodeError:
        return None  # not UTF-32 after all: the UTF-16 check (or the binary verdict) decides


def _decode_utf16_without_bom(raw: bytes) -> tuple[str, str]:
    sample = raw[: _SAMPLE - _SAMPLE % 2]
    pairs = max(len(sample) // 2, 1)
    even_nuls = sample[0::2].count(0) / pairs
    odd_nuls = sample[1::2].count(0) / pairs
    if odd_nuls >= _MIN_UTF16_NUL_SHARE and even_nuls <= _MAX_UTF16_OTHER_NUL_SHARE:
        codec = "utf-16-le"  # "H\0o\0": the high byte comes second
    elif even_nuls >= _MIN_UTF16_NUL_SHARE and odd_nuls <= _MAX_UTF16_OTHER_NUL_SHARE:
        codec = "utf-16-be"
    else:
        raise DecodeError("binary content (NUL bytes)")
    body = raw[: len(raw) - len(raw) % 2]
    try:
        return body.decode(codec), codec
    except UnicodeDecodeError:
        raise DecodeError("binary content (NUL bytes, not valid UTF-16)") from None


def _mostly_utf8(raw: bytes, first_error: UnicodeDecodeError) -> tuple[str, str] | None:
    """UTF-8 with a cut-off tail or a rare stray byte, or None when it is really another encoding."""
    if first_error.start >= len(raw) - 3 and first_error.reason == "unexpected end of data":
        head = raw[: first_error.start].decode("utf-8")  # valid: the first error is the cut
        if not head.isascii():  # other multi-byte letters prove UTF-8; "vu\xf2" alone is cp1258 "vụ"
            return head, "utf-8"
    text = raw.decode("utf-8", errors="replace")
    errors = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", errors="ignore")) - errors
    if non_ascii >= 20 and errors <= non_ascii * _MAX_UTF8_ERROR_SHARE:
        return text, "utf-8 (with invalid bytes replaced)"
    return None


def _control_bytes(raw: bytes) -> int:
    return len(raw[:_SAMPLE].translate(None, delete=_NOT_CONTROL_BYTES))


def _checked_utf8(raw: bytes, text: str, c0_controls: int) -> tuple[str, str]:
    """``_checked`` for UTF-8, counted in the bytes (the common case, and a pass over the text saved).

    When the whole file was sampled, its C0 and DEL bytes are its C0 and DEL characters, and a C1
    character is one of the byte pairs C2 80..C2 9F: the same count ``_checked`` would make.
    """
    if len(raw) > _SAMPLE:
        return _checked(text, "utf-8")
    controls = c0_controls + (len(_C1_IN_UTF8.findall(raw)) if b"\xc2" in raw else 0)
    if controls >= 2 and controls > len(text) * _MAX_CONTROL_SHARE:
        raise DecodeError("binary content (control characters)")
    return text, "utf-8"


def _checked(text: str, codec: str) -> tuple[str, str]:
    """Reject a decoding that produced mostly control characters: that is binary data, not text."""
    sample = text[:_SAMPLE]
    controls = len(_CONTROL_CHARS.findall(sample))
    if controls >= 2 and controls > len(sample) * _MAX_CONTROL_SHARE:
        raise DecodeError("binary content (control characters)")
    return text, codec
