"""Regulation texts split per article / section, citation references, and the knowledge base's
faithfulness to the profiles (every number from the profile, every citation a real article)."""
from __future__ import annotations

import re

import pytest

from portal.chatbot.articles import REGULATIONS_DIR, load_regulations, parse_refs
from portal.chatbot.kb import KnowledgeBase, _all_articles, load_faq
from portal.chatbot.normalise import cn_number, cn_numeral
from portal.profiles import available_profiles, load_profile


@pytest.fixture(scope="module")
def regs():
    return load_regulations()


def test_every_source_ships_with_its_text(regs):
    files = {p.name for p in REGULATIONS_DIR.glob("*.txt")}
    assert {d.file for d in regs.documents.values()} == files
    assert set(regs.documents) == {"hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"}
    for doc in regs.documents.values():
        assert doc.title and doc.issuer and doc.public, doc.id
        assert regs.articles[doc.id], doc.id
    assert regs.documents["hunan"].doc_no == "湘卫发〔2025〕11号"
    assert regs.documents["jiangsu"].doc_no == "淮卫办发〔2020〕104号"


def test_hunan_split_per_article(regs):
    units = regs.articles["hunan"]
    assert [u.label for u in units] == [f"第{cn_numeral(n)}条" for n in range(1, 36)]
    art = regs.article("hunan", "第二十八条")
    assert art.anchor == "a28" and art.number == 28
    assert art.text.startswith("各级卫生健康行政部门应当自收到异议申请之日起3个工作日内")
    assert "向上一级卫生健康行政部门提出复核" in art.text  # its third paragraph stays with it
    assert art.chapter == "第四章 信用修复与异议处理"
    assert regs.article("hunan", "第一条").chapter == "总则"
    # the issuing trailer after the last article is not part of it
    assert regs.article("hunan", "第三十五条").text == "本办法自公布之日起施行，试行期2年。"


def test_hainan_headings_bookmarks_and_gaps(regs):
    art = regs.article("hainan", "第四十一条")
    assert art.heading == "修复要求" and "不得以任何形式向申请信用修复的主体收取费用" in art.text
    assert all("bookmark" not in u.text for u in regs.articles["hainan"])
    numbers = [u.number for u in regs.articles["hainan"]]
    assert numbers == sorted(numbers) and 45 not in numbers  # the draft skips 第四十五–四十六条
    assert regs.article("hainan", "第五十四条") is not None


def test_annexes_are_units_and_their_tables_are_not_articles(regs):
    labels = [u.label for u in regs.articles["hunan-mi"]]
    assert labels[-4:] == ["附件1", "附件2", "附件3", "附件4"]
    assert labels.count("第二十四条") == 1  # annex 3 quotes "第二十四条规定" in a table cell
    assert regs.article("hunan-mi", "附件4").heading == "湖南省医疗保障信用修复确认通知书"


def test_plans_split_per_section_and_item(regs):
    qr = regs.article("jiangsu", "三（七）")
    assert qr.anchor == "s3-7" and "二维码身份牌" in qr.text
    ratios = regs.article("guangdong", "四（四）")
    assert "A 级 5%、B 级 20%、C 级 50%、D 和 E 级 100%" in ratios.text
    # a sentence broken by a page break is joined again
    assert "优先依托省市一体化政务数据中心" in regs.article("guangdong", "四（二）").text
    assert "覆盖医疗卫生全行业、全类别的信用+综合监管" in regs.article("jiangsu", "三（三）").text


