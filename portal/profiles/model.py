"""Typed, frozen view of a jurisdiction rule profile (``portal/profiles/*.toml``).

Every sub-object carries the article it comes from (``article``, per-key overrides in
``key_articles``) and which of its values are editable defaults (``defaults``: key names, or
``"*"`` for the whole entry) because the documents leave them open. ``path`` is the object's key
path in the file, used in messages and by :meth:`Profile.editable_defaults`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..domain.vocab import InfoClass, Severity

ALL = "*"  # marker in ``defaults``: every value of the entry is an editable default

# Roles a step may name. portal.permissions maps staff accounts onto them.
ROLES = ("applicant", "operator", "provider", "reviewer", "department")
# Assurance levels by name; must equal portal.identity.ACR_BY_NAME's keys (tested).
ASSURANCE_LEVELS = ("password", "face")
# Stable codes for objection grounds (湖南 第二十六条; 海南 第三十七条; 湖南医保 第十七条).
OBJECTION_GROUNDS = ("fact_error", "expired", "serious_list", "repaired_still_published",
                     "rights_infringed", "other")
# Stable codes for repair conditions (湖南 第二十九条; 湖南医保 第二十四条; 海南 第四十二条)
# and refusals (海南 第四十三条).
REPAIR_CONDITIONS = ("corrected", "min_period", "no_new_same_type", "no_new_record", "commitment",
                     "by_law", "while_published")
REPAIR_REFUSALS = ("cooldown", "rectification_incomplete", "new_dishonesty", "interview_skipped",
                   "fraud", "not_repairable_by_law")
GRADING_PERIODS = ("yearly", "rolling")


@dataclass(frozen=True, kw_only=True)
class Cited:
    path: str = ""
    article: str = ""
    defaults: frozenset[str] = frozenset()
    key_articles: tuple[tuple[str, str], ...] = ()

    def is_default(self, key: str | None = None) -> bool:
        """True when ``key`` (or, without a key, anything in this entry) is an editable default."""
        if key is None:
            return bool(self.defaults)
        return ALL in self.defaults or key in self.defaults

    def article_for(self, key: str) -> str:
        return dict(self.key_articles).get(key, self.article)


@dataclass(frozen=True, kw_only=True)
class Region:
    """An administrative division (GB/T 2260 six-digit code)."""

    code: str
    name: str
    parent: str | None = None

    @property
    def level(self) -> str:
        """``city`` for prefecture-level units (code ends in 00), else ``county``.

        Hainan's 省直辖县级 units (469xxx) are counties without a parent.
        """
        return "city" if self.code.endswith("00") else "county"


@dataclass(frozen=True, kw_only=True)
class Role:
    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Grading(Cited):
    period: str  # yearly (湖南 第十八条) | rolling (湖南医保 第十六条 动态考评)
    rolling_months: int | None = None
    collect_by: str | None = None  # "MM-DD": last year's data gathered by then
    generate_on: str | None = None  # "MM-DD": last year's grades computed
    publish_by: str | None = None  # "MM-DD": summary table published by then
    # Working days a subject has to object to its preliminary result (初评) before it becomes
    # formal (湖南医保 第十九条); counted from the day the result is generated (day zero).
    objection_workdays: int = 5


@dataclass(frozen=True, kw_only=True)
class Grade(Cited):
    letter: str
    label: str
    meaning: str  # plain language for citizens
    min_score: int


def _field(record: Any, name: str) -> Any:
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name, None)


@dataclass(frozen=True, kw_only=True)
class Match:
    """Which records a rule applies to; an empty tuple matches anything."""

    info_class: tuple[str, ...] = ()
    record_type: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()

    def matches(self, record: Any) -> bool:
        for name in ("info_class", "record_type", "severity"):
            wanted = getattr(self, name)
            if wanted and _field(record, name) not in wanted:
                return False
        return True


@dataclass(frozen=True, kw_only=True)
class ScoringRule(Cited):
    id: str
    match: Match
    delta: int
    cap: int | None = None  # most points the rule may move in one period (absolute)
    text: str


@dataclass(frozen=True, kw_only=True)
class GradeOverride(Cited):
    id: str
    match: Match
    grade_at_most: str  # the grade is no better than this letter
    text: str


@dataclass(frozen=True, kw_only=True)
class Scoring(Cited):
    base: int
    floor: int
    ceiling: int
    rules: tuple[ScoringRule, ...]
    overrides: tuple[GradeOverride, ...] = ()

    def rule_for(self, record: Any) -> ScoringRule | None:
        """The first rule that matches ``record`` (rules are ordered)."""
        return next((r for r in self.rules if r.match.matches(record)), None)


@dataclass(frozen=True, kw_only=True)
class InspectionRatio(Cited):
    grade: str
    percent: int


@dataclass(frozen=True, kw_only=True)
class Inspection(Cited):
    ratios: tuple[InspectionRatio, ...]
    # 双随机 draws (portal.domain.draw): the ratio for a unit without a formal grade (a new unit, or
    # one excluded from the period, 湖南 第十八条), and the working days within which the draw's
    # inspection results are published (一公开). Absent from a profile: editable defaults.
    ungraded_percent: int = 100
    publish_workdays: int = 20

    def percent(self, letter: str) -> int:
        return next(r.percent for r in self.ratios if r.grade == letter)


@dataclass(frozen=True, kw_only=True)
class PublicationWindow(Cited):
    severity: str
    min_months: int
    max_months: int
    default_months: int  # used when a record gives no end date
    published: bool = True


@dataclass(frozen=True, kw_only=True)
class Publication(Cited):
    windows: tuple[PublicationWindow, ...]
    positive_default_months: int
    basic_open_ended: bool = True  # basic information stays while it is valid


@dataclass(frozen=True, kw_only=True)
class Dishonesty(Cited):
    """Which dishonesty-class records are 失信信息 under this profile (湖南 第十四条: penalties under
    the ordinary procedure, criminal penalties, refusing court rulings). Absent: every
    dishonesty-class record is (海南 第二十一条 counts 责令整改 and 不良执业行为记分 too)."""

    record_types: tuple[str, ...] = ()  # empty: any dishonesty-class type
    penalty_ordinary_procedure_only: bool = False


@dataclass(frozen=True, kw_only=True)
class ObjectionGround(Cited):
    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Transition:
    action: str
    to: str
    label: str
    workdays: int | None = None  # stricter limit for this action, from entering the step


@dataclass(frozen=True, kw_only=True)
class Step(Cited):
    """One state of a case. Non-terminal steps wait for ``actor``; limits are working days."""

    id: str
    label: str
    actor: str | None = None
    terminal: bool = False
    workdays: int | None = None  # None: no statutory limit
    # A limit in calendar days instead (海南 第十五条第三款 "15日内"); its last day moves to the next
    # working day when it is a holiday (民法典 第二百零三条).
    calendar_days: int | None = None
    extension_workdays: int = 0  # one-time extension
    extension_when: str = ""
    # The extension needs a 负责人's approval (湖南 第二十八条 "经本部门负责人批准"; 海南 第四十条
    # "经信用信息提供单位负责人批准"): the handler alone cannot extend.
    extension_approval: bool = False
    min_workdays: int | None = None  # e.g. a public notice lasts at least this long
    clock_stops: tuple[str, ...] = ()  # reasons for which the clock may stop
    form: str = ""
    transitions: tuple[Transition, ...] = ()
    # The action taken by itself when ``workdays`` pass unused (湖南 第二十八条第三款: the applicant
    # did not ask for a review in time, so the case closes); "" = the case waits.
    on_timeout: str = ""

    @property
    def clock_stops_allowed(self) -> bool:
        return bool(self.clock_stops)

    @property
    def max_workdays(self) -> int | None:
        return None if self.workdays is None else self.workdays + self.extension_workdays

    def transition(self, action: str) -> Transition:
        for t in self.transitions:
            if t.action == action:
                return t
        raise KeyError(f"step {self.id!r} has no action {action!r}")

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(t.action for t in self.transitions)


@dataclass(frozen=True, kw_only=True)
class StepMachine(Cited):
    steps: tuple[Step, ...]

    @property
    def start(self) -> Step:
        return self.steps[0]

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"unknown step {step_id!r}")

    def next_step(self, step_id: str, action: str) -> Step:
        return self.step(self.step(step_id).transition(action).to)


@dataclass(frozen=True, kw_only=True)
class SeriousListObjection(Cited):
    days: int
    calendar_days: bool = True
    # The objection machine's step where an objection against a serious-list finding starts
    # (海南 第十五条第三款: decided within 15 days); "" = such objections take the usual steps.
    start: str = ""


@dataclass(frozen=True, kw_only=True)
class Objection(StepMachine):
    grounds: tuple[ObjectionGround, ...]
    materials: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    serious_list: SeriousListObjection | None = None

    def ground(self, code: str) -> ObjectionGround | None:
        return next((g for g in self.grounds if g.code == code), None)

    def start_for(self, record: Any) -> Step:
        """Where an objection against ``record`` starts: the serious-list step for a serious-class
        record (海南 第十五条第三款: 当事人对列入严重失信主体名单提出异议) when the profile has one,
        else the machine's first step."""
        sl = self.serious_list
        if sl is not None and sl.start and _field(record, "info_class") == InfoClass.SERIOUS:
            return self.step(sl.start)
        return self.start


