"""prepare(): the normalized document, its content hash and the folded copy indexed for search."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.models import Rule
from daemon.prepare import PARALLEL_MIN_FILES
from daemon.sources.folder import SeedFile
from daemon.text.normalize import fold, normalize, normalize_body
from daemon.text.search import folded_copy


def test_the_folded_copy_is_title_and_body_without_any_diacritic() -> None:
    assert folded_copy("Ban Chấp hành ĐẢNG BỘ", "Đà Nẵng, đã họp.") == "ban chap hanh dang bo da nang, da hop."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aăâdđĐeêoôơuưàáảãạằắẳẵặỏộ İ,.-_0123456789\n", max_size=60))
def test_the_folded_copy_is_fold_of_title_and_body(text: str) -> None:
    title, body = normalize(text), normalize_body(text)
    assert folded_copy(title, body).split() == fold(f"{title} {body}").split()


_SPLIT_TEXT = st.text(alphabet="aăđĐoàảạ İ1,.\n\t\u00a0\u2028\u200b", max_size=600)


@settings(max_examples=300, deadline=None)
@given(_SPLIT_TEXT, _SPLIT_TEXT)
def test_prepare_splits_once_what_the_folded_copy_and_sketch_split_alone(title: str, body: str) -> None:
    """prepare hands one split of the words to both: the copy and sketch of those split on their own."""
    from daemon.models import Document
    from daemon.prepare import prepare
    from daemon.stories.sketch import sketch

    p = prepare(Document("seeds", "a.txt", title, body), stories=True)
    assert p.folded == folded_copy(p.doc.title, p.doc.body)
    assert p.sketch == sketch(p.doc.title, p.doc.body)
    # Raw text too: the split is str.split's, whatever the spacing.
    assert sketch(title, body, split=(title.split(), body.split())) == sketch(title, body)


def _bulk(tmp_path: Path) -> tuple[list[SeedFile], tuple[Rule, ...]]:
    """A bulk import's worth of seed files (every 50th unreadable) and two rules."""
    from daemon.sources.folder import scan

    samples = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
    for i in range(PARALLEL_MIN_FILES + 20):
        raw = samples[i % len(samples)].read_bytes() + f"\n\nBài số {i}.".encode()
        (tmp_path / f"f{i:04d}.txt").write_bytes(raw if i % 50 else b"\x00\x01\x02binary" * 10)
    return scan(tmp_path, {}, time.time() + 10).changed, (Rule("nq57", ("Nghị quyết 57",)),
                                                         Rule("vp", ("van phong cap uy", "Văn phòng")))


def test_worker_processes_give_exactly_what_the_main_process_gives(tmp_path: Path) -> None:
    """A bulk import runs in spawned workers that send plain tuples back; nothing may get lost on the way."""
    from daemon.match import Matcher
    from daemon.prepare import process_seeds
    from daemon.text.dates import VN_TZ

    seeds, rules = _bulk(tmp_path)
    matcher = Matcher(rules)
    alone = [o for chunk in process_seeds(seeds, VN_TZ, matcher, rules, workers=1) for o in chunk]
    pooled = [o for chunk in process_seeds(seeds, VN_TZ, matcher, rules, workers=2) for o in chunk]
    assert pooled == alone
    assert sum(o.error is not None for o in pooled) == 9
    assert sum(len(o.matches) for o in pooled) > len(seeds)
    assert all(o.prepared.sketch is None for o in pooled if o.prepared)  # stories off: not computed


def test_with_stories_the_workers_compute_each_sketch(tmp_path: Path) -> None:
    """The sketch is the single writer's heaviest pure work: a bulk import computes it where it parses."""
    from daemon.match import Matcher
    from daemon.prepare import process_seeds
    from daemon.stories.sketch import sketch
    from daemon.text.dates import VN_TZ

    seeds, rules = _bulk(tmp_path)
    pooled = [o for chunk in process_seeds(seeds, VN_TZ, Matcher(rules), rules, workers=2, stories=True)
              for o in chunk]
    prepared = [o.prepared for o in pooled if o.prepared]
    assert len(prepared) == len(seeds) - 9
    assert all(p.sketch == sketch(p.doc.title, p.doc.body) for p in prepared)
    assert all(p.sketch and p.sketch.body and p.sketch.lead for p in prepared)


def test_the_workers_find_the_documents_each_article_cites(tmp_path: Path) -> None:
    """Finding the cited documents costs 20 µs an article: it is done where the article is prepared, so the
    single writer only stores them."""
    from daemon.match import Matcher
    from daemon.prepare import process_seeds
    from daemon.text.dates import VN_TZ
    from daemon.text.docrefs import document_codes

    seeds, rules = _bulk(tmp_path)
    pooled = [o for chunk in process_seeds(seeds, VN_TZ, Matcher(rules), rules, workers=2) for o in chunk]
    prepared = [o.prepared for o in pooled if o.prepared]
    assert all(p.codes == tuple(document_codes(f"{p.doc.title}\n{p.doc.body}")) for p in prepared)
    assert sum(bool(p.codes) for p in prepared) > len(prepared) // 4  # two of the five samples cite documents