@pytest.mark.parametrize("text, expected", [
    ("湖南 第二十六–二十八条", [("hunan", "第二十六条", ""), ("hunan", "第二十七条", ""), ("hunan", "第二十八条", "")]),
    ("湖南 第二十条（二）、第二十一条（二）、第二十三条",
     [("hunan", "第二十条", "（二）"), ("hunan", "第二十一条", "（二）"), ("hunan", "第二十三条", "")]),
    ("湖南 第二十八条第一、二款", [("hunan", "第二十八条", "第一、二款")]),
    ("海南 第四十一条（不得收费；全国通行做法）", [("hainan", "第四十一条", "（不得收费；全国通行做法）")]),
    ("湖南 第二十九条（二）；国办发〔2025〕22号（一般：3个月至1年）",
     [("hunan", "第二十九条", "（二）"), (None, "", "一般：3个月至1年")]),
    ("阳山 四（七）；时限参照湖南 第二十八条", [("guangdong", "四（七）", ""), ("hunan", "第二十八条", "")]),
    ("湖南医保 第十七条第一款", [("hunan-mi", "第十七条", "第一款")]),
    ("淮安 三（七）", [("jiangsu", "三（七）", "")]),
])
def test_parse_refs(regs, text, expected):
    assert [(r.doc_id, r.label, r.detail) for r in parse_refs(text, regs)] == expected


@pytest.mark.parametrize("profile_id", available_profiles())
def test_every_profile_citation_points_at_a_real_article(regs, profile_id):
    """A profile that cites 第九十九条 (or a section the plan does not have) fails here."""
    profile = load_profile(profile_id)
    for article in _all_articles(profile):
        for ref in parse_refs(article, regs):
            if ref.doc_id is None:
                # a national document, or the mark of a value the own document leaves open
                assert ref.doc_name.startswith("国办发") or "本平台可编辑默认值" in ref.doc_name, (article, ref)
                continue
            assert ref.label, (article, ref)
            assert regs.article(ref.doc_id, ref.label) is not None, (profile_id, article, ref)


def test_chinese_numerals_round_trip():
    for n in range(1, 200):
        assert cn_number(cn_numeral(n)) == n
    assert cn_numeral(10) == "十" and cn_numeral(21) == "二十一" and cn_numeral(105) == "一百零五"


def test_faq_carries_no_numbers_of_its_own():
    """Numbers come from the profile (`include`), so an FAQ cannot contradict the workflows."""
    for entry in load_faq():
        assert not re.search(r"\d|[一二三四五六七八九十]+个(工作日|月)", entry.answer), entry.id


@pytest.mark.parametrize("profile_id", available_profiles())
def test_knowledge_base_numbers_come_from_the_profile(regs, profile_id):
    profile = load_profile(profile_id)
    kb = KnowledgeBase.build(profile, regs)
    process = kb.rule("objection.process").text
    for step in profile.objection.steps:
        if step.workdays is not None and step.actor not in ("applicant", "reviewer"):
            assert f"{step.workdays}个工作日内" in process, (profile_id, step.id)
    repair = kb.rule("repair.process").text
    for step in profile.repair.steps:
        if step.workdays is not None:
            assert f"{step.workdays}个工作日内" in repair, (profile_id, step.id)
        if step.min_workdays is not None:
            assert f"不少于{step.min_workdays}个工作日" in repair, (profile_id, step.id)
    ratios = kb.rule("inspection.ratios").text
    for r in profile.inspection.ratios:
        assert f"{r.grade}级{r.percent}%" in ratios
    levels = kb.rule("grade.levels").text
    assert all(f"{g.letter}级（{g.label}）" in levels for g in profile.grades)
    # every FAQ passage resolved its citations and includes
    for p in kb.passages:
        if p.kind == "faq":
            assert p.refs, (profile_id, p.id)
    # other jurisdictions' documents are never retrievable (issue #11 §4: no 海南 on hunan), even
    # where the profile borrows one of their rules as a default
    own = {d.id for d in regs.documents.values() if profile_id in d.profiles}
    assert {p.refs[0].doc_id for p in kb.passages if p.kind == "article"} == own


def test_editable_defaults_are_marked(regs):
    kb = KnowledgeBase.build(load_profile("hunan"), regs)
    review = kb.rule("objection.review").text
    assert "3个工作日内※" in review and "默认标准" in review  # 复核时限: a profile default
    assert "※" not in kb.rule("objection.process").text  # 第二十八条 sets these numbers itself