@dataclass(frozen=True, kw_only=True)
class RepairMinPeriod(Cited):
    severity: str
    months: int


@dataclass(frozen=True, kw_only=True)
class RepairItem(Cited):
    code: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Repair(StepMachine):
    free: bool
    cooldown_months: int
    serious_repairable: bool
    # 海南 第四十三条（一）: the cooldown bars only these record types (empty: any) and only while the
    # record is inside this many months of publication (None: always).
    cooldown_record_types: tuple[str, ...] = ()
    cooldown_within_months: int | None = None
    min_periods: tuple[RepairMinPeriod, ...]
    conditions: tuple[RepairItem, ...]
    refusals: tuple[RepairItem, ...] = ()
    methods: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()
    # What a decided repair does to the grade (services.grading_cycle.adjust_after_repair): "direct" — the formal grade
    # is adjusted at once (湖南 第三十一条（三）: the repair decision itself passed a public notice,
    # 第三十条（三）（四）); "cycle" — a new preliminary result with its objection window (湖南医保
    # 第十六、十九条); "none" — the document lists no grade effect: the next period grades the
    # repaired record (海南 第四十二条（五）). A rolling profile is always "cycle".
    grade_adjustment: str = "direct"

    def min_months(self, severity: str) -> int:
        return next(p.months for p in self.min_periods if p.severity == severity)


