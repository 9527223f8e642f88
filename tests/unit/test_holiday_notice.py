"""The State Council's annual holiday notice, parsed line by line (portal.domain.holiday_notice).

tests/data/holiday-notice-2025.txt is 国办发明电〔2024〕12号, tests/data/holiday-notice-2026.txt the
notice for 2026 published November 2025; the parsed tables must equal chinesecalendar 1.11.0's
holidays and make-up workdays for those years exactly."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import chinese_calendar
import pytest

from portal.domain.holiday_notice import NoticeError, parse_notice, table_rows
from portal.domain.statutory import statutory_holidays

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize("year", [2025, 2026])
def test_notice_equals_chinesecalendar(year):
    notice = parse_notice((DATA / f"holiday-notice-{year}.txt").read_text(encoding="utf-8"))
    assert notice.year == year and "部分节假日安排的通知" in notice.title
    assert notice.holidays == sorted(d for d in chinese_calendar.holidays if d.year == year)
    assert notice.workdays == sorted(d for d in chinese_calendar.workdays if d.year == year)
    # every statutory holiday of the year is inside the notice's holidays
    assert set(statutory_holidays(year)) <= set(notice.holidays)
    rows = table_rows(notice)
    assert len(rows) == len(notice.holidays) + len(notice.workdays)


def test_2025_details():
    notice = parse_notice((DATA / "holiday-notice-2025.txt").read_text(encoding="utf-8"))
    assert notice.doc_no == "国办发明电〔2024〕12号"
    spring = next(line for line in notice.lines if line.festival == "春节")
    assert spring.holidays[0] == date(2025, 1, 28) and len(spring.holidays) == 8
    assert spring.workdays == [date(2025, 1, 26), date(2025, 2, 8)]
    assert (date(2025, 1, 28), "星期二", "放假", "春节") in table_rows(notice)


def test_year_from_the_form_when_the_title_is_missing():
    text = "一、元旦：1月1日（周五）放假1天，不调休。\n二、春节：2月5日（农历除夕、周五）至8日（周一）放假，共4天。"
    with pytest.raises(NoticeError, match="请填写年份"):
        parse_notice(text)
    notice = parse_notice(text, 2027)
    assert notice.holidays[0] == date(2027, 1, 1) and len(notice.holidays) == 5
    with pytest.raises(NoticeError, match="不一致"):
        parse_notice("国务院办公厅关于2027年部分节假日安排的通知\n" + text, 2028)


@pytest.mark.parametrize(("text", "message"), [
    ("", "请粘贴"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）放假1天，不调休。\n二、春节：2月5日至8日休息几天吧。",
     "第3行无法识别"),
    # the count does not match the range
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、春节：2月5日（周五）至8日（周一）放假，共5天。", "共5天与起止日期不符"),
    # a wrong weekday is a typo in the paste
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周六）放假1天。", "不是星期六"),
    # a make-up "workday" that is a weekday anyway
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、春节：2月5日至8日放假，共4天。2月10日上班。", "本来就是工作日"),
    # a dated line that is not a schedule item
    ("国务院办公厅关于2027年部分节假日安排的通知\n元旦放假：1月1日。", "第2行无法识别"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：2月30日放假。", "日期无效"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日放假。\n二、又一个：1月1日放假。", "已在第2行出现"),
    ("国务院办公厅关于2027年部分节假日安排的通知\n各省、自治区：\n特此通知。", "没有找到任何放假安排"),
    ("国务院办公厅关于3027年部分节假日安排的通知\n一、元旦：1月1日放假。", "2000–2100"),
    ("一" * 20_001, "不能超过"),
])
def test_refusals_name_the_line(text, message):
    with pytest.raises(NoticeError, match=message):
        parse_notice(text)
