"""Jurisdiction rule profiles: the five shipped files load, their data is sound, and every kind
of mistake in a broken copy is reported with the file and the key path."""
from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path

import pytest
from stdnum import numdb

from portal.profiles import PROFILE_DIR, ProfileError, available_profiles, load_profile
from portal.profiles.model import ASSURANCE_LEVELS

SHIPPED = ["guangdong", "hainan", "hunan", "hunan-mi", "jiangsu"]


@pytest.fixture(scope="module", params=SHIPPED)
def profile(request):
    return load_profile(request.param)


def test_available_profiles_are_the_five_shipped():
    assert available_profiles() == SHIPPED


def test_load_by_name_and_by_path_agree():
    assert load_profile("hainan") == load_profile(PROFILE_DIR / "hainan.toml")
    assert load_profile(str(PROFILE_DIR / "hainan.toml")).id == "hainan"


def test_unknown_profile_name_lists_the_available_ones():
    with pytest.raises(ProfileError, match="available: guangdong, hainan"):
        load_profile("atlantis")


def test_profile_id_matches_its_file(profile):
    assert profile.source.stem == profile.id


# -- regions ---------------------------------------------------------------------------------

def _current_name(code: str) -> str | None:
    """The current name of a division in python-stdnum's copy of the GB/T 2260 table."""
    info = numdb.get("cn/loc").info(code)
    if len(info) < 2 or "county" not in info[1][1]:
        return None
    for part in reversed(info[1][1]["county"].split(",")):
        m = re.fullmatch(r"\[(\d*)-(\d*)\](.*)", part)
        if m is None:
            return part
        if not m.group(2):  # no end year: still in use
            return m.group(3)
    return None


def test_region_codes_are_real_six_digit_codes_with_existing_parents(profile):
    codes = {r.code for r in profile.regions}
    assert len(codes) == len(profile.regions)
    for r in profile.regions:
        assert re.fullmatch(r"\d{6}", r.code), r
        assert _current_name(r.code) == r.name, f"{r.code} {r.name}"
        if r.parent is not None:
            assert r.parent in codes
            assert r.code[:4] == r.parent[:4]
            assert profile.region(r.parent).level == "city"
    assert profile.region(profile.default_region) is not None


@pytest.mark.parametrize("name, prefix, cities", [
    ("hunan", "43", 14), ("hunan-mi", "43", 14), ("hainan", "46", 4), ("guangdong", "4418", 1),
    ("jiangsu", "3208", 1),
])
def test_region_coverage(name, prefix, cities):
    p = load_profile(name)
    assert all(r.code.startswith(prefix) for r in p.regions)
    top = [r for r in p.regions if r.level == "city"]
    assert len(top) == cities
    for city in top:
        if city.code != "460400":  # 儋州市 has no county-level units
            assert 2 <= len(p.children(city.code)) <= 8, city


def test_hainan_province_administered_counties_are_leaves_without_parent():
    p = load_profile("hainan")
    qionghai = p.region("469002")
    assert qionghai.name == "琼海市" and qionghai.parent is None and qionghai.level == "county"
    leaves = {r.code for r in p.leaf_regions()}
    assert {"469002", "460400", "460105"} <= leaves and "460100" not in leaves


def test_known_codes():
    assert load_profile("hunan").region("430102").name == "芙蓉区"
    assert load_profile("hunan").region("430100").name == "长沙市"
    assert load_profile("hainan").region("460100").name == "海口市"
    assert load_profile("jiangsu").region("320812").parent == "320800"
    gd = load_profile("guangdong")
    assert gd.default_region == "441823" and gd.region("441823").name == "阳山县"
    assert load_profile("hunan").region("999999") is None


# -- grades, scoring, inspection ---------------------------------------------------------------

def test_thresholds_strictly_decrease_and_cover_every_score(profile):
    lines = [g.min_score for g in profile.grades]
    assert lines == sorted(lines, reverse=True) and len(set(lines)) == len(lines)
    assert profile.grades[-1].min_score <= profile.scoring.floor
    assert profile.scoring.floor <= profile.scoring.base <= profile.scoring.ceiling
    assert profile.grade_for_score(profile.scoring.base).letter == profile.grades[0].letter
    assert profile.grade_for_score(profile.scoring.floor).letter == profile.grades[-1].letter


