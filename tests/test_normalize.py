"""Properties of Vietnamese normalization: dedupe and matching rely on them holding for any input."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.models import Document
from daemon.prepare import prepare
from daemon.text.normalize import (
    _INVISIBLE_CHARS,
    TONE_MARKS,
    Canonical,
    CanonicalBody,
    _has_invisible,
    canonical_by_hash,
    content_hash,
    fold,
    fold_with_map,
    normalize,
    normalize_body,
)

# Letters as Vietnamese text has them, precomposed (NFC) and as bare bases for the combining marks.
_BASES = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯYbcdđghklmnpqrstvxĐBCDGHKLMNPQRSTVX"
_PRECOMPOSED = "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵÀÁẢÃẠỦỶÝỲỸỴÒÓỎÕỌ"
_MARKS = TONE_MARKS + "\u0302\u0306\u031b"  # tones, then circumflex, breve, horn
_SPACES = " \t\n\r\u00a0\u202f\u2009\u200b\ufeff\u00ad"
_PUNCT = ".,;:!?()-–\"'/«»…0123456789"

_vi_char = st.sampled_from(_BASES + _PRECOMPOSED + _MARKS + _SPACES + _PUNCT)
vi_text = st.text(alphabet=_vi_char, max_size=60)
# Real words in the old tone placement, so the tone-moving rule is exercised often.
_WORDS = ["hoà", "hòa", "uỷ", "ủy", "thuý", "thúy", "khoẻ", "khỏe", "quý", "hoàng", "Thành", "Đảng", "bộ", "toà",
          "xoá", "Hoà", "UỶ", "Thuỵ", "quỳnh", "khuyến", "tuỳ", "loạ", "nguyễn", "chiều", "Ủy", "ban"]  # fmt: skip
vi_words = st.lists(st.sampled_from([*_WORDS, " ", "\n", "\u00a0", ", ", ". "]), max_size=20).map("".join)
any_vi = st.one_of(vi_text, vi_words)
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(any_vi)
def test_normalize_is_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


@settings(max_examples=400, deadline=None)
@given(any_vi)
def test_a_one_paragraph_canonical_body_is_taken_as_normalized(s: str) -> None:
    body = normalize_body(s)
    if "\n" not in body:
        assert normalize(body) == normalize(str(body)) == body


@SETTINGS
@given(any_vi)
def test_normalize_body_is_idempotent(s: str) -> None:
    once = normalize_body(s)
    assert normalize_body(once) == once


@SETTINGS
@given(any_vi)
def test_nfc_and_nfd_input_normalize_alike(s: str) -> None:
    nfc, nfd = unicodedata.normalize("NFC", s), unicodedata.normalize("NFD", s)
    assert normalize(nfc) == normalize(nfd)
    assert normalize_body(nfc) == normalize_body(nfd)


@SETTINGS
@given(any_vi)
def test_output_is_nfc_and_single_spaced(s: str) -> None:
    out = normalize(s)
    assert unicodedata.is_normalized("NFC", out)
    assert "  " not in out and "\n" not in out and out == out.strip()


@SETTINGS
@given(any_vi)
def test_body_keeps_at_most_one_blank_line(s: str) -> None:
    out = normalize_body(s)
    assert "\n\n\n" not in out and "\r" not in out
    assert all(line == line.strip() for line in out.split("\n"))


@SETTINGS
@given(any_vi)
def test_fold_is_unchanged_by_normalize(s: str) -> None:
    assert fold(normalize(s)) == fold(s)


@SETTINGS
@given(any_vi)
def test_fold_keeps_length_of_normalized_text_and_maps_back(s: str) -> None:
    text = normalize(s)
    folded, index = fold_with_map(text)
    assert len(folded) == len(index)
    assert index == sorted(set(index)) and all(0 <= i < len(text) for i in index)
    assert all(fold(text[i]) == folded[k] for k, i in enumerate(index) if not text[i].isspace())
    if not any(unicodedata.combining(ch) for ch in text):  # see test_fold_drops_stray_marks...
        assert len(folded) == len(text)


@pytest.mark.parametrize("s", ["\u0300", "a \u0301b", "q\u031b", "Đảng\u0301 bộ"])
def test_fold_drops_stray_marks_and_its_map_points_at_the_original(s: str) -> None:
    # A combining mark with no letter to compose with belongs to the character before it: fold drops it,
    # and the index map still points every folded character at the character it came from.
    text = normalize(s)
    folded, index = fold_with_map(text)
    assert len(folded) == len(index) == sum(not unicodedata.combining(ch) for ch in text)
    assert all(fold(text[i]) == folded[k] or not text[i].strip() for k, i in enumerate(index))


@SETTINGS
@given(vi_words)
def test_fold_of_vietnamese_words_is_plain_ascii(s: str) -> None:
    assert fold(s).isascii()


@SETTINGS
@given(any_vi, any_vi)
def test_content_hash_ignores_line_breaks_and_nfd(title: str, s: str) -> None:
    h = content_hash(title, s)
    assert content_hash(unicodedata.normalize("NFD", title), unicodedata.normalize("NFD", s)) == h
    assert content_hash(title.replace(" ", "\n"), s.replace(" ", "\n")) == h
    assert content_hash(title.replace(" ", "\r\n  "), s.replace(" ", "\r\n  ")) == h
    assert h.startswith("v2:") and len(h) == 3 + 64


@SETTINGS
@given(st.lists(st.sampled_from(["hoà", "uỷ", "thuý", "khoẻ", "toà", "xoá", "tuỳ"]), min_size=1, max_size=8))
def test_content_hash_ignores_old_tone_placement(words: list[str]) -> None:
    old = " ".join(words)
    new = " ".join(normalize(w) for w in words)
    assert old != new
    assert content_hash(old, old) == content_hash(new, new)


def test_content_hash_changes_when_words_change() -> None:
    assert content_hash("Họp", "Thành ủy họp") != content_hash("Họp", "Thành ủy không họp")
    assert content_hash("Họp", "Hòa") != content_hash("Họp", "Hóa")


def test_content_hash_changes_when_the_title_changes() -> None:
    """Equal bodies are not one article: every Hacker News item's description is "Comments"."""
    assert content_hash("Show HN: a tiny database", "Comments") != content_hash("Ask HN: who is hiring?", "Comments")
    assert content_hash("Hòa", "Tin") != content_hash("Hóa", "Tin")


