"""Other people's personal data in the free text of public records (DOMAIN.md "Disclosure")."""
from __future__ import annotations

from datetime import date

import pytest

from portal.domain.disclosure import public_view
from portal.domain.identifiers import scrub_personal_data
from portal.domain.redaction import scrub_people
from portal.profiles import load_profile

HUNAN = load_profile("hunan")

PATIENT = ("患者王小明（男，9岁，住长沙市岳麓区麓山南路8号，身份证 430102 19850303 0776，"
           "电话 0731 8451 2345，诊断为HIV阳性）")


def test_a_decision_naming_a_patient_keeps_nothing_personal():
    out = scrub_personal_data(PATIENT)
    for secret in ("王小明", "9岁", "麓山南路8号", "19850303", "8451", "HIV"):
        assert secret not in out
    assert out.startswith("患者王某（男，")


@pytest.mark.parametrize("text, hidden", [
    ("投诉人李四反映该院乱收费", "李四"),
    ("举报人：王五", "王五"),
    ("患者张三于2025年3月在该院就诊", "张三"),
    ("家住岳麓区桃子湖路12栋", "桃子湖路"),
    ("现住址：天心区书院路9号", "书院路"),
    ("经诊断为乙型肝炎", "乙型肝炎"),
    ("患儿（女，5岁）", "5岁"),
])
def test_people_hidden(text, hidden):
    assert hidden not in scrub_people(text)


@pytest.mark.parametrize("text", [
    "保障患者安全，保护患者隐私",
    "未按规定告知患者知情同意事项",
    "当事人长沙市某某医院未按规定公示收费标准",  # the party itself
    "法定代表人（负责人）谢凤婧",  # public for an organisation
    "住所永州市道县丰收北路288号",  # an organisation's registered address
    "未按规定报告确诊病例",
    "对3岁以下儿童开展筛查",
    "湘卫罚〔2025〕12号，罚款5000元",
])
def test_ordinary_wording_left_alone(text):
    assert scrub_personal_data(text) == text


@pytest.mark.parametrize("text, digits", [
    ("430102-19850303-0776 信用修复要什么材料", "19850303"),
    ("ID:430102198503030776abc", "19850303"),
    ("联系电话84512345", "845123"),
    ("电话 0731 8451 2345", "8451"),
])
def test_numbers_in_other_forms(text, digits):
    assert digits not in scrub_personal_data(text)


def record(**kw):
    base = dict(scope="public", status="active", is_current=True, publish_from=date(2026, 1, 1),
                publish_until=date(2028, 1, 1), decided_on=date(2026, 6, 1), title="违规执业", content="")
    return base | kw


def test_a_record_about_a_minor_is_never_published():
    birth = date(2008, 12, 1)  # 17 on the decision day
    assert public_view(record(), date(2026, 11, 20), birth_on=birth, profile=HUNAN) is None
    assert public_view(record(), date(2026, 12, 2), birth_on=birth, profile=HUNAN) is None  # 18 now: still hidden
    assert public_view(record(decided_on=date(2026, 12, 1)), date(2026, 12, 2), birth_on=birth, profile=HUNAN) is not None
    assert public_view(record(), date(2026, 11, 20), profile=HUNAN) is not None  # an organisation's record