@pytest.mark.parametrize("name, letters, labels", [
    ("hunan", "ABCD", ["优", "良", "中", "差"]),
    ("hainan", "ABCD", ["诚实守信", "一般守信", "一般失信", "重点失信"]),
    ("guangdong", "ABCDE", None),
    ("hunan-mi", "ABCD", None),
    ("jiangsu", "ABCD", None),
])
def test_grade_scales(name, letters, labels):
    p = load_profile(name)
    assert "".join(g.letter for g in p.grades) == letters
    if labels:
        assert [g.label for g in p.grades] == labels
        assert not any(p.grade(x).is_default("label") for x in letters)
    assert all(g.meaning for g in p.grades)


def test_inspection_ratios(profile):
    percents = [profile.inspection_percent(g.letter) for g in profile.grades]
    assert percents == sorted(percents)
    gd = load_profile("guangdong")
    assert [gd.inspection_percent(x) for x in "ABCDE"] == [5, 20, 50, 100, 100]
    assert not any(r.is_default() for r in gd.inspection.ratios)  # 阳山 四（四）
    assert all(r.is_default() for r in load_profile("hunan").inspection.ratios)


def test_grading_periods():
    gd = load_profile("guangdong").grading
    assert (gd.period, gd.collect_by, gd.generate_on, gd.publish_by) == ("yearly", "01-10", "01-20", "01-25")
    assert not gd.is_default("generate_on")
    assert load_profile("hunan").grading.period == "yearly"
    mi = load_profile("hunan-mi").grading
    assert (mi.period, mi.rolling_months) == ("rolling", 12) and mi.is_default("rolling_months")


def test_serious_list_forces_lowest_grade(profile):
    lowest = profile.lowest_grade.letter
    assert any(o.grade_at_most == lowest and "serious" in o.match.info_class for o in profile.scoring.overrides)


# -- publication -----------------------------------------------------------------------------

def test_publication_windows_follow_the_national_tiers(profile):
    minor, general, serious = (profile.window(s) for s in ("minor", "general", "serious"))
    assert minor.max_months <= 3
    assert (general.min_months, general.max_months) == (3, 12)
    assert (serious.min_months, serious.max_months) == (12, 36)
    assert profile.window_months("general") == general.default_months
    assert profile.window_months(None, "positive") == profile.publication.positive_default_months
    assert profile.window_months(None, "basic") is None
    with pytest.raises(ValueError):
        profile.window_months("catastrophic")


# -- objections and repairs ------------------------------------------------------------------

def test_objection_steps_by_jurisdiction():
    hunan = load_profile("hunan")
    verify = hunan.objection_step("verify")
    assert (verify.workdays, verify.extension_workdays, verify.max_workdays) == (3, 3, 6)
    assert verify.clock_stops_allowed and "专家评审" in verify.clock_stops
    assert hunan.objection.next_step("verify", "reject").id == "rejected"
    assert hunan.objection.next_step("rejected", "request_review").actor == "reviewer"
    assert {g.code for g in hunan.objection.grounds} == {
        "fact_error", "expired", "serious_list", "repaired_still_published", "other"}

    hainan = load_profile("hainan")
    triage = hainan.objection_step("triage")
    assert triage.actor == "operator"
    assert (triage.transition("correct").workdays, triage.transition("forward").workdays) == (3, 2)
    assert hainan.objection_step("accept").workdays == 3
    assert hainan.objection_step("investigate").max_workdays == 14
    assert hainan.objection_step("review").workdays == 2
    assert not hainan.objection_step("investigate").clock_stops_allowed
    assert hainan.objection.serious_list.days == 15 and hainan.objection.serious_list.calendar_days
    assert "repaired_still_published" not in {g.code for g in hainan.objection.grounds}

    mi = load_profile("hunan-mi").objection_step("verify")
    assert (mi.workdays, mi.max_workdays) == (3, 5) and "附件2" in mi.form

    for name in ("guangdong", "jiangsu"):
        step = load_profile(name).objection_step("verify")
        assert (step.workdays, step.extension_workdays) == (3, 3) and step.is_default("workdays")
    with pytest.raises(KeyError):
        hunan.objection_step("nope")


def test_repair_rules_by_jurisdiction(profile):
    assert profile.repair.free
    assert profile.repair.step(profile.repair.start.id).actor
    assert any(s.min_workdays == 5 for s in profile.repair.steps)  # public notice ≥ 5 WD


