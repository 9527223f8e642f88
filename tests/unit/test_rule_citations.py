"""Citations (issue 11 §3): every profile cites its own regulation; editable defaults are marked;
quotations of 湖南 第二十八条 match the original text."""
from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

import portal.domain
from portal.chatbot import Chatbot, Context, Env
from portal.chatbot.kb import KnowledgeBase
from portal.documents.citations import SHORTHANDS, _parts, foreign_citations, own_parts, own_shorthand
from portal.domain.workdays import WorkCalendar
from portal.profiles import PROFILE_DIR, load_profile
from portal.services.repair_notice import NOTICE_STEP, waiver_reason

OWN = {"hunan": "湖南 ", "hunan-mi": "湖南医保 ", "hainan": "海南 ", "guangdong": "阳山 ", "jiangsu": "淮安 "}
POLICIES = Path(__file__).resolve().parents[3] / "shared" / "policies"  # ../shared beside the checkout
EVAL = Path(__file__).resolve().parents[1] / "data" / "chatbot_eval.toml"


@pytest.mark.parametrize("name", sorted(OWN))
def test_repair_is_free_cites_the_profiles_own_regulation(name):
    """Before: guangdong, jiangsu, hunan (and hunan-mi) cited 海南 第四十一条 for "repair is free"."""
    article = load_profile(name).repair.article_for("free")
    assert article.startswith(OWN[name]), article


@pytest.mark.parametrize("name", ["guangdong", "jiangsu"])
def test_commitment_condition_is_marked_default(name):
    """阳山 四（六） and 淮安 三（六） list a commitment as a way to repair, not as a condition."""
    commitment = next(c for c in load_profile(name).repair.conditions if c.code == "commitment")
    assert commitment.is_default()


def test_hunan_28_quotation_has_no_quarantine():
    """湖南 第二十八条 lists 检验、检测、鉴定或者专家评审 — not 检疫."""
    src = Path(portal.domain.__file__).parent
    for module in ("workdays.py", "cases.py"):
        assert "检疫" not in (src / module).read_text(encoding="utf-8"), module
    text = POLICIES / "hunan-health-credit-measures-2025.txt"
    if text.exists():
        body = text.read_text(encoding="utf-8")
        assert "检验、检测、鉴定或者专家评审" in body and "检疫" not in body


# -- a citation names the active jurisdiction's own regulation ---------------------------------
# Every string of a loaded profile, every passage of its chatbot knowledge base, every chatbot answer to
# the evaluation questions and the waived-notice text of its repair letters may cite (in shorthand)
# only the profile's own document, derived from the profile itself (its ``document``: 湖南/湖南医保/海南/
# 阳山/淮安, portal.documents.citations.own_shorthand). A point the own document leaves open is marked
# "本平台可编辑默认值", never "参照" another province's article. Not in the shorthand (so allowed): national
# documents (国办发〔2025〕22号 — not in shared/policies/, a State Council rule that applies everywhere,
# DOMAIN.md) and the document numbers the profile's own ``document`` names (粤卫规〔2022〕4号 for 阳山).

