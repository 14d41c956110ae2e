"""decode_bytes: one article saved by different editors must come out as the same text."""

from __future__ import annotations

import codecs
import random
import unicodedata
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.text.decode import DecodeError, decode_bytes
from daemon.text.normalize import TONE_MARKS, normalize_body

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARTICLE = (SEEDS / "003_66c6c28c11c30f85.txt").read_text(encoding="utf-8")


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed (ê, ơ, ư, ă, đ), tones as combining marks."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        try:
            out.append((ch if not tones else base + tones).encode("cp1258"))
        except UnicodeEncodeError:
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def test_cp1258_helper_really_uses_combining_tones() -> None:
    raw = to_cp1258("Thành ủy")
    assert raw == b"Tha\xccnh u\xd2y"  # grave and hook above as separate bytes
    assert raw.decode("cp1258") != "Thành ủy"  # so normalizing is what makes them equal


ENCODED = {
    "utf-8": ARTICLE.encode("utf-8"),
    "utf-8-sig": codecs.BOM_UTF8 + ARTICLE.encode("utf-8"),
    "utf-16-le+bom": codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le"),
    "utf-16-be+bom": codecs.BOM_UTF16_BE + ARTICLE.encode("utf-16-be"),
    "utf-16-le": ARTICLE.encode("utf-16-le"),
    "utf-16-be": ARTICLE.encode("utf-16-be"),
    "utf-16-nfd": unicodedata.normalize("NFD", ARTICLE).encode("utf-16-le"),
    "utf-32+bom": ARTICLE.encode("utf-32"),
    "utf-32-le": ARTICLE.encode("utf-32-le"),
    "utf-32-be": ARTICLE.encode("utf-32-be"),
    "cp1258": to_cp1258(ARTICLE),
    "crlf": ARTICLE.replace("\n", "\r\n").encode("utf-8"),
}


@pytest.mark.parametrize("variant", sorted(ENCODED))
def test_same_article_in_every_encoding_gives_the_same_text(variant: str) -> None:
    text, _encoding = decode_bytes(ENCODED[variant])
    assert normalize_body(text) == normalize_body(ARTICLE)
    assert "\ufeff" not in text


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("utf-16-le+bom", "utf-16-le"),
        ("utf-16-be+bom", "utf-16-be"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-32+bom", "utf-32-le"),
        ("utf-32-le", "utf-32-le"),
        ("utf-32-be", "utf-32-be"),
        ("cp1258", "cp1258"),
    ],
)
def test_reports_the_encoding_used(variant: str, expected: str) -> None:
    assert decode_bytes(ENCODED[variant])[1] == expected


PORTUGUESE = ("As simulações mostram que a prisão preventiva não é a solução: o governo anunciou ações de "
              "informação para a população, após a reunião do conselho com as mães e os irmãos.")
ITALIAN = "Però la città è più bella così, perché il caffè è buono e ciò che può accadere lunedì."


@pytest.mark.parametrize("text", [PORTUGUESE, ITALIAN, "prisão", "Ele não põe a mão."],
                         ids=["pt", "it", "word", "short"])
def test_western_text_is_not_read_as_vietnamese(text: str) -> None:
    # Every byte of these decodes in cp1258 too, as "simulaçơes", "prisăo": only cp1252 reads as a language.
    assert decode_bytes(text.encode("cp1252")) == (text, "cp1252")


@pytest.mark.parametrize(
    "text",
    ["Thành ủy Đà Nẵng họp", "Đắk Lắk", "Ư", "THÀNH ỦY TỔ CHỨC HỘI NGHỊ",
     "Đoàn công tác của Thành ủy đã đến São Paulo và Curitiba để học hỏi kinh nghiệm quản lý đô thị."],
    ids=["short", "place", "letter", "upper", "foreign-names"],
)
def test_vietnamese_cp1258_is_still_cp1258(text: str) -> None:
    decoded, encoding = decode_bytes(to_cp1258(text))
    assert (normalize_body(decoded), encoding) == (normalize_body(text), "cp1258")


def test_cp1252_is_the_last_resort_for_bytes_cp1258_lacks() -> None:
    text, encoding = decode_bytes("Škoda – café".encode("cp1252"))
    assert (text, encoding) == ("Škoda – café", "cp1252")


def test_utf8_cut_off_in_the_middle_of_the_last_letter() -> None:
    raw = "Văn phòng Thành ủy Đ".encode()[:-1]  # a download cut inside the two bytes of "Đ"
    assert decode_bytes(raw) == ("Văn phòng Thành ủy ", "utf-8")