def test_repair_numbers_from_articles():
    hunan = load_profile("hunan")
    assert hunan.repair_step("review").workdays == 10 and not hunan.repair_step("review").is_default()
    mi = load_profile("hunan-mi")
    assert [mi.repair.min_months(s) for s in ("minor", "general", "serious")] == [6, 6, 6]
    assert mi.repair_step("review").max_workdays == 30
    hainan = load_profile("hainan")
    assert hainan.repair.cooldown_months == 12 and not hainan.repair.is_default("cooldown_months")
    assert hainan.repair.min_months("general") == 3
    assert {r.code for r in hainan.repair.refusals} >= {"cooldown", "fraud", "interview_skipped"}


# -- provenance ------------------------------------------------------------------------------

def test_every_rule_carries_an_article(profile):
    for obj in profile.cited_objects():
        assert obj.article.strip(), obj.path


def test_editable_defaults_are_reported_as_key_paths(profile):
    paths = profile.editable_defaults()
    assert paths and all(re.fullmatch(r"[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*", p) for p in paths)
    assert "publication.windows[1].default_months" in paths


def test_assurance_levels_match_identity():
    from portal.identity import ACR_BY_NAME

    assert set(ASSURANCE_LEVELS) == set(ACR_BY_NAME)


# -- broken copies ---------------------------------------------------------------------------