def _strings(obj, path: str = ""):
    """(key path, string) for every string inside a loaded profile (dataclasses, tuples, dicts)."""
    if isinstance(obj, str):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _strings(getattr(obj, f.name), f"{path}.{f.name}".lstrip("."))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _strings(k, f"{path}[{k!r}]")
            yield from _strings(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


def _borrowed(profile) -> list[str]:
    return [f"{path}: {text}" for path, text in _strings(profile) if foreign_citations(text, profile.document)]


def _cited_parts(profile):
    """Every "；"-separated part of every article the profile cites."""
    for path, text in _strings(profile):
        if path == "article" or path.endswith(".article") or re.search(r"key_articles\[\d+\]\[1\]$", path):
            for part in _parts(text):
                if part.strip():
                    yield path, part.strip()


@pytest.mark.parametrize("name", sorted(OWN))
def test_profile_cites_no_other_jurisdiction(name):
    """Before: guangdong cited 湖南 第二十六–三十一条（参照）, jiangsu 湖南 第十七条（参照）, every profile
    淮安 三（二） for warnings and 海南 第九条/阳山 四（一）/淮安 三（六） for commitments."""
    profile = load_profile(name)
    assert own_shorthand(profile.document) == OWN[name].strip()
    assert _borrowed(profile) == []


@pytest.mark.parametrize("name", sorted(OWN))
def test_every_cited_part_is_own_national_or_a_marked_default(name):
    """A part that is not the own shorthand is a national document (国办发…), a document number the
    profile's own ``document`` names, or the mark of an editable default — nothing else."""
    profile = load_profile(name)
    for path, part in _cited_parts(profile):
        if part.startswith(OWN[name]) or part.startswith("国办发") or "可编辑默认值" in part:
            continue
        number = re.match(r"^[^\s（〔]+〔\d{4}〕\d+号", part)
        assert number and number.group(0) in profile.document, (path, part)


def test_the_check_catches_a_borrowed_citation(tmp_path):
    """The check above fails on the citation guangdong had before (and on "参照湖南" in prose)."""
    text = (PROFILE_DIR / "guangdong.toml").read_text(encoding="utf-8")
    text = text.replace('effects_article = "阳山 四（六）（修复效果未作规定，为本平台可编辑默认值）"',
                        'effects_article = "湖南 第三十一条（参照，可编辑默认值）"')
    copy = tmp_path / "guangdong.toml"
    copy.write_text(text, encoding="utf-8")
    assert _borrowed(load_profile(copy)) == ["repair.key_articles[0][1]: 湖南 第三十一条（参照，可编辑默认值）"]
    document = load_profile("guangdong").document
    assert foreign_citations("阳山 四（七）；时限参照湖南 第二十八条", document) == ["湖南"]
    assert foreign_citations("淮安 二、三（一）", document) == ["淮安"]
    assert foreign_citations("湖南省医疗保障局；国办发〔2025〕22号；阳山 四（七）", document) == []


@pytest.mark.parametrize("name", sorted(OWN))
def test_chatbot_cites_no_other_jurisdiction(name):
    """Every passage the chatbot can answer from, and its answers (text and citations) to the whole
    evaluation set, under this profile."""
    profile = load_profile(name)
    kb = KnowledgeBase.build(profile)
    bad = [f"{p.id}: {line}" for p in kb.passages for line in f"{p.title}\n{p.text}".splitlines()
           if foreign_citations(line, profile.document)]
    assert bad == []
    bot = Chatbot(profile)
    env = Env(today=date(2026, 11, 20), calendar=WorkCalendar(), facilities=_NoFacilities())
    cases = tomllib.loads(EVAL.read_text(encoding="utf-8"))["case"]
    for q in dict.fromkeys(c["q"] for c in cases):
        answer, _ = bot.answer(q, Context(), env)
        lines = [*answer.text.splitlines(), *(f"{c.doc}{c.article}{c.detail}" for c in answer.citations)]
        assert [line for line in lines if foreign_citations(line, profile.document)] == [], q


@pytest.mark.parametrize("name", sorted(OWN))
def test_waived_repair_notice_cites_the_profiles_own_privacy_article(name):
    """The notice_waived event and the repair decision letter cite the profile's [privacy] article;
    jiangsu's plan has none, so it cites only its repair step (never 湖南 第四条（参照）)."""
    profile = load_profile(name)
    step = next((s for s in profile.repair.steps if s.id == NOTICE_STEP), None)
    if step is None:
        pytest.skip(f"{name}: no public repair notice step")
    text = waiver_reason(None, None, date(2026, 11, 20), profile, step)
    assert foreign_citations(text, profile.document) == []
    if name == "jiangsu":
        assert profile.privacy_article is None and "不得泄露" not in text
    else:
        assert profile.privacy_article.startswith(OWN[name])
        assert f"依{profile.privacy_article}（不得泄露个人隐私等非公开信息）" in text


class _NoFacilities:
    def search(self, text: str, limit: int = 10) -> list[dict]:
        return []

    def details(self, public_id: str) -> dict | None:
        return None


def test_pages_show_only_the_own_part_of_a_citation():
    """``own_cite`` (templates): "（海南 第五十一条；湖南 第三十三条）" under 湖南 is "湖南 第三十三条", under 阳山
    nothing; national parts stay; editable-default notes are not shown as citations."""
    hunan, yangshan = load_profile("hunan").document, load_profile("guangdong").document
    assert own_parts("海南 第五十一条；湖南 第三十三条", hunan) == "湖南 第三十三条"
    assert own_parts("海南 第五十一条；湖南 第三十三条", yangshan) == ""
    assert own_parts("海南 第二十七条；《征信业管理条例》第十八条", yangshan) == "《征信业管理条例》第十八条"
    assert own_parts("阳山 四（五）；淮安 三（五）", yangshan) == "阳山 四（五）"
    assert own_parts("湖南医保 第十九条", hunan) == ""
    assert own_parts("预警规则：办法未作规定，为本平台可编辑默认值", hunan) == ""


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
_OWN_CITE = re.compile(r"own_cite\((?:[^()]|\([^()]*\))*\)")
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def test_templates_cite_a_jurisdiction_only_through_own_cite():
    """A page is rendered under every profile: a literal "（海南 第二十七条）" in a template would show 海南's
    draft to 湖南 visitors. Citations go through ``own_cite(...)``, which keeps the active one's part."""
    bad = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = _OWN_CITE.sub("", _JINJA_COMMENT.sub("", path.read_text(encoding="utf-8")))
        bad += [f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                if foreign_citations(line, "")]
    assert bad == []


_TABLE_IN_TEMPLATE = re.compile(r"\{\{[^}]*\b[A-Z_]*(?:ARTICLES?|BASIS)\b[^}]*\}\}")


def test_templates_show_python_citation_tables_only_through_own_cite():
    """A citation table from Python (``rules.CHANNEL_ARTICLE`` = "海南 第二十二条；阳山 四（二）") printed as
    ``{{ rules.CHANNEL_ARTICLE }}`` shows every province's article; ``own_cite(...)`` keeps the own one.
    Before: provider/index.html and provider/review.html printed it bare under every profile."""
    bad = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = _JINJA_COMMENT.sub("", path.read_text(encoding="utf-8"))
        bad += [f"{path.relative_to(TEMPLATES)}: {m.group(0)}" for m in _TABLE_IN_TEMPLATE.finditer(text)
                if "own_cite(" not in m.group(0)]
    assert bad == []


def test_commitment_restriction_cites_hainan_only_under_hainan():
    """海南 第十一条 limits 审批替代型 commitments; under another profile the message says it is this
    platform's practice (services.commitments passes the own part of the citation)."""
    from portal.domain.commitments import restriction

    serious = [{"info_class": "serious", "status": "active"}]
    for name in sorted(OWN):
        document = load_profile(name).document
        text = restriction("licensing", serious, [], own_parts("海南 第十一条", document))
        assert foreign_citations(text, document) == []
        assert text.endswith("（海南 第十一条）" if name == "hainan" else "（本平台执行的做法）"), text


# -- messages built in Python: a rule's message cites the active profile's own article ----------
# Refusals of the domain rules and services, the import template's help, the OpenAPI description and
# the CLI help are shown under every profile. A citation in a Python string is a citation table (every
# "；"-part one regulation's article, in shorthand) that reaches the user only through own_parts/own_note/
# cite, which keep the active profile's part; running text with a citation inside ("…（湖南 第十条）。")
# would be shown as written to every jurisdiction. Docstrings and comments are not user-facing.

PORTAL = Path(portal.domain.__file__).resolve().parents[1]


def _python_strings(path: Path):
    """(line, text) of every string constant in a module except docstrings (f-string parts included)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _citation_table(text: str) -> bool:
    """Every "；"-part of ``text`` starts with a regulation's shorthand ("海南 第二十二条；阳山 四（二）")."""
    parts = [p.strip() for p in _parts(text) if p.strip()]
    return bool(parts) and all(p.startswith(SHORTHANDS) and foreign_citations(p, "") for p in parts)


def _running_text_citations(root: Path) -> list[str]:
    return [f"{path.relative_to(root)}:{line}: {text[:80]}" for path in sorted(root.rglob("*.py"))
            for line, text in _python_strings(path) if foreign_citations(text, "") and not _citation_table(text)]


def test_python_strings_cite_a_jurisdiction_only_as_citation_tables():
    """Before: provision.OTHER_UNIT "…（湖南 第十条）。", CHANNEL_REVIEWER and staff.CHANNEL_PROVIDER_ONLY
    "（海南 第二十二条）", record_rules "（湖南 第十四条）"/"（湖南 第十五条；…", the importer's 普通程序 help,
    the OpenAPI description and the CLI help all cited one province under every profile."""
    assert _running_text_citations(PORTAL) == []


def test_the_python_check_catches_a_citation_in_running_text(tmp_path):
    (tmp_path / "m.py").write_text('"""Docstring: 湖南 第十条."""\n# 海南 第二十二条\n'
                                   'A = "海南 第二十二条；阳山 四（二）"\nB = "只能报送本单位的信息（湖南 第十条）。"\n'
                                   'C = f"不能为“{x}”（湖南 第十五条；{y}）"\n', encoding="utf-8")
    assert [line.split(":")[1] for line in _running_text_citations(tmp_path)] == ["4", "5"]


def _no_foreign(text: str, profile) -> list[str]:
    return [line for line in text.splitlines() if foreign_citations(line, profile.document)]


@pytest.mark.parametrize("name", sorted(OWN))
def test_refusals_cite_the_profiles_own_article(name):
    """The providers' refusals, the channel refusal of staff accounts and the record rules' messages,
    as produced under each profile: the own article where the regulation has one, else none."""
    from portal.domain import provision
    from portal.domain.record_rules import RecordRuleError, check_record
    from portal.services.staff import channel_provider_only

    profile = load_profile(name)
    texts = [provision.message(why, profile.document) for why in
             (provision.OTHER_UNIT, provision.CHANNEL_REVIEWER, provision.CHANNEL_OFFICIAL_ONLY, provision.NOT_PROVIDER)]
    texts.append(channel_provider_only(profile.document))
    base = dict(publish_from=date(2026, 1, 1), publish_until=None)
    for kw in (dict(record_type="serious_list", info_class="serious", severity="general", ordinary_procedure=None),
               dict(record_type="licence", info_class=None, severity=None, ordinary_procedure=True)):
        with pytest.raises(RecordRuleError) as err:
            check_record(profile, **kw, **base)
        texts.append(str(err.value))
    assert [t for t in texts if _no_foreign(t, profile)] == []
    other_unit, channel = texts[0], texts[1]
    expected = {"hunan": "（湖南 第十条）。", "hunan-mi": "（湖南医保 第十三条第二款）。", "hainan": "（海南 第二十条）。",
                "guangdong": "（阳山 四（二））。", "jiangsu": "本单位的信息。"}
    assert other_unit.endswith(expected[name]), other_unit
    assert channel.endswith({"hainan": "（海南 第二十二条）。", "guangdong": "（阳山 四（二））。"}.get(name, "审核后发布。"))
    assert ("湖南 第十四条" in texts[-1]) == (name == "hunan") and ("湖南 第十五条" in texts[-2]) == (name == "hunan")


@pytest.mark.parametrize("name", sorted(OWN))
def test_import_template_help_and_api_description_cite_only_the_own_regulation(name):
    from portal.services.importer import columns
    from portal.services.lists import escalation_basis
    from portal.web.api_openapi import document

    profile = load_profile(name)
    helps = [help_text for _k, _l, _r, help_text in columns(profile)]
    assert [h for h in helps if _no_foreign(h, profile)] == []
    ordinary = dict((k, h) for k, _l, _r, h in columns(profile))["ordinary_procedure"]
    assert ("湖南 第十四条只将普通程序的行政处罚列为失信信息" in ordinary) == (name == "hunan"), ordinary
    description = document("https://portal.example", profile.document)["info"]["description"]
    assert _no_foreign(description, profile) == []
    assert description.startswith("供已登记的政务部门客户端读取、报送信用信息（" + OWN[name]), description[:60]
    assert _no_foreign(escalation_basis(profile.document), profile) == []


def test_cli_help_names_no_provinces_article():
    """``--help`` is read before a profile is loaded: it names no regulation's article at all."""
    import click

    from portal.cli import main

    def texts(cmd, path):
        yield path, cmd.help or ""
        for p in cmd.params:
            yield f"{path} {p.name}", getattr(p, "help", None) or ""
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from texts(sub, f"{path} {name}")

    found = list(texts(main, "credit-portal"))
    assert len(found) > 50 and isinstance(main, click.Group)
    assert [f"{path}: {text}" for path, text in found if foreign_citations(text, "")] == []


def test_warnings_cite_only_what_the_plan_says_about_warnings():
    """淮安 三（二） asks for 预警报告 on serious dishonesty; 四（二） is the plan's implementation stage (a
    timetable, "信用预警分析实时开展" as a goal of 2021), not a rule on warnings."""
    article = load_profile("jiangsu").warnings.article
    assert article == "淮安 三（二）"
    text = POLICIES / "huaian-jiangsu-credit-supervision-plan-2020.txt"
    if text.exists():
        body = text.read_text(encoding="utf-8")
        assert "（二）稳步统筹规划，加强系统互联" in body and "及时提出预警报告" in body


@pytest.mark.parametrize("name", sorted(OWN))
def test_catalogue_page_cites_each_regulations_own_articles(name):
    """The catalogue page's two notes (what the catalogue states; entering information timely,
    accurately and completely). Before: own_cite("湖南 第九条") and own_cite("湖南 第十条") only, so a
    海南 portal showed no basis although 海南 第十九条 and 第二十一条 state the same duties."""
    from portal.documents.citations import own_note
    from portal.domain import provision

    document = load_profile(name).document
    catalogue = {"hunan": "（湖南 第九条）", "hainan": "（海南 第十九条）", "hunan-mi": "（湖南医保 第十条）"}
    timely = {"hunan": "（湖南 第十条）", "hainan": "（海南 第二十一条）", "hunan-mi": "（湖南医保 第十三条第二款）",
              "guangdong": "（阳山 四（二））"}
    assert own_note(provision.CATALOGUE_ARTICLE, document) == catalogue.get(name, "")
    assert own_note(provision.TIMELY_ENTRY_ARTICLE, document) == timely.get(name, "")
    page = (TEMPLATES / "provider" / "catalogue.html").read_text(encoding="utf-8")
    assert "own_cite(rules.CATALOGUE_ARTICLE)" in page and "own_cite(rules.TIMELY_ENTRY_ARTICLE)" in page
    assert "县级以上" not in page  # 湖南 第十条's wording for who enters; 海南 says 各级卫生健康行政部门


def test_no_comment_cites_the_huaian_timetable_for_warnings():
    """Comments and docstrings cited 淮安 三（二） and 四（二） together for warnings; 四（二） is a stage of the plan's
    timetable. The README, the code and the tests name 三（二） only."""
    root = TEMPLATES.parent
    files = [root / "README.md", *sorted((root / "portal").rglob("*.py")), *sorted((root / "tests").rglob("*.py"))]
    needle = "淮安 三（二）" + "、四（二）"
    assert [str(f.relative_to(root)) for f in files if needle in f.read_text(encoding="utf-8")] == []