def test_title_and_body_cannot_trade_words() -> None:
    assert content_hash("Thành ủy", "họp sáng nay") != content_hash("Thành ủy họp", "sáng nay")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hoà", "hòa"),
        ("Hoà Bình", "Hòa Bình"),
        ("uỷ", "ủy"),
        ("Uỷ ban", "Ủy ban"),
        ("thuý", "thúy"),
        ("khoẻ", "khỏe"),
        ("quý", "quý"),
        ("hoàng", "hoàng"),
        ("khuyến", "khuyến"),
        ("Thành\u00a0uỷ\u202fTPHCM", "Thành ủy TPHCM"),
        ("  a \t b\n\nc  ", "a b c"),
        ("Đả\u200bng", "Đảng"),
        (unicodedata.normalize("NFD", "Nguyễn Đình Vĩnh"), "Nguyễn Đình Vĩnh"),
    ],
)
def test_normalize_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_body_keeps_paragraphs() -> None:
    raw = "Dòng một\u00a0 có  khoảng\r\n\r\n\r\n\r\nĐoạn hai\rdòng ba  \n"
    assert normalize_body(raw) == "Dòng một có khoảng\n\nĐoạn hai\ndòng ba"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đảng bộ", "dang bo"),
        ("đ", "d"),
        ("Thành ủy", "thanh uy"),
        ("HOÀ", "hoa"),
        ("Nguyễn", "nguyen"),
        (unicodedata.normalize("NFD", "Ủy ban"), "uy ban"),
    ],
)
def test_fold_examples(raw: str, expected: str) -> None:
    assert fold(raw) == expected