def _toml(value) -> str:
    """A tiny TOML writer (inline form) for the test's mutated copies."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + " }"


def _dump(data: dict) -> str:
    return "\n".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml(v)}" for k, v in data.items()) + "\n"


DELETE = object()


def _broken(tmp_path: Path, edits: list[tuple[tuple, object]], name: str = "hainan") -> Path:
    data = tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    for path, value in edits:
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    out = tmp_path / f"{name}.toml"
    out.write_text(_dump(data), encoding="utf-8")
    return out


def test_unchanged_copy_loads(tmp_path):
    assert load_profile(_broken(tmp_path, [])) == load_profile("hainan")


BROKEN = [
    # (edits, expected key path, words of the message)
    ([(("portal_nmae",), "x")], "portal_nmae", "unknown key"),
    ([(("objection", "steps", 2, "wrkdays"), 3)], "objection.steps[2].wrkdays", "unknown key"),
    ([(("authority",), DELETE)], "authority", "missing required key"),
    ([(("scoring", "rules", 0, "delta"), DELETE)], "scoring.rules[0].delta", "missing required key"),
    ([(("grades", 0, "min_score"), "95")], "grades[0].min_score", "expected an integer"),
    ([(("document_draft",), "yes")], "document_draft", "expected true or false"),
    ([(("display",), "face")], "display", "expected a table"),
    ([(("objection", "steps", 2, "workdays"), -1)], "objection.steps[2].workdays",
     "expected a non-negative integer, got -1"),
    ([(("repair", "cooldown_months"), -12)], "repair.cooldown_months", "non-negative"),
    ([(("inspection", "ratios", 0, "percent"), 150)], "inspection.ratios[0].percent", "at most 100"),
    ([(("grades", 1, "min_score"), 99)], "grades[1].min_score", "strictly decreasing"),
    ([(("grades", 1, "letter"), "A")], "grades[1].letter", "duplicate grade"),
    ([(("grades", 3, "min_score"), 10)], "grades[3].min_score", "scoring.floor"),
    ([(("objection", "steps", 0, "actor"), "judge")], "objection.steps[0].actor", "unknown role 'judge'"),
    ([(("roles", "judge"), "法官")], "roles.judge", "unknown role"),
    ([(("objection", "steps", 0, "transitions", 1, "to"), "limbo")], "objection.steps[0].transitions[1].to",
     "unknown step 'limbo'"),
    ([(("scoring", "rules", 0, "info_class"), "terrible")], "scoring.rules[0].info_class[0]",
     "unknown code 'terrible'"),
    ([(("scoring", "rules", 4, "record_type"), ["commendation", "parking_ticket"])],
     "scoring.rules[4].record_type[1]", "unknown code 'parking_ticket'"),
    ([(("scoring", "rules", 2, "severity"), "huge")], "scoring.rules[2].severity[0]", "unknown code 'huge'"),
    ([(("publication", "windows", 0, "severity"), "tiny")], "publication.windows[0].severity", "unknown value"),
    ([(("publication", "windows", 1, "default_months"), 24)], "publication.windows[1].default_months",
     "min_months <= default_months <= max_months"),
    ([(("scoring", "overrides", 0, "grade_at_most"), "F")], "scoring.overrides[0].grade_at_most", "unknown value"),
    ([(("scoring", "rules", 4, "record_type"), "penalty")], "scoring.rules[4].record_type", "can never"),
    ([(("repair", "min_periods"), [])], "repair.min_periods", "must not be empty"),
    ([(("inspection", "ratios"), [{"grade": "A", "percent": 5, "article": "x"}])], "inspection.ratios",
     "no ratio for grade B"),
    ([(("inspection", "ratios", 3, "percent"), 1)], "inspection.ratios", "inspected less"),
    ([(("regions", 0, "code"), "46010")], "regions[0].code", "6-digit"),
    ([(("regions", 1, "parent"), "460900")], "regions[1].parent", "unknown parent code"),
    ([(("regions", 1, "code"), "460100")], "regions[1].code", "duplicate region code"),
    ([(("default_region",), "430100")], "default_region", "not one of the regions"),
    ([(("grading", "publish_by"), "13-45")], "grading.publish_by", "MM-DD"),
    # the window to object to a preliminary result (湖南医保 第十九条) must fit before publication
    ([(("grading", "objection_workdays"), 0)], "grading.objection_workdays", "at least 1"),
    ([(("grading", "objection_workdays"), 11)], "grading.objection_workdays", "do not fit"),
    ([(("objection", "grounds", 0, "code"), "bad_mood")], "objection.grounds[0].code", "unknown value"),
    ([(("objection", "steps", 5, "actor"), "operator")], "objection.steps[5].terminal", "terminal step"),
    ([(("objection", "steps", 1, "transitions"), [{"action": "accept", "to": "refused", "label": "x"}])],
     "objection.steps[2]", "cannot be reached"),
    ([(("repair", "free"), False)], "repair.free", "free of charge"),
    ([(("grades", 0, "default"), ["min_scor"])], "grades[0].default[0]", "not a key of this table"),
    ([(("grades", 0, "label_article"), "x"), (("grades", 0, "label"), DELETE)], "grades[0].label",
     "missing required key"),
    ([(("scoring", "rules", 0, "article"), DELETE)], "scoring.rules[0].article", "missing required key"),
    ([(("display", "assurance_level_for_private"), "retina")], "display.assurance_level_for_private",
     "unknown value"),
    # 民法典 第二百零一条 or the regulation's own rule: nothing else
    ([(("receipt_on_non_working_day",), "monday")], "receipt_on_non_working_day", "unknown value"),
    ([(("receipt_on_non_working_day",), 1)], "receipt_on_non_working_day", "expected a string"),
    # [privacy]: the document's own article, nothing else (services/repair_notice.py cites it)
    ([(("privacy", "text"), "x")], "privacy.text", "unknown key"),
    ([(("privacy", "article"), DELETE)], "privacy.article", "missing required key"),
    ([(("privacy", "default"), True)], "privacy.default", "never an editable default"),
]


@pytest.mark.parametrize("name", ["hunan", "hunan-mi", "hainan", "guangdong", "jiangsu"])
def test_receipt_rule_is_the_statute_everywhere(name):
    """None of the five documents says how a receipt on a non-working day counts, so every profile
    follows 民法典 第二百零一条 and says so next to the key."""
    profile = load_profile(name)
    assert profile.receipt_on_non_working_day == "day_zero"
    assert "民法典 第二百零一条" in profile.source.read_text(encoding="utf-8")


@pytest.mark.parametrize("edits, key, words", BROKEN, ids=[b[1] + ":" + b[2][:20] for b in BROKEN])
def test_broken_copy_names_the_key_path(tmp_path, edits, key, words):
    path = _broken(tmp_path, edits)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"hainan.toml: {key}: "), message
    assert words in message
    assert re.search(r"[\u4e00-\u9fff]", message), "the message also says it in Chinese"
    assert info.value.file == "hainan.toml" and info.value.key == key


def test_negative_days_message_is_exact(tmp_path):
    path = _broken(tmp_path, [(("objection", "steps", 2, "workdays"), -1)])
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert str(info.value).startswith(
        "hainan.toml: objection.steps[2].workdays: expected a non-negative integer, got -1")


def test_invalid_toml_names_the_file(tmp_path):
    bad = tmp_path / "custom.toml"
    bad.write_text('id = "custom"\nregions = [\n', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"^custom\.toml: not valid TOML"):
        load_profile(bad)


def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(tmp_path / "nowhere.toml")
