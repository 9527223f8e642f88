"""Load and strictly validate a jurisdiction rule profile.

Any mistake (unknown or missing key, wrong type, grades out of order, a step naming an undeclared
role, a negative number of days, a code that is not in ``portal.domain.vocab``) raises
:class:`ProfileError` naming the file and the key path, e.g.
``hainan.toml: objection.steps[2].workdays: expected a non-negative integer, got -1``.
List indexes in key paths are 0-based.

Conventions inside a profile table:
- ``article = "湖南 第二十八条"``: where the entry comes from; ``<key>_article`` overrides it for
  one key.
- ``default = true`` (the whole entry) or ``default = ["key", ...]``: values the documents leave
  open, held here as editable defaults (可编辑默认值).
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from ..domain.grading_cycle import mmdd_on
from ..domain.vocab import RECORD_TYPES, InfoClass, Severity
from ..domain.workdays import DAY_ZERO, RECEIPT_RULES
from .model import (
    ALL,
    ASSURANCE_LEVELS,
    GRADING_PERIODS,
    OBJECTION_GROUNDS,
    REPAIR_CONDITIONS,
    REPAIR_REFUSALS,
    ROLES,
    CatalogueEntry,
    Dishonesty,
    Display,
    Grade,
    GradeOverride,
    Grading,
    Inspection,
    InspectionRatio,
    Match,
    Objection,
    ObjectionGround,
    Privacy,
    Profile,
    Provision,
    Publication,
    PublicationWindow,
    Region,
    Repair,
    RepairItem,
    RepairMinPeriod,
    Role,
    Scoring,
    ScoringRule,
    SeriousListObjection,
    Step,
    Transition,
    mmdd_valid,
)
from .supervision import build_commitments, build_lists, build_warnings

PROFILE_DIR = Path(__file__).resolve().parent
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_REGION_CODE = re.compile(r"^[1-9]\d{5}$")
_LETTER = re.compile(r"^[A-Z]$")
_DISHONEST = {InfoClass.DISHONEST.value, InfoClass.SERIOUS.value}


class ProfileError(ValueError):
    """A profile file is broken. ``file`` and ``key`` locate the mistake."""

    def __init__(self, file: str, key: str, english: str, chinese: str = "") -> None:
        self.file, self.key = file, key
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + english + (f"（{chinese}）" if chinese else ""))


def available_profiles() -> list[str]:
    """Names of the profiles shipped in this package."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a shipped profile by name (``hunan``) or any ``.toml`` file by path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(name_or_path)
    elif text in available_profiles():
        path = PROFILE_DIR / f"{text}.toml"
    else:
        raise ProfileError(f"{text}.toml", "", f"no such profile; available: {', '.join(available_profiles())}",
                           "没有这个辖区规则配置")
    if not path.is_file():
        raise ProfileError(path.name, "", f"file not found: {path}", "文件不存在")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(path.name, "", f"not valid TOML: {exc}", "TOML 格式错误") from exc
    return replace(_Builder(path.name).profile(data), source=path)


