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


# What the demo generator writes into records (portal/demo/generator.py private_detail), and the
# usual forms of a 行政处罚决定书.
@pytest.mark.parametrize("text, hidden", [
    ("投诉人贺华春（联系电话19814012593）反映上述问题。", ("贺华春", "19814012593")),
    ("涉及患者贺华春（身份证号430102198503030776，联系电话19814012593）。", ("贺华春", "198503030776", "19814012593")),
    ("现场负责人贺华春，联系电话19814012593。", ("贺华春", "19814012593")),
    ("当事人联系电话19814012593，住址长沙市岳麓区麓山南路8号。", ("19814012593", "麓山南路")),
    ("投诉人欧阳娜娜反映", ("娜娜",)),
    ("患者张三、李四等5人", ("张三", "李四")),
    ("死者家属张三称", ("张三",)),
    ("患者之女张三签字", ("张三",)),
    ("工作人员张伟未取得健康证明", ("张伟",)),
    ("投诉人高红反映", ("高红",)),
    # health data without a trigger word, tied to a person
    ("该院工作人员将患者HIV阳性检测结果泄露", ("HIV",)),
    ("患者张某系艾滋病病毒感染者", ("艾滋病",)),
    ("王某系乙肝病毒携带者，被该院拒绝录用", ("乙肝",)),
    ("患者张三因精神分裂症入院", ("精神分裂症", "张三")),
    ("该院将一名梅毒患者的就诊信息泄露", ("梅毒",)),
    ("患者李某已怀孕16周", ("怀孕",)),
    ("其肺结核病史", ("结核",)),
])
def test_third_parties_hidden(text, hidden):
    out = scrub_personal_data(text)
    for secret in hidden:
        assert secret not in out, out


@pytest.mark.parametrize("text", [
    # an organisation's duty about a disease, not a person's status
    "该院未按规定开展艾滋病检测",
    "未按规定为艾滋病患者提供免费抗病毒治疗",
    "医师王某未按规定开展艾滋病检测",
    "未按规定报告肺结核病例",
    "为怀孕16周的孕妇做非医学需要的胎儿性别鉴定",
    # an organisation's registered seat and ordinary words after 住 or a role word
    "长沙某医院，统一社会信用代码91430100MA4L12345X，住所长沙市岳麓区麓山南路8号，法定代表人（负责人）谢凤婧。",
    "患者住院治疗期间，住院费用未公示",
    "该宾馆，住宿场所未取得卫生许可证",
    "从业人员未取得健康证明上岗",
    "投诉人向卫生部门举报",
    "患者和家属均表示",
    "当事人为孕妇李某提供非医学需要的胎儿性别鉴定",  # anonymised already
    "患者王某某",
])
def test_organisations_records_left_alone(text):
    assert scrub_personal_data(text) == text


def test_a_persons_seat_is_a_home_address():
    text = "当事人：张三，男，1980年5月出生，住所：湖南省长沙市开福区某路1号"
    assert "开福区" in scrub_personal_data(text)  # an organisation's 住所 is public
    assert "开福区" not in scrub_personal_data(text, party_is_person=True)
    assert "开福区" not in public_view(record(content=text), date(2026, 11, 20), birth_on=date(1980, 5, 1), profile=HUNAN)["content"]


def test_the_subject_keeps_its_own_data_not_other_peoples():
    from portal.domain.private_view import own_values, record_rows, subject_text

    me = {"name": "李医生", "phone": "13912345678", "address": "长沙市天心区书院路9号", "credit_code": None}
    own = own_values(me)
    text = "当事人联系电话13912345678，住址长沙市天心区书院路9号。投诉人贺华春（联系电话19814012593）反映上述问题。"
    out = subject_text(text, own)
    assert "13912345678" in out and "书院路9号" in out
    assert "贺华春" not in out and "19814012593" not in out and "投诉人贺某" in out
    row = record_rows([record(id=1, title="投诉人贺华春反映", content=text)], date(2026, 11, 20), HUNAN, own)[0]
    assert row.title == "投诉人贺某反映" and "贺华春" not in row.content
