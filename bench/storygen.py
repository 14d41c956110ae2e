# ruff: noqa: E501 - the formulas are long Vietnamese sentences, kept whole to be read
"""A labelled corpus of party-press reports and their copies, for bench_stories.py.

Each *event* is one report written from a topic's formulas (the same sentences with another province,
other names, dates and numbers, and a different choice and order of the optional sentences), as the
provincial papers and the party's own sites write them. Each copy is the report as another outlet ran
it, with the edits outlets make, at one of three strengths:

* light:  an outlet prefix and a new title;
* medium: also a new opening sentence (sapo), a caption line, the last paragraph dropped, two words changed;
* heavy:  also a second caption, two paragraphs dropped, a paragraph moved, eight words changed;

and some copies are feed items with only the title and the lead. Different events on one topic share
whole sentences ("quán triệt, triển khai thực hiện…", attendees' titles): they must stay apart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PROVINCES = [
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An",
    "Hà Tĩnh", "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên",
    "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi", "Gia Lai", "Khánh Hòa", "Lâm Đồng",
    "Đắk Lắk", "Thành phố Hồ Chí Minh", "Đồng Nai", "Tây Ninh", "Cần Thơ", "Vĩnh Long", "Đồng Tháp",
    "Cà Mau", "An Giang",
]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quốc", "Thanh", "Hữu", "Xuân", "Ngọc", "Khắc", "Đình", "Công", "Hồng"]
GIVEN = ["Hùng", "Thắng", "Tiến", "Lâm", "Dũng", "Hiếu", "Thận", "Phong", "Tú", "Hà", "Lan", "Hương", "Sơn",
         "Nam", "Bình", "Cường", "Quang", "Tuấn", "Long", "Hải", "Vinh", "Toàn", "Thông", "Phúc", "Mai", "Yến"]
OUTLETS = ["ttxvn", "vov", "chinhphu", "dangcongsan", "nhandan", "tuoitre", "thanhnien", "vietnamplus", "dantri",
           "laodong", "qdnd", "baotintuc"]
PREFIXES = ["(TTXVN) - ", "VOV.VN - ", "(Chinhphu.vn) - ", "ĐCSVN - ", "(NDO) - ", "(PLO) - ", "(Dân trí) - ",
            "TPO - ", "(QĐND) - ", "(BNA) - "]
CAPTIONS = ["Quang cảnh hội nghị. Ảnh: {outlet}", "Đồng chí {name} phát biểu chỉ đạo tại hội nghị. Ảnh: {outlet}",
            "Các đại biểu dự hội nghị tại điểm cầu {province}. Ảnh: {outlet}",
            "Toàn cảnh phiên làm việc. Ảnh: {outlet} cung cấp"]
SWAPS = {"tổ chức": "tiến hành", "nhấn mạnh": "khẳng định", "đề nghị": "yêu cầu", "triển khai": "thực hiện",
         "đồng chí": "ông", "tham dự": "dự", "kết quả": "thành quả", "đẩy mạnh": "tăng cường",
         "tập trung": "chú trọng", "thời gian tới": "thời gian đến", "quan trọng": "then chốt",
         "hội nghị": "Hội nghị", "cơ bản": "căn bản", "kịp thời": "nhanh chóng", "đồng thời": "cùng với đó"}

# Per topic: title forms, opening sentences (the sapo; "lead" forms are the copies' rewritten ones),
# the attendees sentence, and the body's formulas; {slots} are filled per event.
TOPICS = {
    "nq57": {
        "titles": ["{province} quán triệt Nghị quyết 57-NQ/TW về phát triển khoa học, công nghệ",
                   "{province}: Triển khai Nghị quyết 57 của Bộ Chính trị",
                   "Ban Thường vụ Tỉnh ủy {province} quán triệt Nghị quyết số 57-NQ/TW"],
        "open": ["{when}, Ban Thường vụ Tỉnh ủy {province} tổ chức Hội nghị quán triệt, triển khai thực hiện Nghị "
                 "quyết số 57-NQ/TW của Bộ Chính trị về đột phá phát triển khoa học, công nghệ, đổi mới sáng tạo và "
                 "chuyển đổi số quốc gia."],
        "lead": ["Hội nghị quán triệt Nghị quyết 57-NQ/TW do Tỉnh ủy {province} tổ chức {when} với sự tham gia của "
                 "{people} đại biểu.",
                 "Tỉnh ủy {province} vừa quán triệt Nghị quyết 57-NQ/TW tới cán bộ chủ chốt các cấp trong tỉnh."],
        "body": [
            "Dự hội nghị có đồng chí {leader}, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy; đồng chí {deputy}, Phó Bí thư "
            "Thường trực Tỉnh ủy; các đồng chí trong Ban Thường vụ Tỉnh ủy, lãnh đạo các sở, ban, ngành, đoàn thể tỉnh.",
            "Hội nghị được tổ chức trực tiếp kết hợp trực tuyến đến {points} điểm cầu cấp xã với hơn {people} đại biểu "
            "tham dự.",
            "Phát biểu chỉ đạo, đồng chí {leader} đề nghị các cấp ủy, tổ chức đảng quán triệt sâu sắc, triển khai thực "
            "hiện nghiêm túc Nghị quyết, xác định đây là nhiệm vụ trọng tâm, xuyên suốt.",
            "Năm {year}, tỉnh phấn đấu {pct}% thủ tục hành chính được giải quyết trực tuyến toàn trình, kinh tế số đạt "
            "{pct2}% GRDP.",
            "Tại hội nghị, đồng chí {speaker}, Giám đốc Sở Khoa học và Công nghệ tỉnh {province}, trình bày chuyên đề "
            "về những nội dung cốt lõi của Nghị quyết, trong đó nhấn mạnh {num} nhóm nhiệm vụ, giải pháp chủ yếu.",
            "Giai đoạn {span}, {province} đã đầu tư {money} tỷ đồng cho hạ tầng số, đưa {num2} nền tảng dùng chung vào "
            "vận hành, kết nối với cơ sở dữ liệu quốc gia về dân cư.",
            "Đồng chí {leader} yêu cầu người đứng đầu cấp ủy, chính quyền các cấp trực tiếp chỉ đạo, chịu trách nhiệm "
            "về kết quả thực hiện Nghị quyết tại địa phương, đơn vị mình.",
            "Tỉnh ủy {province} giao Ban Tuyên giáo và Dân vận Tỉnh ủy hướng dẫn, kiểm tra, đôn đốc việc thực hiện, "
            "định kỳ báo cáo Ban Thường vụ Tỉnh ủy.",
            "Theo báo cáo, đến nay {pct3}% cơ quan đảng, chính quyền cấp xã của tỉnh đã sử dụng văn bản điện tử có ký "
            "số, {num3} xã hoàn thành số hóa hồ sơ lưu trữ.",
            "Đồng chí {deputy} đề nghị sớm ban hành chương trình hành động của Tỉnh ủy, cụ thể hóa thành các đề án, dự "
            "án với lộ trình, nguồn lực rõ ràng trong quý {quarter} năm {year}.",
            "Hội nghị cũng nghe đại diện {num} doanh nghiệp công nghệ trên địa bàn chia sẻ kinh nghiệm triển khai nền "
            "tảng số phục vụ người dân và doanh nghiệp.",
        ],
    },
    "vanphong": {
        "titles": ["Văn phòng Tỉnh ủy {province} tổng kết công tác năm {year}",
                   "{province}: Văn phòng cấp ủy triển khai nhiệm vụ năm {year1}",
                   "Nâng cao chất lượng tham mưu của Văn phòng cấp ủy tỉnh {province}"],
        "open": ["{when}, Văn phòng Tỉnh ủy {province} tổ chức hội nghị tổng kết công tác văn phòng cấp ủy năm "
                 "{year}, triển khai nhiệm vụ trọng tâm năm {year1}."],
        "lead": ["Văn phòng cấp ủy các cấp tỉnh {province} đã hoàn thành {done}/{done} chỉ tiêu chủ yếu trong năm "
                 "{year}, theo báo cáo tại hội nghị tổng kết {when}.",
                 "Hội nghị tổng kết công tác văn phòng cấp ủy năm {year} của tỉnh {province} diễn ra {when}."],
        "body": [
            "Tham dự có đồng chí {deputy}, Phó Bí thư Thường trực Tỉnh ủy; đồng chí {speaker}, Ủy viên Ban Thường vụ, "
            "Chánh Văn phòng Tỉnh ủy; lãnh đạo văn phòng các đảng ủy trực thuộc.",
            "Năm {year}, Văn phòng Tỉnh ủy đã tham mưu tổ chức thành công Đại hội đại biểu Đảng bộ tỉnh lần thứ {roman}, "
            "thực hiện {done}/{done} đầu việc theo chương trình công tác.",
            "Công tác tổng hợp, thẩm định, ban hành văn bản ngày càng nền nếp, chất lượng; thông tin phục vụ lãnh đạo, "
            "chỉ đạo được cung cấp kịp thời, đầy đủ.",
            "Văn phòng đã thẩm định {num3} văn bản, phục vụ {num2} hội nghị, tiếp nhận và xử lý {money} văn bản đến qua "
            "hệ thống điều hành tác nghiệp.",
            "Phát biểu chỉ đạo, đồng chí {deputy} ghi nhận những kết quả văn phòng cấp ủy các cấp đạt được, đồng thời "
            "chỉ ra một số hạn chế về công tác dự báo, tham mưu chiến lược.",
            "Đồng chí đề nghị văn phòng cấp ủy các cấp nhanh chóng ổn định bộ máy sau sắp xếp, xác định vị trí việc làm, "
            "biên chế và phân công lao động hợp lý.",
            "Trong năm {year1}, văn phòng cấp ủy các cấp cần đẩy mạnh chuyển đổi số, phấn đấu {pct}% văn bản được ký số "
            "và gửi nhận trên môi trường mạng.",
            "Dịp này, {num} tập thể và {num2} cá nhân có thành tích xuất sắc được Ban Thường vụ Tỉnh ủy {province} tặng "
            "Bằng khen.",
            "Chánh Văn phòng Tỉnh ủy {speaker} cho biết sẽ tiếp thu đầy đủ ý kiến chỉ đạo, cụ thể hóa thành chương trình "
            "công tác năm {year1} với {num} nhóm nhiệm vụ.",
            "Văn phòng Tỉnh ủy {province} cũng đã phối hợp bảo đảm tốt công tác hậu cần, an toàn tuyệt đối cho {num3} "
            "sự kiện chính trị quan trọng của tỉnh.",
        ],
    },
    "kiemtra": {
        "titles": ["Ủy ban Kiểm tra Tỉnh ủy {province} kỳ họp thứ {num}",
                   "{province}: Xem xét, đề nghị thi hành kỷ luật {num2} đảng viên",
                   "Kỳ họp thứ {num} Ủy ban Kiểm tra Tỉnh ủy {province}"],
        "open": ["{when}, Ủy ban Kiểm tra Tỉnh ủy {province} tổ chức kỳ họp thứ {num} để xem xét, kết luận một số nội "
                 "dung thuộc thẩm quyền."],
        "lead": ["Tại kỳ họp thứ {num}, Ủy ban Kiểm tra Tỉnh ủy {province} đã xem xét, kết luận nhiều nội dung quan "
                 "trọng.",
                 "Ủy ban Kiểm tra Tỉnh ủy {province} vừa họp kỳ thứ {num} dưới sự chủ trì của đồng chí {leader}."],
        "body": [
            "Đồng chí {leader}, Ủy viên Ban Thường vụ Tỉnh ủy, Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy chủ trì kỳ họp.",
            "Ủy ban Kiểm tra Tỉnh ủy xem xét kết quả kiểm tra khi có dấu hiệu vi phạm đối với Ban Thường vụ Đảng ủy xã "
            "{commune} và {num2} đảng viên.",
            "Qua kiểm tra, Ủy ban Kiểm tra Tỉnh ủy kết luận Ban Thường vụ Đảng ủy xã {commune} đã vi phạm nguyên tắc tập "
            "trung dân chủ, quy chế làm việc trong lãnh đạo, chỉ đạo công tác quản lý đất đai.",
            "Những vi phạm nêu trên đến mức phải xem xét, xử lý kỷ luật; Ủy ban Kiểm tra Tỉnh ủy quyết định thi hành kỷ "
            "luật bằng hình thức khiển trách đối với đồng chí {deputy}.",
            "Kỳ họp cũng xem xét báo cáo kết quả giám sát chuyên đề đối với {num} tổ chức đảng và {num3} đảng viên trong "
            "thực hiện nhiệm vụ được giao năm {year}.",
            "Ủy ban Kiểm tra Tỉnh ủy yêu cầu các tổ chức đảng, đảng viên có vi phạm nghiêm túc kiểm điểm, khắc phục hạn "
            "chế, báo cáo kết quả trước ngày {date2}.",
            "Trong {span}, cấp ủy và ủy ban kiểm tra các cấp tỉnh {province} đã kiểm tra {money} tổ chức đảng, thi hành "
            "kỷ luật {num2} đảng viên.",
            "Đồng chí {leader} đề nghị nâng cao chất lượng công tác tự kiểm tra của chi bộ, phát hiện sớm vi phạm để chấn "
            "chỉnh kịp thời.",
            "Kỳ họp thống nhất thu hồi số tiền {money} triệu đồng sử dụng sai mục đích tại đơn vị, nộp vào ngân sách nhà "
            "nước.",
        ],
    },
    "daihoi": {
        "titles": ["Đại hội Đảng bộ phường {commune} lần thứ {roman}, nhiệm kỳ 2025-2030",
                   "Phường {commune} ({province}) tổ chức Đại hội Đảng bộ nhiệm kỳ 2025-2030",
                   "{province}: Đảng bộ phường {commune} đại hội thành công"],
        "open": ["{when}, Đảng bộ phường {commune}, tỉnh {province} tổ chức Đại hội đại biểu lần thứ {roman}, nhiệm kỳ "
                 "2025-2030 với sự tham dự của {people} đại biểu đại diện cho hơn {money} đảng viên."],
        "lead": ["Đại hội Đảng bộ phường {commune} ({province}) nhiệm kỳ 2025-2030 đã bầu {num2} đồng chí vào Ban Chấp "
                 "hành.",
                 "Với tinh thần đoàn kết, đổi mới, Đảng bộ phường {commune} tỉnh {province} đã tiến hành đại hội {when}."],
        "body": [
            "Dự và chỉ đạo đại hội có đồng chí {leader}, Ủy viên Ban Thường vụ Tỉnh ủy {province}.",
            "Nhiệm kỳ 2020-2025, Đảng bộ phường {commune} lãnh đạo hoàn thành {done}/{done} chỉ tiêu, tốc độ tăng trưởng "
            "kinh tế bình quân đạt {pct2}%/năm, thu nhập bình quân đầu người đạt {money} triệu đồng.",
            "Công tác xây dựng Đảng được chú trọng, kết nạp {num3} đảng viên mới; {pct}% tổ chức cơ sở đảng hoàn thành "
            "tốt nhiệm vụ trở lên.",
            "Đại hội đề ra mục tiêu xây dựng phường {commune} phát triển nhanh, bền vững, văn minh, hiện đại, trở thành "
            "trung tâm dịch vụ của tỉnh vào năm 2030.",
            "Phát biểu chỉ đạo, đồng chí {leader} đề nghị Đảng bộ phường tập trung nâng cao năng lực lãnh đạo, sức chiến "
            "đấu của tổ chức đảng, xây dựng đội ngũ cán bộ đủ phẩm chất, năng lực.",
            "Đại hội đã bầu Ban Chấp hành Đảng bộ phường nhiệm kỳ 2025-2030 gồm {num2} đồng chí; đồng chí {deputy} được "
            "bầu giữ chức Bí thư Đảng ủy phường.",
            "Đại hội cũng bầu đoàn đại biểu gồm {num} đồng chí đi dự Đại hội Đảng bộ tỉnh {province} lần thứ {roman}.",
            "Các đại biểu tập trung thảo luận về chuyển đổi số, cải cách hành chính và phát triển đô thị, bảo đảm quốc "
            "phòng, an ninh trên địa bàn.",
        ],
    },
}


@dataclass(frozen=True)
class Article:
    story: int  # the event's number: the label
    source: str
    title: str
    body: str


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _slots(rng: random.Random) -> dict[str, object]:
    year = rng.choice([2024, 2025, 2026])
    return {
        "province": rng.choice(PROVINCES), "leader": _name(rng), "deputy": _name(rng), "speaker": _name(rng),
        "when": f"{rng.choice(['Sáng', 'Chiều'])} {rng.randint(1, 28)}-{rng.randint(1, 12)}",
        "year": year, "year1": year + 1, "span": f"{year - 5}-{year}", "quarter": rng.choice(["I", "II", "III", "IV"]),
        "pct": rng.randint(60, 99), "pct2": rng.randint(5, 12), "pct3": rng.randint(40, 95),
        "num": rng.randint(2, 15), "num2": rng.randint(10, 60), "num3": rng.randint(50, 900),
        "money": f"{rng.randint(1, 999)}.{rng.randint(100, 999)}", "people": f"{rng.randint(2, 12)}.{rng.randint(100, 999)}",
        "points": rng.randint(20, 150), "done": rng.randint(9, 40), "roman": rng.choice(["I", "XV", "XVI", "XVII", "XXI"]),
        "commune": rng.choice(["An Phú", "Bình Minh", "Tân Định", "Hòa Xuân", "Thanh Khê", "Phú Lợi", "Long Bình",
                               "Vĩnh Hưng", "Nghĩa Đô", "Hải Châu", "Kim Long", "Thủy Xuân", "Mỹ An", "Tam Kỳ"]),
        "date2": f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{year}",
    }


@dataclass(frozen=True)
class Event:
    story: int
    topic: str
    title: str
    paragraphs: list[str]
    slots: dict[str, object]


def event(rng: random.Random, story: int) -> Event:
    topic = rng.choice(sorted(TOPICS))
    t = TOPICS[topic]
    slots = _slots(rng)
    body = rng.sample(t["body"], k=min(len(t["body"]), rng.randint(6, 9)))
    sentences = [rng.choice(t["open"]).format(**slots)] + [s.format(**slots) for s in body]
    paragraphs, i = [], 0
    while i < len(sentences):  # one or two sentences a paragraph
        n = 1 if i == 0 else rng.choice([1, 2])
        paragraphs.append(" ".join(sentences[i : i + n]))
        i += n
    return Event(story, topic, rng.choice(t["titles"]).format(**slots), paragraphs, slots)


def original(e: Event, outlet: str) -> Article:
    return Article(e.story, outlet, e.title, "\n\n".join(e.paragraphs))


def _change_words(text: str, n: int, rng: random.Random) -> str:
    found = [w for w in SWAPS if w in text]
    for w in rng.sample(found, min(n, len(found))):
        text = text.replace(w, SWAPS[w], 1)
    return text


def copy(e: Event, outlet: str, strength: str, rng: random.Random) -> Article:
    t = TOPICS[e.topic]
    paragraphs = list(e.paragraphs)
    title = rng.choice([x for x in t["titles"] if x.format(**e.slots) != e.title] or t["titles"]).format(**e.slots)
    if strength != "light":
        paragraphs[0] = rng.choice(t["lead"]).format(**e.slots)  # the outlet's own sapo
        caption = rng.choice(CAPTIONS).format(outlet=outlet.upper(), name=e.slots["leader"], province=e.slots["province"])
        paragraphs.insert(1, caption)
        paragraphs = paragraphs[:-1]
    if strength == "heavy":
        caption = rng.choice(CAPTIONS).format(outlet=outlet.upper(), name=e.slots["deputy"], province=e.slots["province"])
        paragraphs.insert(3, caption)
        paragraphs = paragraphs[:-1]
        if len(paragraphs) > 4:
            i, j = rng.sample(range(2, len(paragraphs)), 2)
            paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
    body = "\n\n".join(paragraphs)
    if strength != "light":
        body = _change_words(body, 2 if strength == "medium" else 8, rng)
    return Article(e.story, outlet, title, rng.choice(PREFIXES) + body)


def lead_only(e: Event, outlet: str) -> Article:
    return Article(e.story, outlet, e.title, e.paragraphs[0])


def corpus(stories: int, seed: int = 11) -> list[Article]:
    """``stories`` events, each with 1 to 9 more copies (lead-only items among them), shuffled."""
    rng = random.Random(seed)
    out: list[Article] = []
    for s in range(stories):
        e = event(rng, s)
        outlets = rng.sample(OUTLETS, rng.randint(1, 10))
        out.append(original(e, outlets[0]))
        for outlet in outlets[1:]:
            r = rng.random()
            if r < 0.12:
                out.append(lead_only(e, outlet))
            else:
                out.append(copy(e, outlet, rng.choice(["light", "medium", "heavy"]), rng))
    rng.shuffle(out)
    return out


def fillers(n: int, seed: int, first_story: int = 1_000_000) -> list[Article]:
    """``n`` distinct reports (about one in four with a copy): the archive already stored."""
    rng = random.Random(seed)
    out: list[Article] = []
    s = first_story
    while len(out) < n:
        e = event(rng, s)
        out.append(original(e, rng.choice(OUTLETS)))
        if rng.random() < 0.25 and len(out) < n:
            out.append(copy(e, rng.choice(OUTLETS), rng.choice(["light", "medium", "heavy"]), rng))
        s += 1
    return out
