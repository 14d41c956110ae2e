"""Realistic Vietnamese RSS feeds and the server that plays them, for bench_feeds.py and bench_memory.py.

The shape of a provincial paper's or a ministry portal's feed: 50 items, each a CDATA description with
an image link, a lead of two or three sentences and a list of related links to the outlet's own site,
about 60 KB a feed, Vietnamese text made of the words of seeds/*.txt (distinct per feed and per item).
No ``ETag`` and no ``Last-Modified``, as many Vietnamese outlets send.

The server runs in its own process (so it does not compete with the pollers for the GIL), with Nagle
off, and serves every feed from memory. ``GET /control/advance`` moves every feed one item on (the
newest item is new, the oldest one drops off): the next pass finds one new item per feed. Without it,
every pass gets the same bytes with a 200.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import re
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
ITEMS = 50
RELATED = 3


def vocabulary() -> list[str]:
    """The words of seeds/*.txt (Vietnamese syllables, with their marks), each once."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    return sorted({w for w in re.findall(r"\w+", text) if not w.isdigit() and len(w) > 1})


def _sentence(rng: random.Random, words: list[str], n: int) -> str:
    text = " ".join(rng.choice(words) for _ in range(n))
    return text[0].upper() + text[1:]


def _item(i: int, j: int, words: list[str], stamp: float) -> str:
    """Item ``j`` of feed ``i``: the same bytes whenever it is built (its text depends on i and j only).

    Words drawn from the seeds' vocabulary, so every item is an article of its own: sentences of the seeds
    recombined made each item a near-copy of thousands of others, which measured the worst case of the
    story index (bench_stories.py's subject) instead of a feed pass.
    """
    rng = random.Random(i * 1_000_003 + j)
    site = f"http://127.0.0.1/nguon-{i}"
    title = f"{_sentence(rng, words, 12)} (tin {i}-{j})"
    lead = f"{_sentence(rng, words, 22)}. {_sentence(rng, words, 18)}. Bài {j} của nguồn {i}."
    related = "".join(f'<li><a href="{site}/lien-quan-{j}-{k}.htm">{escape(_sentence(rng, words, 9))}</a></li>'
                      for k in range(RELATED))
    description = (f'<a href="{site}/bai-{j}.htm"><img src="{site}/anh/{j}.jpg" alt="Ảnh minh họa"'
                   f' width="180" height="108"/></a></br>{escape(lead)}<ul class="related">{related}</ul>')
    pub = formatdate(stamp + 600 * j, usegmt=True)
    return (f"<item><title><![CDATA[{title}]]></title><link>{site}/bai-{j}.htm</link>"
            f'<guid isPermaLink="false">nguon-{i}-bai-{j}</guid><pubDate>{pub}</pubDate>'
            f"<category><![CDATA[Thời sự]]></category><description><![CDATA[{description}]]></description></item>")


class Feeds:
    """Feed ``i`` at version ``v`` holds items ``v`` … ``v + 49``, newest first."""

    def __init__(self, n: int, items: int = ITEMS, stamp: float = 1_780_000_000.0) -> None:
        self.n, self.items, self.stamp = n, items, stamp
        self.words = vocabulary()
        self.version = 0
        self._items = [[_item(i, j, self.words, stamp) for j in range(items)] for i in range(n)]
        self.bodies = [self._body(i) for i in range(n)]

    def _body(self, i: int) -> bytes:
        v = self.version
        entries = "".join(reversed(self._items[i][v: v + self.items]))
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                f"<title>Báo điện tử nguồn {i} - Thời sự</title><link>http://127.0.0.1/nguon-{i}/</link>"
                f"<description>Tin tức thời sự trong tỉnh và cả nước</description><language>vi</language>"
                f"{entries}</channel></rss>").encode()

    def advance(self) -> None:
        self.version += 1
        for i in range(self.n):
            self._items[i].append(_item(i, self.version + self.items - 1, self.words, self.stamp))
        self.bodies = [self._body(i) for i in range(self.n)]


def serve(n: int, items: int, port_out: mp.Queue) -> None:  # type: ignore[type-arg]
    """The server process: puts (port, total bytes) on ``port_out``, then serves until terminated."""
    feeds = Feeds(n, items)
    lock = threading.Lock()
    path_re = re.compile(r"^/feed/(\d+)\.rss$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: both clients pool connections
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def do_GET(self) -> None:
            if self.path == "/control/advance":
                with lock:
                    feeds.advance()
                self._send(b"ok", "text/plain")
                return
            m = path_re.match(self.path)
            if not m or int(m.group(1)) >= n:
                self.send_error(404)
                return
            self._send(feeds.bodies[int(m.group(1))], "application/rss+xml; charset=utf-8")

        def _send(self, body: bytes, ctype: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port_out.put((server.server_address[1], sum(len(b) for b in feeds.bodies)))
    server.serve_forever()


def start_server(n: int, items: int = ITEMS) -> tuple[mp.process.BaseProcess, int, int]:
    """(process, port, total bytes of one pass) of a server started in a spawned process."""
    ctx = mp.get_context("spawn")
    port_q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    server = ctx.Process(target=serve, args=(n, items, port_q), daemon=True)
    server.start()
    port, total = port_q.get(timeout=300)
    return server, port, total
