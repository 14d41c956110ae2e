"""The briefing as a chat message (Slack/Mattermost, Discord, Telegram), cut to the platform's limit.

Built from the same model as the files: the heading, the counts, then each section's stories as one
line each (title, outlets, link), as many as fit, then "… và N tin khác" (``deliver.formats.fit``).
"""

from __future__ import annotations

from daemon.brief.labels import LABELS, counts, heading, label, span
from daemon.brief.model import Briefing
from daemon.deliver.formats import LIMITS, STYLES, fit


def render(fmt: str, b: Briefing, files: tuple[str, ...] = ()) -> str:
    style = STYLES[fmt]
    lines = [f"📰 {style.bold(style.escape(heading(b)))}", style.escape(span(b)), style.escape(counts(b))]
    if files:
        lines.append(style.escape(label("files", files=", ".join(files))))
    header = "\n".join(lines)
    blocks: list[str] = []
    for section in b.sections:
        mentions = style.escape(label("mentions", n=section.mentions))
        blocks.append(f"\n{style.bold(style.escape(section.title))} — {mentions}")
        for item in section.items:
            line = f"• {style.escape(item.title)}"
            if len(item.outlets) > 1:
                line += f" — {len(item.outlets)} báo cùng đưa"
            if item.links:
                line += f" — {style.link(item.links[0].url, LABELS['link'])}"
            blocks.append(line)
    if b.documents:
        blocks.append(f"\n{style.bold(style.escape(LABELS['new_documents']))}")
        blocks += [f"• {style.escape(d.cited)} — {style.escape(d.title)}" for d in b.documents]
    for spike in b.trend.spikes:
        blocks.append(f"▲ {style.escape(LABELS['spike'])}: {style.escape(spike.title)} ({spike.count})")
    return fit(header, blocks, LIMITS[fmt], "\n")
