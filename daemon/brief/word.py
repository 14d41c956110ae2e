"""The briefing as a Word file (python-docx): offices pass .docx around, edit it, print it.

Headings per section (Word's own heading styles, so its navigation pane and table of contents work),
each story as a bold title, a line of time and outlets, the summary and its links, and the chart as a
picture.
"""

from __future__ import annotations

import io
import re

from daemon.brief.labels import LABELS, carried, counts, day_text, heading, label, mean_text, span, when
from daemon.brief.model import Briefing, Item

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Word files are XML: a control character left in an article would make python-docx refuse the text."""
    return _NOT_XML.sub("", text)


def render(b: Briefing, chart_png: bytes | None = None) -> bytes:
    from docx import Document  # noqa: PLC0415 - only a briefing writes Word files
    from docx.shared import Cm, Pt, RGBColor  # noqa: PLC0415

    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)  # A4
    section.left_margin = section.right_margin = Cm(2.0)
    doc.styles["Normal"].font.name = "Times New Roman"
    doc.styles["Normal"].font.size = Pt(12)
    doc.core_properties.title = heading(b)
    doc.core_properties.author = b.title
    doc.add_heading(_xml(heading(b)), level=0)
    doc.add_paragraph(_xml(f"{span(b)}. {label('made_at', when=when(b.made_at))}."))
    doc.add_paragraph().add_run(_xml(counts(b))).bold = True

    def item(i: Item) -> None:
        p = doc.add_paragraph()
        p.add_run(_xml(i.title)).bold = True
        meta = doc.add_paragraph()
        run = meta.add_run(_xml(f"{when(i.first_seen)} · {carried(i)}"))
        run.italic = True
        run.font.size = Pt(10)
        doc.add_paragraph(_xml(i.summary))
        for link in i.links:
            lp = doc.add_paragraph()
            r = lp.add_run(_xml(f"{link.outlet}: {link.url}"))
            r.font.size = Pt(9)
            r.font.color.rgb = RGBColor(0x0B, 0x57, 0xD0)

    for s in b.sections:
        doc.add_heading(_xml(s.title), level=1)
        doc.add_paragraph(_xml(label("mentions", n=s.mentions)))
        for i in s.items:
            item(i)
        if not s.items:
            doc.add_paragraph(_xml(LABELS["no_stories"]))
        if s.more:
            doc.add_paragraph(_xml(label("more_stories", n=s.more)))
    doc.add_heading(_xml(LABELS["new_documents"]), level=1)
    for d in b.documents:
        p = doc.add_paragraph(style="List Bullet")
        p.add_run(_xml(d.cited)).bold = True
        p.add_run(_xml(f" ({d.code}) — {LABELS['cited_in']} «{d.title}», {d.outlet}, {when(d.first_seen)}"))
        for run in doc.add_paragraph(_xml(d.quote)).runs:
            run.italic = True
    if not b.documents:
        doc.add_paragraph(_xml(LABELS["no_documents"]))
    doc.add_heading(_xml(LABELS["trend"]), level=1)
    if chart_png:
        doc.add_picture(io.BytesIO(chart_png), width=Cm(17))
    doc.add_paragraph(_xml(label("trend_caption", factor=mean_text(b.trend.factor))))
    for spike in b.trend.spikes:
        doc.add_paragraph(_xml(f"▲ {LABELS['spike']}: " + label(
            "spike_line", title=spike.title, count=spike.count, day=day_text(spike.day), mean=mean_text(spike.mean))))
    if b.highlights is not None:
        doc.add_heading(_xml(LABELS["highlights"]), level=1)
        doc.add_paragraph(_xml(label("highlights_note", n=b.min_sources)))
        for i in b.highlights:
            item(i)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
