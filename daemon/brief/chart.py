"""The trend chart: mentions per rule per day over 30 days, spikes marked, as PNG bytes (matplotlib, Agg).

Drawn by a real plotting library, headless (the Agg backend needs no display), once per briefing; the
HTML embeds the PNG as base64 and the DOCX as an image, so both carry the same picture.
"""

from __future__ import annotations

import io

from daemon.brief.labels import LABELS
from daemon.brief.model import Trend

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 3.2, 110


def render_png(trend: Trend) -> bytes:
    import matplotlib  # noqa: PLC0415 - only a briefing draws

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    ax = fig.add_subplot()
    index = {day: i for i, day in enumerate(trend.days)}
    xs = list(range(len(trend.days)))
    for rule, title, counts in trend.series:
        (line,) = ax.plot(xs, counts, marker="o", markersize=3, linewidth=1.6, label=title[:60])
        marked = [(index[s.day], s.count) for s in trend.spikes if s.rule == rule]
        if marked:
            ax.scatter([d for d, _ in marked], [c for _, c in marked], marker="^", s=90, color="#c62828",
                       zorder=3, edgecolors=line.get_color())
            for d, c in marked:
                ax.annotate(str(c), (d, c), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8,
                            color="#c62828")
    ax.set_ylabel(LABELS["trend_axis"])
    ax.set_ylim(bottom=0)
    ticks = xs[::-3][::-1]  # every third day, ending on the last
    ax.set_xticks(ticks, [trend.days[i].strftime("%d/%m") for i in ticks])
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if trend.series:
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
