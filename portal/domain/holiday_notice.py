"""Parse the State Council's annual holiday notice (国务院办公厅关于XXXX年部分节假日安排的通知)
into holidays and make-up workdays. Pure: text in, a table or a :class:`NoticeError` out.

The notice's schedule lines read, e.g. (2025, 国办发明电〔2024〕12号):
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    一、元旦：1月1日（周三）放假1天，不调休。
Each sentence of a schedule line must be one of: a range "X月Y日（…）至[X月]Z日（…）放假[调休]，共N天"
(N is checked against the range), a single day "X月Y日（…）放假[N天]", make-up days
"X月Y日（周六）[、X月Y日（周日）]上班", or "不调休". A weekday in brackets is checked against the
date. Any other line that names a date (X月Y日) and is not the notice's own date is refused with
its line number: a schedule is never half-read. Lines without a date (salutation, preamble,
closing paragraph, signature) are not part of the schedule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NoReturn

WEEKDAY_NAMES = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
MAX_CHARS = 20_000
MAX_LINES = 400

_TITLE = re.compile(r"国务院办公厅关于\s*(\d{4})\s*年部分节假日安排的通知")
_DOC_NO = re.compile(r"国办发(?:明电)?\s*〔\d{4}〕\s*\d+\s*号")
_ITEM = re.compile(r"^[（(]?[一二三四五六七八九十]+[、.．)）]\s*([^：:]{1,20})[：:](.*)$")
_HAS_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日")
_SIGNED = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_DAY = r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:[（(]([^）)]{0,20})[）)])?"
_RANGE = re.compile(rf"^{_DAY}至{_DAY}放假(调休)?[，,]共(\d+|[一二两三四五六七八九十]+)天$")
_SINGLE = re.compile(rf"^{_DAY}放假(?:(\d+|[一二两三四五六七八九十]+)天)?$")
_WORK = re.compile(rf"^((?:{_DAY}[、,，和及]?)+)上班$")
_WORK_DAY = re.compile(_DAY)
_NO_SWAP = re.compile(r"^(?:不调休|与周末连休|不上班)$")


class NoticeError(ValueError):
    """Text that is not a notice this parser can read; the message is Chinese and names the line."""


@dataclass
class NoticeLine:
    festival: str
    holidays: list[date] = field(default_factory=list)
    workdays: list[date] = field(default_factory=list)
    line_no: int = 0


@dataclass
class ParsedNotice:
    year: int
    title: str
    doc_no: str
    lines: list[NoticeLine]

    @property
    def holidays(self) -> list[date]:
        return sorted({d for line in self.lines for d in line.holidays})

    @property
    def workdays(self) -> list[date]:
        return sorted({d for line in self.lines for d in line.workdays})

    def days(self) -> dict[date, bool]:
        """day → is a working day (False: 放假; True: 调休上班)."""
        table = {d: False for d in self.holidays}
        table.update({d: True for d in self.workdays})
        return dict(sorted(table.items()))


def _num(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (_NUM[text[1]] if len(text) > 1 else 0)
    if len(text) == 2 and text[1] == "十":
        return _NUM[text[0]] * 10
    if len(text) == 3 and text[1] == "十":
        return _NUM[text[0]] * 10 + _NUM[text[2]]
    return _NUM[text]


class _Reader:
    def __init__(self, year: int, line_no: int, text: str) -> None:
        self.year, self.line_no, self.text = year, line_no, text
        self.month: int | None = None

    def fail(self, why: str) -> NoReturn:
        raise NoticeError(f"第{self.line_no}行无法识别（{why}）：「{self.text[:80]}」")

    def day(self, y: str | None, m: str | None, d: str, bracket: str | None) -> date:
        month = int(m) if m else self.month
        if month is None:
            self.fail("日期缺少月份")
        year = int(y) if y else self.year
        try:
            found = date(year, month, int(d))
        except ValueError:
            self.fail(f"日期无效：{month}月{d}日")
        self.month = month
        if bracket:
            named = re.search(r"(?:周|星期)([一二三四五六日天])", bracket)
            if named and WEEKDAY_NAMES[named.group(1)] != found.weekday():
                self.fail(f"{found.month}月{found.day}日不是星期{named.group(1)}")
        return found


def _sentence(reader: _Reader, item: NoticeLine, sentence: str) -> None:
    sentence = re.sub(r"[，,](?:不调休|与周末连休)$", "", sentence)
    if m := _RANGE.match(sentence):
        first = reader.day(*m.group(1, 2, 3, 4))
        last = reader.day(*m.group(5, 6, 7, 8))
        if last < first:
            reader.fail("放假结束日早于开始日")
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if len(days) != _num(m.group(10)):
            reader.fail(f"共{m.group(10)}天与起止日期不符（应为{len(days)}天）")
        item.holidays.extend(days)
    elif m := _SINGLE.match(sentence):
        first = reader.day(*m.group(1, 2, 3, 4))
        if m.group(5) and _num(m.group(5)) != 1:
            reader.fail(f"单日放假却写了{m.group(5)}天")
        item.holidays.append(first)
    elif m := _WORK.match(sentence):
        for part in _WORK_DAY.finditer(m.group(1)):
            item.workdays.append(reader.day(*part.group(1, 2, 3, 4)))
    elif not _NO_SWAP.match(sentence):
        reader.fail(f"不认识的句子“{sentence[:40]}”")


def parse_notice(text: str, year: int | None = None) -> ParsedNotice:
    """The notice's schedule, checked line by line. ``year`` is needed only when the pasted
    text lacks the title line; when both are given they must agree."""
    if not isinstance(text, str) or not text.strip():
        raise NoticeError("请粘贴国务院办公厅放假安排通知的全文")
    if len(text) > MAX_CHARS:
        raise NoticeError(f"通知全文不能超过 {MAX_CHARS} 字")
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(raw_lines) > MAX_LINES:
        raise NoticeError(f"通知全文不能超过 {MAX_LINES} 行")
    title_match = _TITLE.search(text)
    title = title_match.group(0) if title_match else ""
    if title_match:
        titled = int(title_match.group(1))
        if year is not None and year != titled:
            raise NoticeError(f"所填年份 {year} 与通知标题中的 {titled} 年不一致")
        year = titled
    if year is None:
        raise NoticeError("未找到通知标题（国务院办公厅关于XXXX年部分节假日安排的通知），请填写年份")
    if not 2000 <= year <= 2100:
        raise NoticeError("年份应在 2000–2100 之间")
    doc = _DOC_NO.search(text)
    lines: list[NoticeLine] = []
    seen: dict[date, int] = {}
    for no, raw in enumerate(raw_lines, start=1):
        line = re.sub(r"\s+", "", raw.replace("\u3000", ""))
        if not line or not _HAS_DATE.search(line) or _SIGNED.match(line):
            continue
        reader = _Reader(year, no, raw.strip())
        item_match = _ITEM.match(line)
        if item_match is None:
            reader.fail("不是“一、节日：日期安排”格式的放假安排")
        item = NoticeLine(festival=item_match.group(1), line_no=no)
        for sentence in re.split(r"[。；;]", item_match.group(2)):
            if sentence:
                _sentence(reader, item, sentence)
        if not item.holidays:
            reader.fail("没有放假日期")
        for d in item.holidays + item.workdays:
            if d.year not in (year, year - 1) or (d.year == year - 1 and d.month != 12):
                reader.fail(f"{d.isoformat()} 不在{year}年的放假安排范围内")
            if d in seen:
                reader.fail(f"{d.month}月{d.day}日已在第{seen[d]}行出现")
            seen[d] = no
        for d in item.workdays:
            if d.weekday() < 5:
                reader.fail(f"调休上班日 {d.month}月{d.day}日 本来就是工作日")
        lines.append(item)
    if not lines:
        raise NoticeError("没有找到任何放假安排（应为“一、元旦：1月1日放假…”这样的行）")
    return ParsedNotice(year=year, title=title, doc_no=doc.group(0) if doc else "", lines=lines)


def table_rows(notice: ParsedNotice) -> list[tuple[date, str, str, str]]:
    """(date, 星期X, 放假 / 调休上班, festival) in date order: what the administrator confirms."""
    weekdays = "一二三四五六日"
    rows = []
    for line in notice.lines:
        rows += [(d, f"星期{weekdays[d.weekday()]}", "放假", line.festival) for d in line.holidays]
        rows += [(d, f"星期{weekdays[d.weekday()]}", "调休上班", line.festival) for d in line.workdays]
    return sorted(rows)