def test_utf8_with_one_stray_byte_is_still_utf8() -> None:
    raw = ARTICLE.encode("utf-8")
    middle = len(raw) // 2
    while raw[middle] >= 0x80:  # put the stray byte between two characters
        middle += 1
    text, encoding = decode_bytes(raw[:middle] + b"\xff" + raw[middle:])
    assert encoding.startswith("utf-8")
    assert text.replace("\ufffd", "") == ARTICLE


def test_utf16_with_odd_length_drops_the_half_unit() -> None:
    raw = "Thành ủy họp".encode("utf-16-le") + b"\x41"
    assert decode_bytes(raw) == ("Thành ủy họp", "utf-16-le")


def test_text_starting_like_an_executable_signature_is_still_text() -> None:
    assert decode_bytes(b"MZ Thanh uy") == ("MZ Thanh uy", "utf-8")


def test_empty_input() -> None:
    with pytest.raises(DecodeError, match="empty"):
        decode_bytes(b"")


def _png() -> bytes:
    chunk = b"IHDR" + (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + len(chunk[4:]).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")


def _zip() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:t>Thành ủy</w:t>")
    return buf.getvalue()


_RNG = random.Random(7)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_png(), "PNG"),
        (_zip(), "zip"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (bytes(_RNG.randrange(256) for _ in range(4000)), "NUL"),
        (bytes(_RNG.randrange(1, 256) for _ in range(4000)), "control characters"),
        (b"abc\x00\x00\x00\x01\x02\x00def\x00", "NUL"),
        (b"\x01\x02\x03\x04\x05\x06 text \x07\x08", "control characters"),
    ],
)
def test_binary_content_is_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match="binary") as info:
        decode_bytes(raw)
    assert reason in str(info.value)


def test_bytes_no_candidate_can_decode() -> None:
    with pytest.raises(DecodeError, match="undecodable"):
        decode_bytes(b"Th\x81nh \x8d\x90 u\x9dy")


def test_a_bom_that_lies_is_an_error_not_garbage() -> None:
    with pytest.raises(DecodeError, match="UTF-16"):
        decode_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8\x41\x00")  # lone high surrogate


def test_decode_error_is_a_value_error() -> None:
    assert issubclass(DecodeError, ValueError)


_WORDS = ["Thành", "ủy", "Đảng", "bộ", "Văn", "phòng", "Hòa", "chỉ", "đạo", "Nguyễn", "ở", "được", "nhiệm", "vụ",
          "2025", "(GMT+7)", "-", "“Đổi", "mới”", "các", "cấp", "Ư", "ẵ"]  # fmt: skip
# At least two words: BOM-less UTF-16 is recognised by the NUL high bytes of spaces and ASCII letters, and a
# lone "ở" (DF 1E) has none. Real files always have spaces.
sentences = st.lists(st.sampled_from(_WORDS), min_size=2, max_size=40).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(sentences, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]))
def test_any_vietnamese_sentence_round_trips(text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec))[0] == text


@settings(max_examples=80, deadline=None)
@given(sentences)
def test_any_vietnamese_sentence_round_trips_through_cp1258(text: str) -> None:
    assert normalize_body(decode_bytes(to_cp1258(text))[0]) == normalize_body(text)


def test_c1_control_characters_in_utf8_count_as_binary() -> None:
    text = "Văn bản" + "\u0085\u0090\u009f" * 20  # valid UTF-8, but mostly C1 controls
    with pytest.raises(DecodeError, match="control characters"):
        decode_bytes(text.encode("utf-8"))
    assert decode_bytes(("Văn bản " * 20 + "\u0085").encode("utf-8"))[1] == "utf-8"  # one is not binary


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aăđ ợ\n\t\x0c\x1a\x01\x07\x1b\x7f\u0085\u0090\u009f\u00a0«"), max_size=80),
       st.integers(0, 70000))
def test_utf8_control_check_counts_as_the_text_check_does(text: str, pad: int) -> None:
    """The byte-level count for UTF-8 refuses exactly what the character-level check refuses."""
    from daemon.text.decode import _checked

    raw = (text + "a" * (pad if pad > 60000 else 0)).encode("utf-8")
    if not raw or raw[:1] in (b"\x1f", b"\x7f"):
        return  # (empty, or a magic number's first byte: other checks come first)
    try:
        expected: object = _checked(raw.decode("utf-8"), "utf-8")
    except DecodeError as exc:
        expected = str(exc)
    try:
        got: object = decode_bytes(raw)
    except DecodeError as exc:
        got = str(exc)
    if isinstance(got, str) and "control characters" in got and isinstance(expected, tuple):
        # decode_bytes also refuses a file whose C0 bytes pass 5 % before decoding anything.
        assert sum(ch in "\x01\x07\x1b\x7f" for ch in text) > 0.05 * len(raw)
        return
    assert got == expected
