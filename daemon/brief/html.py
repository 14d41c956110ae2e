"""The briefing as one self-contained HTML file: inline CSS, the chart inline, no other request.

It is mailed and opened on phones, so nothing is fetched (no font, script or image from elsewhere), the
layout is one column that reads at 360 px, and ``@media print`` lays it out on A4 with the links printed.
"""

from __future__ import annotations

import base64
from html import escape

from daemon.brief.labels import LABELS, carried, counts, day_text, heading, label, mean_text, span, when
from daemon.brief.model import Briefing, Item

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f1ea; color: #1d1d1d; font: 16px/1.55 "Noto Serif", "Times New Roman", serif; }
main { max-width: 820px; margin: 0 auto; padding: 16px; background: #fff; }
header { border-bottom: 3px double #a31515; margin-bottom: 12px; padding-bottom: 8px; }
header .unit { font: 600 14px/1.3 system-ui, sans-serif; text-transform: uppercase; letter-spacing: .04em;
               color: #a31515; }
h1 { font-size: 1.55em; margin: .2em 0; line-height: 1.25; }
h2 { font: 700 1.15em/1.3 system-ui, sans-serif; color: #a31515; border-bottom: 1px solid #e3d9c6; padding-bottom: 4px;
     margin: 1.6em 0 .6em; }
h3 { font-size: 1.05em; margin: 0 0 .2em; line-height: 1.35; }
.meta, .note { font: 13px/1.45 system-ui, sans-serif; color: #555; }
.counts { font: 600 14px/1.4 system-ui, sans-serif; }
article { margin: 0 0 14px; padding: 10px 12px; border-left: 3px solid #e3d9c6; background: #fcfbf8; }
article p { margin: .35em 0; }
.links a { font: 13px/1.6 system-ui, sans-serif; color: #0b57d0; margin-right: 10px; word-break: break-all; }
.doc { margin: 0 0 10px; }
.doc q { display: block; font-style: italic; color: #333; margin-top: 2px; }
figure { margin: 0; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; font: 13px/1.4 system-ui, sans-serif; overflow-x: auto; display: block;
        max-width: 100%; }
td, th { border: 1px solid #e3d9c6; padding: 2px 6px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.spike { color: #c62828; font-weight: 600; }
@media (max-width: 480px) { body { font-size: 15px; } main { padding: 10px; } h1 { font-size: 1.3em; } }
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  article { break-inside: avoid; background: none; }
  h2 { break-after: avoid; }
  .links a::after { content: " (" attr(href) ")"; color: #555; }
}
"""


def _item(item: Item) -> str:
    links = "".join(f'<a href="{escape(link.url)}">{escape(link.outlet)}</a>' for link in item.links)
    return (f"<article><h3>{escape(item.title)}</h3>"
            f'<div class="meta">{when(item.first_seen)} · {escape(carried(item))}</div>'
            f"<p>{escape(item.summary)}</p>" + (f'<div class="links">{links}</div>' if links else "") + "</article>")


def render(b: Briefing, chart_png: bytes | None = None) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="vi"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(heading(b))}</title><style>{CSS}</style></head><body><main>",
             f'<header><div class="unit">{escape(b.title)}</div><h1>{escape(heading(b))}</h1>'
             f'<div class="meta">{escape(span(b))} · {escape(label("made_at", when=when(b.made_at)))}</div>'
             f'<div class="counts">{escape(counts(b))}</div></header>']
    for section in b.sections:
        parts.append(f'<section><h2>{escape(section.title)}</h2>'
                     f'<p class="note">{escape(label("mentions", n=section.mentions))}</p>')
        parts += [_item(i) for i in section.items] or [f'<p class="note">{LABELS["no_stories"]}</p>']
        if section.more:
            parts.append(f'<p class="note">{escape(label("more_stories", n=section.more))}</p>')
        parts.append("</section>")
    parts.append(f"<section><h2>{LABELS['new_documents']}</h2>")
    for doc in b.documents:
        title = f'<a href="{escape(doc.url)}">{escape(doc.title)}</a>' if doc.url else f"«{escape(doc.title)}»"
        parts.append(f'<div class="doc"><strong>{escape(doc.cited)}</strong> <span class="note">({escape(doc.code)})'
                     f"</span> — {LABELS['cited_in']} {title}, {escape(doc.outlet)}, {when(doc.first_seen)}"
                     f"<q>{escape(doc.quote)}</q></div>")
    if not b.documents:
        parts.append(f'<p class="note">{LABELS["no_documents"]}</p>')
    parts.append(f"</section><section><h2>{LABELS['trend']}</h2>")
    if chart_png:
        data = base64.b64encode(chart_png).decode("ascii")
        parts.append(f'<figure><img alt="{escape(LABELS["trend"])}" src="data:image/png;base64,{data}"></figure>')
    parts.append(f'<p class="note">{escape(label("trend_caption", factor=mean_text(b.trend.factor)))}</p>')
    head = "".join(f"<th>{day_text(d)[:5]}</th>" for d in b.trend.days[-7:])
    rows = "".join(f"<tr><td>{escape(title)}</td>" + "".join(f"<td>{c}</td>" for c in counts_[-7:]) + "</tr>"
                   for _, title, counts_ in b.trend.series)
    parts.append(f"<table><tr><th></th>{head}</tr>{rows}</table>")
    for spike in b.trend.spikes:
        parts.append(f'<p class="spike">▲ {LABELS["spike"]}: ' + escape(label(
            "spike_line", title=spike.title, count=spike.count, day=day_text(spike.day), mean=mean_text(spike.mean)))
            + "</p>")
    parts.append("</section>")
    if b.highlights is not None:
        parts.append(f"<section><h2>{LABELS['highlights']}</h2>"
                     f'<p class="note">{escape(label("highlights_note", n=b.min_sources))}</p>')
        parts += [_item(i) for i in b.highlights] or [f'<p class="note">{LABELS["no_stories"]}</p>']
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
