"""The briefing as Markdown: what `briefing.ready` carries and what a chat or a mail shows as it is."""

from __future__ import annotations

from daemon.brief.labels import LABELS, carried, counts, day_text, heading, label, mean_text, span, when
from daemon.brief.model import Briefing, Item


def _escape(text: str) -> str:
    """Markdown's own characters in titles and summaries are text, not markup."""
    for ch in "\\`*_[]#<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def _item(item: Item) -> list[str]:
    lines = [f"### {_escape(item.title)}", "", f"*{when(item.first_seen)}* · {_escape(carried(item))}", "",
             _escape(item.summary), ""]
    if item.links:
        links = (f"[{_escape(link.outlet)}]({link.url.replace(')', '%29').replace(' ', '%20')})" for link in item.links)
        lines += [" · ".join(links), ""]
    return lines


def render(b: Briefing) -> str:
    out = [f"# {_escape(heading(b))}", "", f"{span(b)}  ", f"{label('made_at', when=when(b.made_at))}  ",
           f"**{counts(b)}**", ""]
    for section in b.sections:
        out += [f"## {_escape(section.title)}", "", label("mentions", n=section.mentions), ""]
        if not section.items:
            out += [LABELS["no_stories"], ""]
        for item in section.items:
            out += _item(item)
        if section.more:
            out += [label("more_stories", n=section.more), ""]
    out += [f"## {LABELS['new_documents']}", ""]
    if not b.documents:
        out += [LABELS["no_documents"], ""]
    for doc in b.documents:
        cite = f"[{_escape(doc.title)}]({doc.url})" if doc.url else f"«{_escape(doc.title)}»"
        out += [f"- **{_escape(doc.cited)}** ({doc.code}): {LABELS['cited_in']} {cite}, {_escape(doc.outlet)},"
                f" {when(doc.first_seen)}  ", f"  > {_escape(doc.quote)}"]
    if b.documents:
        out.append("")
    out += [f"## {LABELS['trend']}", "", label("trend_caption", factor=mean_text(b.trend.factor)), ""]
    out += ["| " + " | ".join(["", *(day_text(d)[:5] for d in b.trend.days[-7:])]) + " |",
            "|" + "---|" * 8]
    for _, title, counts_ in b.trend.series:
        out.append("| " + " | ".join([_escape(title), *(str(c) for c in counts_[-7:])]) + " |")
    out.append("")
    for spike in b.trend.spikes:
        out.append(f"- ▲ {LABELS['spike']}: " + _escape(label("spike_line", title=spike.title, count=spike.count,
                                                                  day=day_text(spike.day), mean=mean_text(spike.mean))))
    if b.trend.spikes:
        out.append("")
    if b.highlights is not None:
        out += [f"## {LABELS['highlights']}", "", label("highlights_note", n=b.min_sources), ""]
        if not b.highlights:
            out += [LABELS["no_stories"], ""]
        for item in b.highlights:
            out += _item(item)
    return "\n".join(out).rstrip() + "\n"
