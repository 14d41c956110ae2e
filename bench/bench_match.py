"""How matching cost grows with the number of keywords: 10 vs 10,000 on the same corpus, same run.

The corpus is 2,000 articles recombined from the paragraphs of the shipped samples (seeds/*.txt), with
numbers varied and document references sprinkled in, so docref scanning and automaton hits are real.
The 10,000 keywords are distinct and generated: Vietnamese phrases built from the corpus vocabulary
(with diacritics and folded ASCII), and document references of every type. The rules are grouped ten
keywords per rule. Target: the 10,000-keyword pass costs at most ~4x the 10-keyword pass.

Run: .venv/bin/python bench/bench_match.py [--articles N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

from daemon.match import Matcher
from daemon.models import Rule
from daemon.text.docrefs import DOC_TYPES
from daemon.text.normalize import fold, normalize, normalize_body

ROOT = Path(__file__).resolve().parent.parent
BASE_KEYWORDS = (
    "Nghị quyết 57",
    "Chỉ thị 34",
    "Quyết định 1519/QĐ-TTg",
    "57-NQ/TW",
    "chuyển đổi số",
    "Đảng bộ",
    "cải cách hành chính",
    "kỷ luật",
    "dang uy",
    "van phong cap uy",
)
ISSUERS = ("TW", "TU", "HU", "ĐU", "CP", "TTg", "BNV", "UBND")


def corpus(n: int, rng: random.Random) -> list[tuple[str, str]]:
    paragraphs = [
        p.strip()
        for path in sorted((ROOT / "seeds").glob("*.txt"))
        for p in path.read_text(encoding="utf-8").split("\n")
        if len(p.strip()) > 40
    ]
    citations = [
        "Nghị quyết số {n}-NQ/TW",
        "Chỉ thị {n}",
        "Quyết định số {n}/QĐ-TTg",
        "các Nghị quyết số {n}, {m} và {k}",
        "Kết luận {n}-KL/TW",
        "Nghị định {n}/2023/NĐ-CP",
    ]
    articles = []
    for _ in range(n):
        picked = rng.sample(paragraphs, rng.randint(4, 8))
        body = []
        for paragraph in picked:
            text = re.sub(r"\d+", lambda _m: str(rng.randint(1, 200)), paragraph)
            if rng.random() < 0.3:
                cite = rng.choice(citations).format(n=rng.randint(1, 200), m=rng.randint(1, 200), k=rng.randint(1, 200))
                text = f"{text} Theo tinh thần {cite}, các cấp ủy triển khai thực hiện."
            body.append(text)
        title = picked[0][:120]
        articles.append((normalize(title), normalize_body("\n\n".join(body))))
    return articles


def generated_keywords(count: int, articles: list[tuple[str, str]], rng: random.Random) -> list[str]:
    vocab = sorted({w for _, body in articles[:200] for w in re.findall(r"[^\W\d_]{2,}", body)})
    types = [names[0] for _, names in DOC_TYPES]
    seen = {k.lower() for k in BASE_KEYWORDS}
    out = list(BASE_KEYWORDS)
    while len(out) < count:
        r = rng.random()
        if r < 0.5:
            kw = " ".join(rng.sample(vocab, rng.randint(2, 3)))
        elif r < 0.65:
            kw = fold(" ".join(rng.sample(vocab, rng.randint(2, 3))))
        elif r < 0.85:
            kw = f"{rng.choice(types)} {rng.randint(1, 20000)}"
        else:
            kw = f"{rng.randint(1, 20000)}-{rng.choice(['NQ', 'CT', 'KL', 'QĐ', 'HD'])}/{rng.choice(ISSUERS)}"
        if kw.lower() not in seen:
            seen.add(kw.lower())
            out.append(kw)
    return out


def rules_of(keywords: list[str]) -> list[Rule]:
    return [Rule(f"rule{i // 10}", tuple(keywords[i : i + 10])) for i in range(0, len(keywords), 10)]


def timed(matcher: Matcher, articles: list[tuple[str, str]]) -> tuple[float, int]:
    t0 = time.perf_counter()
    found = sum(len(matcher.match(title, body, "seeds")) for title, body in articles)
    return time.perf_counter() - t0, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20251123)
    articles = corpus(args.articles, rng)
    size_mb = sum(len(t.encode()) + len(b.encode()) for t, b in articles) / 1e6
    keywords = generated_keywords(10_000, articles, rng)
    print(f"corpus: {len(articles)} articles, {size_mb:.1f} MB (UTF-8); best of {args.repeat}, runs interleaved")
    sizes = (10, 1_000, 10_000)
    matchers: dict[int, Matcher] = {}
    compile_s: dict[int, float] = {}
    for n in sizes:
        t0 = time.perf_counter()
        matchers[n] = Matcher(rules_of(keywords[:n]))
        compile_s[n] = time.perf_counter() - t0
    best = dict.fromkeys(sizes, float("inf"))
    found = dict.fromkeys(sizes, 0)
    for _ in range(args.repeat):  # interleaved, so a busy machine slows every size alike
        for n in sizes:
            seconds, found[n] = timed(matchers[n], articles)
            best[n] = min(best[n], seconds)
    for n in sizes:
        print(
            f"{n:>6} keywords: compile {compile_s[n] * 1000:7.1f} ms, match {best[n]:6.2f} s, "
            f"{len(articles) / best[n]:7.0f} articles/s, {size_mb / best[n]:5.2f} MB/s, {found[n]} matches"
        )
    print(f"ratio 10,000 / 10 keywords: {best[10_000] / best[10]:.2f} (target <= 4)")


if __name__ == "__main__":
    main()