@dataclass(frozen=True, kw_only=True)
class Display(Cited):
    plate_shows_grade: bool
    case_markers: bool
    assurance_level_for_private: str
    interim_notice: bool = False  # "评定后有新增失信信息" beside the grade (issue #13)


@dataclass(frozen=True, kw_only=True)
class Privacy(Cited):
    """``[privacy]``: the profile's own article that forbids disclosing personal privacy and other
    non-public information (湖南 第四条, 海南 第五条, 湖南医保 第五条, 阳山 四（七）). It is cited when
    a repair notice is not held because it would disclose such information. A profile whose
    document has no such article (淮安's plan) leaves the table out and cites none: never another
    province's."""


@dataclass(frozen=True, kw_only=True)
class CatalogueEntry(Cited):
    """One line of the information catalogue (湖南 第九条: 记录、归集内容、使用范围、更新周期、数据来源、
    格式规范、共享条件、使用期限和保存期限): which record types, from which units, how often."""

    record_types: tuple[str, ...]
    content: str
    source_units: tuple[str, ...]
    update_cycle_days: int  # 湖南 第十条: a source unit silent for longer is listed as overdue
    use_scope: str
    sharing: str
    use_period: str
    retention_period: str
    format: str = "信息报送模板（本平台导入模板）"


@dataclass(frozen=True, kw_only=True)
class Provision(Cited):
    """How information enters the platform: whether a single record needs a second person's 审核
    before publication, and the information catalogue."""

    approval_required: bool
    catalogue: tuple[CatalogueEntry, ...] = ()

    def entry_for(self, record_type: str) -> CatalogueEntry | None:
        return next((e for e in self.catalogue if record_type in e.record_types), None)