def test_normalize_is_safe_from_many_threads() -> None:
    """Feed fetcher threads normalize at the same time; canonical text must come back as itself in each."""
    import threading

    texts = [f"Hoà bình số {i}\u00a0và  Uỷ ban {i}\n\n\n dòng {i}" for i in range(3000)]
    errors: list[BaseException] = []

    def work(part: list[str]) -> None:
        try:
            for t in part:
                body = normalize_body(t)
                assert normalize_body(body) is body
                assert normalize(normalize(t)) == normalize(t)
        except BaseException as exc:  # pragma: no cover - the failure is the assertion below
            errors.append(exc)

    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads all the time, so an unguarded race shows up
    try:
        threads = [threading.Thread(target=work, args=(texts[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []


def _reference_body(text: str) -> str:
    """The canonical body by its plain definition: the rules one by one, whole text at a time.

    Stored content hashes depend on this form (HASH_VERSION), so the faster line-wise implementation
    must agree with it exactly.
    """
    from daemon.text.normalize import _canonical

    text = _canonical(text.replace("\r\n", "\n").replace("\r", "\n"))
    for ch in (c for c in map(chr, range(0x3001)) if c.isspace() and c not in " \n"):
        text = text.replace(ch, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    text = "\n".join(line.strip(" ") for line in text.split("\n"))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["Hoà", "bình", " ", "  ", "\n", "\n\n\n", "\r\n", "\r", "\t", "\u00a0", "\u202f",
                                 "\u2028", "\x85", "\x0c", "\x1c", "\u3000", "\u200b", "\u00ad", "\u200e", "\x07",
                                 "a\u0301", "uỷ", "quý", ".", "Đảng"]), max_size=30).map("".join))
def test_body_normalization_is_its_definition(text: str) -> None:
    from daemon.text.normalize import _normalize_body

    assert _normalize_body(text) == _reference_body(text)


_HASH_PIECES = ["Hoà", "bình", "q", "uỷ", " ", "\n", "\n\n", "\n\n\n", "\r\n", "\t", "\x85", "\u00a0", "\u2028", "\x1c",
                "\u200b", "\u00ad", "đ", "ợ", "."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_HASH_PIECES), max_size=20).map("".join),
       st.lists(st.sampled_from(_HASH_PIECES), max_size=20).map("".join))
def test_content_hash_is_the_sha256_of_the_squashed_title_and_body(title: str, text: str) -> None:
    """The recipe as the README states it; content_hash squashes the title with normalize(), which agrees."""
    import hashlib

    from daemon.text.normalize import squash

    assert normalize(title) == squash(title)
    expected = hashlib.sha256(f"{squash(title)}\n{squash(text)}".encode()).hexdigest()
    assert content_hash(title, text) == "v2:" + expected


# Pieces of text where normalizing changes something, and where it does not.
_PIECES = ["Hoà", "hòa", "uỷ", "ủy", "quý", "Đảng", "a\u0301", " ", "  ", "\n", "\n\n", "\n\n\n", "\r\n", "\t",
           "\u00a0", "\u200b", "\x85", "\u2028", ".", "57"]
_text = st.lists(st.sampled_from(_PIECES), max_size=16).map("".join)


@settings(max_examples=400, deadline=None)
@given(_text, _text)
def test_a_hash_vouches_only_for_text_normalizing_would_leave_as_it_is(title: str, body: str) -> None:
    """A row edited by hand holds raw text under the hash of its normalized form: vouched for only if
    normalizing leaves it as it is."""
    vouched = canonical_by_hash(title, body, content_hash(title, body))
    if vouched is not None:
        assert normalize(title) == title and normalize_body(body) == body
        assert isinstance(vouched[0], Canonical) and isinstance(vouched[1], CanonicalBody)
    # What prepare stores is vouched for, but a title cut from the body that normalizing would change
    # (a line break, a space at the cut): that one is normalized again, as the service's matcher does.
    doc = prepare(Document("seeds", "x.txt", title, body)).doc
    vouched = canonical_by_hash(str(doc.title), str(doc.body), content_hash(doc.title, doc.body))
    assert (vouched is not None) == (normalize(str(doc.title)) == doc.title)


@pytest.mark.parametrize("ch", list(_INVISIBLE_CHARS))
def test_every_invisible_character_is_looked_for(ch: str) -> None:
    assert _has_invisible(f"hòa{ch}bình") and not _has_invisible("hòa bình\n\u00a0")
