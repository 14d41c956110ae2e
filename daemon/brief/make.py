"""Make one briefing: read (one set of queries), build the model, render, write the files atomically.

A scheduled briefing is then recorded with its ``briefing.ready`` events in one transaction
(``Store.record_briefing``): the row says it was made, so it never is again, and its events are queued
exactly when it is. The files are written before, each under a temporary name then renamed, so a crash
never leaves half a file under the final name (and a redo writes the same names again).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from daemon.brief import chart, html, markdown, word
from daemon.brief.build import build, reads_from
from daemon.brief.events import ready_events
from daemon.brief.model import Briefing
from daemon.brief.periods import Period
from daemon.models import BriefingConfig, Rule, WebhookConfig
from daemon.store import Store
from daemon.store.briefs import briefing_id

EXTENSIONS = {"md": ".md", "html": ".html", "docx": ".docx"}


@dataclass(frozen=True, slots=True)
class Made:
    briefing: Briefing
    markdown: str
    outputs: dict[str, bytes]  # format -> the file's bytes


def chosen_rules(rules: Sequence[Rule], names: Sequence[str]) -> list[Rule]:
    """The sections: the named rules in that order, or every rule in config order."""
    if not names:
        return list(rules)
    by_name = {r.name: r for r in rules}
    return [by_name[n] for n in names if n in by_name]


def compose(store: Store, *, name: str, title: str, period: Period, rules: Sequence[Rule], formats: Sequence[str],
            tz: ZoneInfo, now: datetime, min_sources: int | None = None) -> Made:
    """The briefing and its files' bytes, in memory (``newswatch brief`` and the scheduler both start here)."""
    rows = store.brief_rows(period.start, period.end, [r.name for r in rules], trend_from=reads_from(period, tz),
                            min_sources=min_sources)
    b = build(rows, briefing_id=briefing_id(name, period.kind, period.start.isoformat()), name=name, title=title,
              period=period, made_at=now, rules=rules, tz=tz, min_sources=min_sources)
    md = markdown.render(b)
    outputs: dict[str, bytes] = {}
    png = chart.render_png(b.trend) if {"html", "docx"} & set(formats) else None
    for fmt in formats:
        if fmt == "md":
            outputs[fmt] = md.encode("utf-8")
        elif fmt == "html":
            outputs[fmt] = html.render(b, png).encode("utf-8")
        else:
            outputs[fmt] = word.render(b, png)
    return Made(b, md, outputs)


def write_atomically(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, synced, then renamed over ``path``: readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # office staff read the briefs (mkstemp makes it private)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_name(name: str, period: Period, fmt: str) -> str:
    """"sang-2026-12-02.md", "tuan-2026-12-03.docx", "thang-2026-11.html"."""
    return f"{name}-{period.key()}{EXTENSIONS[fmt]}"


def make_scheduled(store: Store, cfg: BriefingConfig, period: Period, *, rules: Sequence[Rule],
                   hooks: Sequence[WebhookConfig], tz: ZoneInfo, now: datetime) -> Made | None:
    """Make, write and record one scheduled briefing; None when this (briefing, period) was made already."""
    if store.briefing_made(briefing_id(cfg.name, period.kind, period.start.isoformat())):
        return None
    made = compose(store, name=cfg.name, title=cfg.title, period=period, rules=chosen_rules(rules, cfg.rules),
                   formats=cfg.formats, tz=tz, now=now, min_sources=cfg.min_sources)
    folder = Path(cfg.out)
    names = [file_name(cfg.name, period, fmt) for fmt in cfg.formats]
    for fmt, fname in zip(cfg.formats, names, strict=True):
        write_atomically(folder / fname, made.outputs[fmt])
    b = made.briefing
    record = {"id": b.id, "name": cfg.name, "period": period.kind, "period_start": period.start.isoformat(),
              "period_end": period.end.isoformat(), "articles": b.articles, "stories": b.stories,
              "outlets": b.outlets, "files": json.dumps([str(folder / n) for n in names], ensure_ascii=False)}
    events = ready_events(b, made.markdown, names, str(folder), hooks)
    return made if store.record_briefing(record, events, now) else None
