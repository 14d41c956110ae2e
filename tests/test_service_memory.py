"""A long-running service gives what it frees back to the system (``daemon.service.memory``): the stories
window's arrays, reallocated at each merge, must not leave the heap at its high-water mark."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

BUILD = """
import json, random, sys
from daemon.models import Sketch
from daemon.service.memory import return_large_frees
from daemon.stories.window import Member, Window

def rss() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6

took = return_large_frees() if sys.argv[1] == "on" else None
rng = random.Random(7)
before = rss()
w = Window(capacity=12_000)
for aid in range(1, 20_001):  # new text only: every key new, as in the memory benchmark
    s = Sketch(tuple(rng.getrandbits(63) for _ in range(30)), tuple(rng.getrandbits(63) for _ in range(25)),
               False, (rng.getrandbits(32),))
    w.add(Member.of(aid, aid, float(aid), None, s))
print(json.dumps({"took": took, "grew": rss() - before}))
"""


def grew(setting: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", BUILD, setting], capture_output=True, text=True, timeout=120,
                          check=True)
    return dict(json.loads(done.stdout))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc and /proc")
def test_the_window_s_merges_leave_no_high_water_mark_in_the_heap() -> None:
    off, on = grew("off"), grew("on")
    assert on["took"] is True
    assert on["grew"] < 0.75 * off["grew"], (on, off)
