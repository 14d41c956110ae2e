"""Every word the briefing shows a reader, in Vietnamese, in one table (the renderers never spell one)."""

from __future__ import annotations

from datetime import date, datetime

from daemon.brief.model import Briefing, Item
from daemon.brief.periods import Period

LABELS: dict[str, str] = {
    "doc_title": "Điểm báo",
    "period_day": "ngày",
    "period_week": "tuần",
    "period_month": "tháng",
    "from_to": "Từ {start} đến {end}",
    "made_at": "Lập lúc {when}",
    "counts": "{articles} tin bài · {stories} sự kiện · {outlets} nguồn tin",
    "carried": "{n} báo cùng đưa: {outlets}",
    "carried_one": "Nguồn: {outlets}",
    "copies": "{n} bài",
    "no_stories": "Không có tin nào trong kỳ.",
    "more_stories": "… và {n} sự kiện khác",
    "mentions": "{n} tin bài nhắc đến",
    "new_documents": "Văn bản được nhắc đến lần đầu",
    "no_documents": "Không có văn bản mới nào được nhắc đến.",
    "cited_in": "nhắc đến trong",
    "trend": "Diễn biến 30 ngày qua",
    "trend_caption": "Số tin bài nhắc đến mỗi chủ đề theo ngày; ▲ đánh dấu ngày tăng đột biến (hơn {factor} lần"
                     " trung bình 14 ngày trước).",
    "trend_axis": "số tin bài",
    "spike": "Tăng đột biến",
    "spike_line": "{title}: {count} tin bài ngày {day} (trung bình 14 ngày trước: {mean})",
    "highlights": "Tin nổi bật",
    "highlights_note": "Sự kiện không thuộc chủ đề theo dõi, được từ {n} báo trở lên cùng đưa.",
    "link": "Đọc bài",
    "ready": "📰 {title}: điểm báo {period} ({start} – {end}) đã sẵn sàng",
    "spike_event": "📈 Tăng đột biến: {title}",
    "spike_event_text": "{count} tin bài ngày {day}, gấp {ratio} lần trung bình 14 ngày trước ({mean}/ngày)",
    "files": "Tệp: {files}",
    "contents": "Mục lục",
}


def label(key: str, **values: object) -> str:
    return LABELS[key].format(**values)


def when(moment: datetime) -> str:
    """"07:00 02/12/2026": how Vietnamese offices write a time."""
    return moment.strftime("%H:%M %d/%m/%Y")


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def period_name(period: Period) -> str:
    """"ngày 02/12/2026", "tuần đến 03/12/2026", "tháng 11/2026"."""
    if period.kind == "month":
        return f"{LABELS['period_month']} {period.day.strftime('%m/%Y')}"
    if period.kind == "week":
        return f"{LABELS['period_week']} đến {day_text(period.day)}"
    return f"{LABELS['period_day']} {day_text(period.day)}"


def heading(b: Briefing) -> str:
    """"Điểm báo ngày 02/12/2026 — Văn phòng Thành ủy"."""
    return f"{LABELS['doc_title']} {period_name(b.period)} — {b.title}"


def span(b: Briefing) -> str:
    return label("from_to", start=when(b.period.start), end=when(b.period.end))


def counts(b: Briefing) -> str:
    return label("counts", articles=b.articles, stories=b.stories, outlets=b.outlets)


def carried(item: Item) -> str:
    """"3 báo cùng đưa: a, b, c" (one outlet: "Nguồn: a")."""
    outlets = ", ".join(item.outlets)
    return label("carried", n=len(item.outlets), outlets=outlets) if len(item.outlets) > 1 else \
        label("carried_one", outlets=outlets)


def mean_text(mean: float) -> str:
    return f"{mean:.1f}".replace(".", ",")