# --------------------------------------------------------------------------------------------
# A checked reader over one TOML table


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class _Table:
    def __init__(self, builder: _Builder, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            builder.fail(path, f"expected a table, got {_describe(data)}", "应为表")
        self.b, self.data, self.path = builder, data, path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, english: str, chinese: str = "") -> NoReturn:
        self.b.fail(self.key(name) if name else self.path, english, chinese)

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                self.fail(name, "missing required key", "缺少必填项")
            return None
        return self.data[name]

    def str(self, name: str, required: bool = True, default: str | None = None,
            choices: tuple[str, ...] | None = None, nonempty: bool = True) -> Any:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.fail(name, f"expected a string, got {_describe(value)}", "应为字符串")
        if nonempty and not value.strip():
            self.fail(name, "must not be empty", "不能为空")
        if choices is not None and value not in choices:
            self.fail(name, f"unknown value {value!r}; expected one of: {', '.join(choices)}", "取值无效")
        return value

    def int(self, name: str, required: bool = True, default: int | None = None,
            minimum: int | None = None, maximum: int | None = None) -> Any:
        value = self._get(name, required)
        if value is None:
            return default
        if minimum == 0 and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            self.fail(name, f"expected a non-negative integer, got {_describe(value)}",
                      f"应为非负整数，实际为 {_describe(value)}")
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, f"expected an integer, got {_describe(value)}", "应为整数")
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}, got {value}", f"不能小于 {minimum}")
        if maximum is not None and value > maximum:
            self.fail(name, f"must be at most {maximum}, got {value}", f"不能大于 {maximum}")
        return value

    def bool(self, name: str, required: bool = True, default: bool | None = None) -> Any:
        value = self._get(name, required)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, f"expected true or false, got {_describe(value)}", "应为 true 或 false")
        return value

    def str_list(self, name: str, required: bool = True, choices: tuple[str, ...] | None = None,
                 allow_single: bool = False) -> tuple[str, ...]:
        value = self._get(name, required)
        if value is None:
            return ()
        if allow_single and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(name, f"expected a list of strings, got {_describe(value)}", "应为字符串列表")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.b.fail(f"{self.key(name)}[{i}]", f"expected a non-empty string, got {_describe(item)}",
                            "应为非空字符串")
            if choices is not None and item not in choices:
                self.b.fail(f"{self.key(name)}[{i}]",
                            f"unknown code {item!r}; expected one of: {', '.join(choices)}", "代码无效")
        if len(set(value)) != len(value):
            self.fail(name, "contains duplicates", "有重复项")
        return tuple(value)

    def table(self, name: str, required: bool = True) -> _Table | None:
        value = self._get(name, required)
        if value is None:
            return None
        return _Table(self.b, value, self.key(name))

    def tables(self, name: str, required: bool = True, nonempty: bool = True) -> list[_Table]:
        value = self._get(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(name, f"expected a list of tables ([[{self.key(name)}]]), got {_describe(value)}",
                      "应为表数组")
        if nonempty and not value:
            self.fail(name, "must not be empty", "不能为空")
        return [_Table(self.b, item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def cited(self, article_required: bool = True) -> dict:
        """``article``, ``<key>_article`` and ``default`` of this table, as Cited fields.

        Call after every other key is read, then :meth:`done`.
        """
        article = self.str("article", required=article_required, default="")
        key_articles = []
        for name in sorted(self.data):
            if name.endswith("_article") and name != "article":
                base = name[: -len("_article")]
                if base not in self.used:
                    self.fail(name, f"cites a key {base!r} that this table does not have", "引用的键不存在")
                key_articles.append((base, self.str(name)))
        raw = self._get("default", False)
        if raw is None or raw is False:
            defaults: frozenset[str] = frozenset()
        elif raw is True:
            defaults = frozenset({ALL})
        elif isinstance(raw, list):
            for i, item in enumerate(raw):
                if item not in self.used or item in ("article", "default"):
                    self.b.fail(f"{self.key('default')}[{i}]",
                                f"names {_describe(item)}, which is not a key of this table",
                                "标注的默认值键不存在")
            defaults = frozenset(raw)
        else:
            self.fail("default", f"expected true, false or a list of key names, got {_describe(raw)}",
                      "应为 true、false 或键名列表")
        return {"path": self.path, "article": article, "defaults": defaults, "key_articles": tuple(key_articles)}

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(unknown[0], f"unknown key (allowed here: {', '.join(sorted(self.used))})", "未知的键")


# --------------------------------------------------------------------------------------------


def _match(t: _Table) -> Match:
    info_class = t.str_list("info_class", required=False, choices=tuple(InfoClass), allow_single=True)
    record_type = t.str_list("record_type", required=False, choices=tuple(RECORD_TYPES), allow_single=True)
    severity = t.str_list("severity", required=False, choices=tuple(Severity), allow_single=True)
    if not (info_class or record_type or severity):
        t.fail("", "needs at least one of info_class, record_type, severity",
               "至少指定 info_class、record_type、severity 之一")
    if info_class and record_type:
        for rt in record_type:
            natural = RECORD_TYPES[rt][1].value
            if not any(c == natural or (c in _DISHONEST and natural in _DISHONEST) for c in info_class):
                t.fail("record_type", f"{rt!r} is {natural} information and can never have info_class "
                       f"{', '.join(info_class)}", "信息类型与信息类别不符，规则永远不会生效")
    if severity and info_class and not set(info_class) & _DISHONEST:
        t.fail("severity", "only dishonesty information has a severity", "只有失信信息才有严重程度")
    return Match(info_class=info_class, record_type=record_type, severity=severity)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, english: str, chinese: str = "") -> NoReturn:
        raise ProfileError(self.file, key, english, chinese)

    def profile(self, data: dict) -> Profile:
        t = _Table(self, data, "")
        pid = t.str("id")
        if not _ID.match(pid):
            t.fail("id", f"expected lower-case letters, digits and '-', got {pid!r}", "只能包含小写字母、数字和连字符")
        head = dict(
            id=pid,
            jurisdiction=t.str("jurisdiction"),
            portal_name=t.str("portal_name"),
            authority=t.str("authority"),
            document=t.str("document"),
            document_short=t.str("document_short"),
            document_draft=t.bool("document_draft"),
            hotline=t.str("hotline"),
            office_phone=t.str("office_phone"),
            office_phone_is_example=t.bool("office_phone_is_example"),
            complaint_url=t.str("complaint_url"),
            complaint_url_is_example=t.bool("complaint_url_is_example"),
            receipt_on_non_working_day=t.str("receipt_on_non_working_day", required=False, default=DAY_ZERO,
                                             choices=RECEIPT_RULES),
        )
        if not head["complaint_url"].startswith(("https://", "http://")):
            t.fail("complaint_url", "expected an http(s) URL", "应为 http(s) 网址")
        regions = self.regions(t.tables("regions"))
        default_region = t.str("default_region", required=False)
        if default_region is not None and default_region not in {r.code for r in regions}:
            t.fail("default_region", f"{default_region!r} is not one of the regions", "不在 regions 中")
        roles = self.roles(t.table("roles"))
        role_codes = {r.code for r in roles}
        grading = self.grading(t.table("grading"))
        grades = self.grades(t.tables("grades"))
        letters = [g.letter for g in grades]
        scoring = self.scoring(t.table("scoring"), grades)
        inspection = self.inspection(t.table("inspection"), letters)
        publication = self.publication(t.table("publication"))
        objection = self.objection(t.table("objection"), role_codes)
        repair = self.repair(t.table("repair"), role_codes)
        display = self.display(t.table("display"))
        dishonesty = self.dishonesty(t.table("dishonesty", required=False))
        supervision = {"lists": build_lists(t.table("lists", required=False), letters),  # issue 16
                       "warnings": build_warnings(t.table("warnings", required=False)),
                       "commitments": build_commitments(t.table("commitments", required=False))}
        provision = self.provision(t.table("provision", required=False))
        privacy = self.privacy(t.table("privacy", required=False))
        t.done()
        return Profile(**head, default_region=default_region, regions=regions, roles=roles, grading=grading,
                       grades=grades, scoring=scoring, inspection=inspection, publication=publication,
                       objection=objection, repair=repair, display=display, dishonesty=dishonesty,
                       provision=provision, privacy=privacy, **supervision)

    # -- regions -------------------------------------------------------------------------
    def regions(self, tables: list[_Table]) -> tuple[Region, ...]:
        regions, seen = [], {}
        for t in tables:
            code = t.str("code")
            if not _REGION_CODE.match(code):
                t.fail("code", f"expected a 6-digit administrative division code, got {code!r}",
                       "应为6位行政区划代码")
            if code in seen:
                t.fail("code", f"duplicate region code {code} (also {seen[code]})", "区划代码重复")
            name = t.str("name")
            parent = t.str("parent", required=False)
            t.done()
            seen[code] = t.path
            regions.append((t, Region(code=code, name=name, parent=parent)))
        codes = {r.code: r for _, r in regions}
        provinces = {r.code[:2] for _, r in regions}
        if len(provinces) > 1:
            self.fail("regions", f"codes span several provinces ({', '.join(sorted(provinces))})",
                      "区划代码跨省")
        for t, r in regions:
            if r.parent is None:
                continue
            parent = codes.get(r.parent)
            if parent is None:
                t.fail("parent", f"unknown parent code {r.parent!r}", "上级区划不在 regions 中")
            if parent.parent is not None or not parent.code.endswith("00"):
                t.fail("parent", f"parent {r.parent} must be a prefecture-level region without a parent",
                       "上级应为地级区划")
            if r.code[:4] != parent.code[:4] or r.code == parent.code:
                t.fail("code", f"{r.code} is not inside its parent {parent.code}", "区划代码与上级不符")
        return tuple(r for _, r in regions)

    def roles(self, t: _Table) -> tuple:
        roles = []
        for code in list(t.data):
            if code not in ROLES:
                t.fail(code, f"unknown role; known roles: {', '.join(ROLES)}", "未知角色")
            roles.append(Role(code=code, label=t.str(code)))
        t.done()
        if not roles:
            t.fail("", "declare at least one role", "至少声明一个角色")
        return tuple(roles)

    # -- grades --------------------------------------------------------------------------
    def grading(self, t: _Table) -> Grading:
        period = t.str("period", choices=GRADING_PERIODS)
        rolling = t.int("rolling_months", required=period == "rolling", minimum=1, maximum=60)
        if period == "yearly" and rolling is not None:
            t.fail("rolling_months", "only for period = \"rolling\"", "仅用于动态评价")
        dates = {}
        for name in ("collect_by", "generate_on", "publish_by"):
            value = t.str(name, required=False)
            if value is not None and not mmdd_valid(value):
                t.fail(name, f"expected a day of the year as \"MM-DD\", got {value!r}", "应为“月-日”格式")
            dates[name] = value
        order = [dates[n] for n in ("collect_by", "generate_on", "publish_by") if dates[n]]
        if order != sorted(order):
            t.fail("publish_by", "collect_by, generate_on and publish_by must be in calendar order",
                   "归集、生成、公布日期顺序不对")
        window = t.int("objection_workdays", required=False, minimum=1, maximum=30)
        if window is not None and dates["generate_on"] and dates["publish_by"]:
            gap = (mmdd_on(dates["publish_by"], 2001) - mmdd_on(dates["generate_on"], 2001)).days
            if window >= gap:
                t.fail("objection_workdays", f"{window} working days do not fit between generate_on and publish_by "
                       f"({gap} days)", "异议期超出生成日至公布日的间隔")
        extra = {"objection_workdays": window} if window is not None else {}
        g = Grading(period=period, rolling_months=rolling, **dates, **extra, **t.cited())
        t.done()
        return g

    def grades(self, tables: list[_Table]) -> tuple[Grade, ...]:
        grades: list[Grade] = []
        for t in tables:
            letter = t.str("letter")
            if not _LETTER.match(letter):
                t.fail("letter", f"expected one capital letter, got {letter!r}", "应为一个大写字母")
            if any(g.letter == letter for g in grades):
                t.fail("letter", f"duplicate grade {letter}", "等级重复")
            g = Grade(letter=letter, label=t.str("label"), meaning=t.str("meaning"),
                      min_score=t.int("min_score"), **t.cited())
            t.done()
            if grades and g.min_score >= grades[-1].min_score:
                t.fail("min_score", f"grades must be listed best first with strictly decreasing min_score; "
                       f"{g.letter} ({g.min_score}) is not below {grades[-1].letter} ({grades[-1].min_score})",
                       "等级须由高到低排列，分数线严格递减")
            grades.append(g)
        if len(grades) < 2:
            self.fail("grades", "need at least two grades", "至少需要两个等级")
        return tuple(grades)

    def scoring(self, t: _Table, grades: tuple[Grade, ...]) -> Scoring:
        base, floor, ceiling = t.int("base"), t.int("floor"), t.int("ceiling")
        if not floor <= base <= ceiling:
            t.fail("base", f"expected floor <= base <= ceiling, got {floor} <= {base} <= {ceiling}",
                   "基础分应在下限与上限之间")
        if grades[-1].min_score > floor:
            self.fail(f"grades[{len(grades) - 1}].min_score",
                      f"the lowest grade must start at or below scoring.floor ({floor}) so every score has a grade",
                      "最低等级分数线不得高于分数下限")
        if grades[0].min_score > ceiling:
            self.fail("grades[0].min_score", f"the top grade is unreachable above scoring.ceiling ({ceiling})",
                      "最高等级分数线高于分数上限，无法达到")
        rules, ids = [], set()
        for r in t.tables("rules"):
            rid = r.str("id")
            if rid in ids:
                r.fail("id", f"duplicate rule id {rid!r}", "规则编号重复")
            ids.add(rid)
            rules.append(ScoringRule(id=rid, match=_match(r), delta=r.int("delta"),
                                     cap=r.int("cap", required=False, minimum=0), text=r.str("text"),
                                     **r.cited()))
            r.done()
        letters = [g.letter for g in grades]
        overrides = []
        for o in t.tables("overrides", required=False, nonempty=False):
            oid = o.str("id")
            if oid in ids:
                o.fail("id", f"duplicate rule id {oid!r}", "规则编号重复")
            ids.add(oid)
            overrides.append(GradeOverride(id=oid, match=_match(o),
                                           grade_at_most=o.str("grade_at_most", choices=tuple(letters)),
                                           text=o.str("text"), **o.cited()))
            o.done()
        s = Scoring(base=base, floor=floor, ceiling=ceiling, rules=tuple(rules), overrides=tuple(overrides),
                    **t.cited())
        t.done()
        return s

    def inspection(self, t: _Table, letters: list[str]) -> Inspection:
        ratios = []
        for r in t.tables("ratios"):
            grade = r.str("grade", choices=tuple(letters))
            if any(x.grade == grade for x in ratios):
                r.fail("grade", f"duplicate ratio for grade {grade}", "等级重复")
            ratios.append(InspectionRatio(grade=grade, percent=r.int("percent", minimum=0, maximum=100),
                                          **r.cited()))
            r.done()
        missing = [g for g in letters if g not in {x.grade for x in ratios}]
        if missing:
            t.fail("ratios", f"no ratio for grade {', '.join(missing)}", "缺少等级的抽查比例")
        ordered = sorted(ratios, key=lambda x: letters.index(x.grade))
        for better, worse in zip(ordered, ordered[1:], strict=False):
            if worse.percent < better.percent:
                t.fail("ratios", f"grade {worse.grade} is inspected less ({worse.percent}%) than the better "
                       f"grade {better.grade} ({better.percent}%)", "信用越差抽查比例应越高")
        extra = {}
        if t.has("ungraded_percent"):
            extra["ungraded_percent"] = t.int("ungraded_percent", minimum=0, maximum=100)
        if t.has("publish_workdays"):
            extra["publish_workdays"] = t.int("publish_workdays", minimum=1, maximum=60)
        i = Inspection(ratios=tuple(ordered), **extra, **t.cited())
        t.done()
        return i

    # -- publication ---------------------------------------------------------------------
    def publication(self, t: _Table) -> Publication:
        windows = []
        for w in t.tables("windows"):
            severity = w.str("severity", choices=tuple(Severity))
            if any(x.severity == severity for x in windows):
                w.fail("severity", f"duplicate window for {severity}", "严重程度重复")
            lo, hi = w.int("min_months", minimum=0), w.int("max_months", minimum=0)
            default = w.int("default_months", minimum=0)
            if not lo <= default <= hi:
                w.fail("default_months", f"expected min_months <= default_months <= max_months, "
                       f"got {lo} <= {default} <= {hi}", "默认公示期应在最短与最长之间")
            published = w.bool("published")
            if not published and severity != Severity.MINOR:
                w.fail("published", "only the 轻微 tier may be left unpublished (国办发〔2025〕22号)",
                       "只有轻微失信信息可以不予公示（国办发〔2025〕22号）")
            windows.append(PublicationWindow(severity=severity, min_months=lo, max_months=hi,
                                             default_months=default, published=published,
                                             **w.cited()))
            w.done()
        missing = [s.value for s in Severity if s not in {w.severity for w in windows}]
        if missing:
            t.fail("windows", f"no window for severity {', '.join(missing)}", "缺少严重程度的公示期")
        order = [s.value for s in Severity]
        p = Publication(windows=tuple(sorted(windows, key=lambda w: order.index(w.severity))),
                        positive_default_months=t.int("positive_default_months", minimum=0),
                        basic_open_ended=t.bool("basic_open_ended"), **t.cited())
        t.done()
        return p

    # -- cases ---------------------------------------------------------------------------
    def steps(self, tables: list[_Table], roles: set[str], section: str,
              roots: tuple[str, ...] = ()) -> tuple[Step, ...]:
        steps: list[Step] = []
        for s in tables:
            sid = s.str("id")
            if not _ID.match(sid):
                s.fail("id", f"expected a lower-case identifier, got {sid!r}", "应为小写标识符")
            if any(x.id == sid for x in steps):
                s.fail("id", f"duplicate step id {sid!r}", "步骤编号重复")
            terminal = s.bool("terminal", required=False, default=False)
            actor = s.str("actor", required=not terminal)
            if actor is not None and actor not in roles:
                s.fail("actor", f"unknown role {actor!r}; declared roles: {', '.join(sorted(roles))}",
                       "未声明的角色")
            transitions = []
            for tr in s.tables("transitions", required=not terminal, nonempty=not terminal):
                transitions.append(Transition(action=tr.str("action"), to=tr.str("to"), label=tr.str("label"),
                                              workdays=tr.int("workdays", required=False, minimum=0)))
                tr.done()
            actions = [x.action for x in transitions]
            if len(set(actions)) != len(actions):
                s.fail("transitions", "duplicate action", "动作重复")
            step = Step(id=sid, label=s.str("label"), actor=actor, terminal=terminal,
                        workdays=s.int("workdays", required=False, minimum=0),
                        calendar_days=s.int("calendar_days", required=False, minimum=1),
                        extension_workdays=s.int("extension_workdays", required=False, default=0, minimum=0),
                        extension_when=s.str("extension_when", required=False, default=""),
                        extension_approval=s.bool("extension_approval", required=False, default=False),
                        min_workdays=s.int("min_workdays", required=False, minimum=0),
                        clock_stops=s.str_list("clock_stops", required=False),
                        form=s.str("form", required=False, default=""),
                        transitions=tuple(transitions),
                        on_timeout=s.str("on_timeout", required=False, default=""), **s.cited())
            if terminal and (transitions or step.workdays is not None or actor is not None):
                s.fail("terminal", "a terminal step has no actor, workdays or transitions",
                       "终止状态不能有处理人、时限或流转")
            if step.on_timeout and step.on_timeout not in actions:
                s.fail("on_timeout", f"{step.on_timeout!r} is not an action of this step", "不是本步骤的动作")
            if step.on_timeout and step.workdays is None:
                s.fail("on_timeout", "an action on timeout needs workdays", "没有时限不能到期自动办理")
            if step.calendar_days is not None and (step.workdays is not None or step.extension_workdays):
                s.fail("calendar_days", "a step is limited in working days or in calendar days, not both",
                       "时限只能按工作日或按日计算其一")
            if step.extension_approval and not step.extension_workdays:
                s.fail("extension_approval", "only a step with extension_workdays can need approval",
                       "没有延期不需要批准")
            if step.extension_workdays and step.workdays is None:
                s.fail("extension_workdays", "an extension needs workdays", "没有时限不能延长")
            if step.extension_workdays and not step.extension_when:
                s.fail("extension_when", "say when the extension applies", "须说明延长条件")
            if step.min_workdays is not None and step.workdays is not None and step.min_workdays > step.workdays:
                s.fail("min_workdays", "min_workdays exceeds workdays", "最短期限超过时限")
            for i, tr in enumerate(transitions):
                if tr.workdays is not None and step.workdays is not None and tr.workdays > step.workdays:
                    self.fail(f"{s.key('transitions')}[{i}].workdays",
                              f"{tr.workdays} exceeds the step's {step.workdays} workdays", "超过该步骤时限")
            s.done()
            steps.append(step)
        ids = [x.id for x in steps]
        for i, step in enumerate(steps):
            for j, tr in enumerate(step.transitions):
                if tr.to not in ids:
                    self.fail(f"{section}.steps[{i}].transitions[{j}].to",
                              f"unknown step {tr.to!r}; steps: {', '.join(ids)}", "流转目标步骤不存在")
        if steps[0].terminal:
            self.fail(f"{section}.steps[0]", "the first step must not be terminal", "第一步不能是终止状态")
        reached, todo = {steps[0].id}, [steps[0]]
        for root in roots:  # another entry step (objection.serious_list.start)
            step = next((x for x in steps if x.id == root), None)
            if step is None:
                self.fail(f"{section}.serious_list.start", f"unknown step {root!r}", "起始步骤不存在")
            if step.terminal:
                self.fail(f"{section}.serious_list.start", "must not be terminal", "起始步骤不能是终止状态")
            reached.add(step.id)
            todo.append(step)
        while todo:
            for tr in todo.pop().transitions:
                if tr.to not in reached:
                    reached.add(tr.to)
                    todo.append(next(x for x in steps if x.id == tr.to))
        for i, step in enumerate(steps):
            if step.id not in reached:
                self.fail(f"{section}.steps[{i}]", f"step {step.id!r} cannot be reached from {steps[0].id!r}",
                          "步骤无法到达")
        if not any(x.terminal for x in steps):
            self.fail(f"{section}.steps", "needs at least one terminal step", "至少需要一个终止状态")
        return tuple(steps)

    def _items(self, tables: list[_Table], choices: tuple[str, ...], make: Callable) -> tuple:
        items = []
        for t in tables:
            code = t.str("code", choices=choices)
            if any(x.code == code for x in items):
                t.fail("code", f"duplicate code {code!r}", "代码重复")
            items.append(make(code=code, label=t.str("label"), **t.cited()))
            t.done()
        return tuple(items)

    def objection(self, t: _Table, roles: set[str]) -> Objection:
        grounds = self._items(t.tables("grounds"), OBJECTION_GROUNDS, ObjectionGround)
        materials = t.str_list("materials", required=False)
        forms = t.str_list("forms", required=False)
        serious = None
        st = t.table("serious_list", required=False)
        if st is not None:
            serious = SeriousListObjection(days=st.int("days", minimum=0),
                                           calendar_days=st.bool("calendar_days"),
                                           start=st.str("start", required=False, default=""), **st.cited())
            st.done()
        steps = self.steps(t.tables("steps"), roles, "objection",
                           roots=(serious.start,) if serious is not None and serious.start else ())
        o = Objection(grounds=grounds, materials=materials, forms=forms, serious_list=serious, steps=steps,
                      **t.cited())
        t.done()
        return o

    def repair(self, t: _Table, roles: set[str]) -> Repair:
        free = t.bool("free")
        if not free:
            t.fail("free", "credit repair is always free of charge", "信用修复不得收费")
        periods = []
        for p in t.tables("min_periods"):
            severity = p.str("severity", choices=tuple(Severity))
            if any(x.severity == severity for x in periods):
                p.fail("severity", f"duplicate period for {severity}", "严重程度重复")
            periods.append(RepairMinPeriod(severity=severity, months=p.int("months", minimum=0), **p.cited()))
            p.done()
        missing = [s.value for s in Severity if s not in {x.severity for x in periods}]
        if missing:
            t.fail("min_periods", f"no minimum period for severity {', '.join(missing)}", "缺少严重程度的最短期限")
        order = [s.value for s in Severity]
        r = Repair(free=free, cooldown_months=t.int("cooldown_months", minimum=0),
                   cooldown_record_types=t.str_list("cooldown_record_types", required=False,
                                                    choices=tuple(RECORD_TYPES)),
                   cooldown_within_months=t.int("cooldown_within_months", required=False, minimum=1),
                   serious_repairable=t.bool("serious_repairable"),
                   min_periods=tuple(sorted(periods, key=lambda x: order.index(x.severity))),
                   conditions=self._items(t.tables("conditions"), REPAIR_CONDITIONS, RepairItem),
                   refusals=self._items(t.tables("refusals", required=False, nonempty=False),
                                        REPAIR_REFUSALS, RepairItem),
                   methods=t.str_list("methods", required=False), effects=t.str_list("effects"),
                   forms=t.str_list("forms", required=False),
                   grade_adjustment=t.str("grade_adjustment", required=False, default="direct",
                                          choices=("direct", "cycle", "none")),
                   steps=self.steps(t.tables("steps"), roles, "repair"), **t.cited())
        t.done()
        return r

    def dishonesty(self, t: _Table | None) -> Dishonesty | None:
        if t is None:
            return None
        plain = tuple(code for code, (_, cls) in RECORD_TYPES.items() if cls == InfoClass.DISHONEST)
        d = Dishonesty(record_types=t.str_list("record_types", required=False, choices=plain),
                       penalty_ordinary_procedure_only=t.bool("penalty_ordinary_procedure_only",
                                                              required=False, default=False),
                       **t.cited())
        t.done()
        return d

    def provision(self, t: _Table | None) -> Provision | None:
        if t is None:
            return None
        entries = []
        seen: set[str] = set()
        for e in t.tables("catalogue", required=False, nonempty=False):
            types = e.str_list("record_types", choices=tuple(RECORD_TYPES))
            twice = seen & set(types)
            if twice:
                e.fail("record_types", f"{sorted(twice)[0]!r} is in two catalogue entries", "信息类型在目录中重复")
            seen |= set(types)
            entry = CatalogueEntry(
                record_types=types, content=e.str("content"), source_units=e.str_list("source_units"),
                update_cycle_days=e.int("update_cycle_days", minimum=1, maximum=3660),
                use_scope=e.str("use_scope"), sharing=e.str("sharing"), use_period=e.str("use_period"),
                retention_period=e.str("retention_period"),
                format=e.str("format", required=False, default="信息报送模板（本平台导入模板）"),
                **e.cited())
            e.done()
            entries.append(entry)
        p = Provision(approval_required=t.bool("approval_required"), catalogue=tuple(entries), **t.cited())
        t.done()
        return p

    def privacy(self, t: _Table | None) -> Privacy | None:
        """``[privacy] article = "湖南 第四条"``: only ``article`` (required), nothing else."""
        if t is None:
            return None
        p = Privacy(**t.cited())
        if p.defaults:
            t.fail("default", "a privacy article is the document's own, never an editable default",
                   "隐私条款须为本地文件的条款，不能是可编辑默认值")
        t.done()
        return p

    def display(self, t: _Table) -> Display:
        # absent: plates print "扫码查看实时信用信息", no grade (issue #13)
        d = Display(plate_shows_grade=t.bool("plate_shows_grade", required=False, default=False), case_markers=t.bool("case_markers"),
                    assurance_level_for_private=t.str("assurance_level_for_private", choices=ASSURANCE_LEVELS),
                    interim_notice=t.bool("interim_notice", required=False, default=False),
                    **t.cited())
        t.done()
        return d
