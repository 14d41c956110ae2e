"""prepare(): the normalized document, its content hash and the folded đ-words indexed for search."""

from __future__ import annotations

import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.prepare import d_words
from daemon.text.normalize import fold, fold_with_map


def test_d_words_are_the_folded_words_with_d_each_once() -> None:
    assert d_words("Đảng bộ đang Đảng ủy đồng chí") == "dang dong"
    assert d_words("Không có chữ nào") == ""
    assert d_words("Ban Chấp hành ĐẢNG BỘ") == "dang"


def test_a_word_glued_to_its_neighbour_counts_from_its_d() -> None:
    assert d_words("xđy Đảngđoàn") == "dy dangdoan"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aăâdđĐeêoôơuưàáảãạằắẳẵặỏộ İ,.-_0123456789\n", max_size=60))
def test_d_words_as_defined_by_a_regex(text: str) -> None:
    """The split-based scan gives what the plain definition gives: each run of word characters from a đ."""
    words = dict.fromkeys(re.findall(r"[đĐ]\w*", text))
    folded, _ = fold_with_map(" ".join(words))
    assert d_words(text) == " ".join(dict.fromkeys(folded.split()))
    assert all(fold(w) == w for w in d_words(text).split())


def test_worker_processes_give_exactly_what_the_main_process_gives(tmp_path: Path) -> None:
    """A bulk import runs in spawned workers that send plain tuples back; nothing may get lost on the way."""
    from daemon.match import Matcher
    from daemon.models import Rule
    from daemon.prepare import PARALLEL_MIN_FILES, process_seeds
    from daemon.sources.folder import scan
    from daemon.text.dates import VN_TZ

    samples = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    for i in range(PARALLEL_MIN_FILES + 20):
        raw = samples[i % len(samples)].read_bytes() + f"\n\nBài số {i}.".encode()
        (tmp_path / f"f{i:04d}.txt").write_bytes(raw if i % 50 else b"\x00\x01\x02binary" * 10)
    seeds = scan(tmp_path, {}, time.time() + 10).changed
    rules = (Rule("nq57", ("Nghị quyết 57",)), Rule("vp", ("van phong cap uy", "Văn phòng")))
    matcher = Matcher(rules)
    alone = [o for chunk in process_seeds(seeds, VN_TZ, matcher, rules, workers=1) for o in chunk]
    pooled = [o for chunk in process_seeds(seeds, VN_TZ, matcher, rules, workers=2) for o in chunk]
    assert pooled == alone
    assert sum(o.error is not None for o in pooled) == 9
    assert sum(len(o.matches) for o in pooled) > len(seeds)