@dataclass(frozen=True, kw_only=True)
class Profile:
    id: str
    jurisdiction: str
    portal_name: str
    authority: str
    document: str
    document_short: str
    document_draft: bool
    hotline: str
    office_phone: str
    office_phone_is_example: bool
    complaint_url: str
    complaint_url_is_example: bool
    default_region: str | None
    regions: tuple[Region, ...]
    roles: tuple[Role, ...]
    grading: Grading
    grades: tuple[Grade, ...]
    scoring: Scoring
    inspection: Inspection
    publication: Publication
    objection: Objection
    repair: Repair
    display: Display
    dishonesty: Dishonesty | None = None
    provision: Provision | None = None
    # How a receipt on a non-working day is counted (portal.domain.workdays.RECEIPT_RULES):
    # "day_zero" (民法典 第二百零一条, the default) or "next_working_day".
    receipt_on_non_working_day: str = "day_zero"
    # Supervision workflows (issue 16; portal.profiles.supervision): ListRules, WarningRules,
    # CommitmentRules, or None when a custom profile leaves the section out.
    lists: Any = None
    warnings: Any = None
    commitments: Any = None
    privacy: Privacy | None = None  # [privacy]; None: the document has no privacy article of its own
    source: Path | None = field(default=None, compare=False)

    @property
    def privacy_article(self) -> str | None:
        """The profile's own privacy article, or None when its document has none."""
        return self.privacy.article if self.privacy is not None else None

    # -- regions -------------------------------------------------------------------------
    def region(self, code: str | None) -> Region | None:
        return next((r for r in self.regions if r.code == code), None)

    def children(self, code: str) -> tuple[Region, ...]:
        return tuple(r for r in self.regions if r.parent == code)

    def leaf_regions(self) -> tuple[Region, ...]:
        """Regions with no children: where subjects are registered (counties, districts,
        Hainan's 省直辖 cities and counties, 儋州市)."""
        parents = {r.parent for r in self.regions}
        return tuple(r for r in self.regions if r.code not in parents)

    # -- roles ---------------------------------------------------------------------------
    def role_label(self, code: str) -> str:
        return next((r.label for r in self.roles if r.code == code), code)

    # -- grades --------------------------------------------------------------------------
    def grade(self, letter: str | None) -> Grade | None:
        return next((g for g in self.grades if g.letter == letter), None)

    def grade_for_score(self, score: int) -> Grade:
        """The best grade whose ``min_score`` the score reaches (the lowest grade otherwise)."""
        return next((g for g in self.grades if score >= g.min_score), self.grades[-1])

    def grade_rank(self, letter: str) -> int:
        """0 for the best grade, growing as grades get worse."""
        return [g.letter for g in self.grades].index(letter)

    @property
    def lowest_grade(self) -> Grade:
        return self.grades[-1]

    # -- publication ---------------------------------------------------------------------
    def window(self, severity: str) -> PublicationWindow:
        for w in self.publication.windows:
            if w.severity == severity:
                return w
        raise ValueError(f"unknown severity {severity!r}")

    def window_months(self, severity: str | None, info_class: str | None = None) -> int | None:
        """Default publication length in months, or ``None`` when open-ended.

        Dishonesty by severity (国办发〔2025〕22号); positive information by the profile's
        default; basic information stays while valid.
        """
        if severity:
            return self.window(Severity(severity)).default_months
        if info_class == InfoClass.POSITIVE:
            return self.publication.positive_default_months
        if info_class in (InfoClass.DISHONEST, InfoClass.SERIOUS):
            return self.window(Severity.SERIOUS if info_class == InfoClass.SERIOUS
                               else Severity.GENERAL).default_months
        return None

    # -- cases ---------------------------------------------------------------------------
    def objection_step(self, step_id: str) -> Step:
        return self.objection.step(step_id)

    def repair_step(self, step_id: str) -> Step:
        return self.repair.step(step_id)

    def inspection_percent(self, letter: str) -> int:
        return self.inspection.percent(letter)

    # -- provenance ----------------------------------------------------------------------
    def cited_objects(self) -> list[Cited]:
        """Every sub-object that carries an article, in file order by section."""
        found: list[Cited] = [self.grading, self.scoring, self.inspection, self.publication,
                              self.objection, self.repair, self.display]
        found += [*self.grades, *self.scoring.rules, *self.scoring.overrides, *self.inspection.ratios,
                  *self.publication.windows, *self.objection.grounds, *self.objection.steps,
                  *self.repair.min_periods, *self.repair.conditions, *self.repair.refusals,
                  *self.repair.steps]
        if self.objection.serious_list is not None:
            found.append(self.objection.serious_list)
        if self.dishonesty is not None:
            found.append(self.dishonesty)
        found += [s for s in (self.lists, self.warnings, self.commitments) if s is not None]
        if self.provision is not None:
            found += [self.provision, *self.provision.catalogue]
        return found

    def editable_defaults(self) -> list[str]:
        """Key paths whose values are editable defaults (the documents leave them open)."""
        out = []
        for obj in self.cited_objects():
            for key in sorted(obj.defaults):
                out.append(obj.path if key == ALL else f"{obj.path}.{key}")
        return sorted(out)


def mmdd_valid(text: str) -> bool:
    try:
        month, day = text.split("-")
        date(2000, int(month), int(day))  # a leap year accepts 02-29
    except ValueError:
        return False
    return len(month) == 2 and len(day) == 2
