"""Shared vocabulary: the codes used in the database, profiles, import files and the index.

Codes are English identifiers; labels are the Simplified Chinese shown to users.
Sources: 湖南 第十一–十五条 (information classes), 海南 第十四条 (dishonesty levels),
海南 第二十三条 (disclosure scope), 湖南 第十六条 / 阳山 三 (subject categories).
"""
from __future__ import annotations

import enum


class SubjectKind(enum.StrEnum):
    ORG = "org"
    PERSON = "person"


SUBJECT_KIND_LABELS = {SubjectKind.ORG: "机构", SubjectKind.PERSON: "个人"}


class InfoClass(enum.StrEnum):
    """湖南 第十一条: 基础信息、增信信息、失信信息、严重失信信息."""

    BASIC = "basic"
    POSITIVE = "positive"
    DISHONEST = "dishonest"
    SERIOUS = "serious"


INFO_CLASS_LABELS = {
    InfoClass.BASIC: "基础信息",
    InfoClass.POSITIVE: "增信信息",
    InfoClass.DISHONEST: "失信信息",
    InfoClass.SERIOUS: "严重失信信息",
}


class Severity(enum.StrEnum):
    """海南 第十四条: 轻微、一般、严重; also the three publication tiers of 国办发〔2025〕22号."""

    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"


SEVERITY_LABELS = {Severity.MINOR: "轻微", Severity.GENERAL: "一般", Severity.SERIOUS: "严重"}


class Scope(enum.StrEnum):
    """海南 第二十三条: 社会公开、政务共享、申请查询."""

    PUBLIC = "public"
    SHARED = "shared"
    ON_REQUEST = "on_request"


SCOPE_LABELS = {Scope.PUBLIC: "社会公开", Scope.SHARED: "政务共享", Scope.ON_REQUEST: "申请查询"}


class RecordStatus(enum.StrEnum):
    """Stored status of a record version. Expiry is derived from the window, not stored."""

    ACTIVE = "active"
    REPAIRED = "repaired"  # 湖南 第三十一条: publication stops, the record stays
    WITHDRAWN = "withdrawn"  # taken off publication after an upheld objection
    SUPERSEDED = "superseded"  # replaced by a corrected version
    DELETED = "deleted"  # logically deleted by an upheld objection; the row stays


RECORD_STATUS_LABELS = {
    RecordStatus.ACTIVE: "有效",
    RecordStatus.REPAIRED: "已修复",
    RecordStatus.WITHDRAWN: "已撤销公示",
    RecordStatus.SUPERSEDED: "已更正（旧版本）",
    RecordStatus.DELETED: "已删除",
}


class SubjectStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"  # 已注销 / 停业
    LICENCE_REVOKED = "licence_revoked"  # 吊销许可


SUBJECT_STATUS_LABELS = {
    SubjectStatus.ACTIVE: "正常",
    SubjectStatus.CLOSED: "已注销",
    SubjectStatus.LICENCE_REVOKED: "许可已吊销",
}

# record_type -> (label, information class it normally belongs to)
RECORD_TYPES: dict[str, tuple[str, InfoClass]] = {
    "registration": ("登记注册", InfoClass.BASIC),
    "licence": ("行政许可", InfoClass.BASIC),
    "commitment": ("信用承诺", InfoClass.BASIC),
    "evaluation": ("评价结果", InfoClass.BASIC),
    "commendation": ("表彰奖励", InfoClass.POSITIVE),
    "volunteer": ("应急救援与志愿服务", InfoClass.POSITIVE),
    "monitoring": ("接入在线监测", InfoClass.POSITIVE),
    "honour": ("荣誉称号", InfoClass.POSITIVE),
    "redlist": ("守信红名单", InfoClass.POSITIVE),
    "penalty": ("行政处罚", InfoClass.DISHONEST),
    "criminal": ("刑事处罚", InfoClass.DISHONEST),
    "court_refusal": ("拒不履行法院判决", InfoClass.DISHONEST),
    "inspection": ("监督检查责令整改", InfoClass.DISHONEST),
    "misconduct_points": ("不良执业行为记分", InfoClass.DISHONEST),
    "joint_punishment": ("联合惩戒对象名单", InfoClass.SERIOUS),
    "serious_list": ("严重失信主体名单", InfoClass.SERIOUS),
    "blacklist": ("失信黑名单", InfoClass.SERIOUS),
}

# category -> (label, subject kind). 湖南 第十六条, 阳山 三, DOMAIN.md "Credit subjects".
CATEGORIES: dict[str, tuple[str, SubjectKind]] = {
    "hospital": ("医院", SubjectKind.ORG),
    "clinic": ("诊所、门诊部", SubjectKind.ORG),
    "pharmacy": ("药店", SubjectKind.ORG),
    "disinfection_maker": ("消毒产品生产企业", SubjectKind.ORG),
    "water_product_maker": ("涉水产品生产企业", SubjectKind.ORG),
    "blood_station": ("采供血机构", SubjectKind.ORG),
    "tableware_disinfection": ("餐饮具集中消毒单位", SubjectKind.ORG),
    "swimming_pool": ("游泳场所", SubjectKind.ORG),
    "hotel": ("住宿场所", SubjectKind.ORG),
    "bathhouse": ("沐浴场所", SubjectKind.ORG),
    "beauty_salon": ("美容美发场所", SubjectKind.ORG),
    "doctor": ("医师", SubjectKind.PERSON),
    "nurse": ("护士", SubjectKind.PERSON),
    "pharmacist": ("药师", SubjectKind.PERSON),
}


def category_label(code: str) -> str:
    return CATEGORIES.get(code, (code, None))[0]


def record_type_label(code: str) -> str:
    return RECORD_TYPES.get(code, (code, None))[0]
