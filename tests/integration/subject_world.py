"""A small world for the subject-area tests: an organisation, two doctors, a legal
representative and grantees in every authorisation state, with canaries planted in records the
public may not see."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.domain.identifiers import make_resident_id, make_uscc, normalize_code
from portal.identity import ACR_FACE, Identity
from portal.models import Subject
from portal.services.authorisations import grant_authorisation, revoke_authorisation
from portal.services.grading import compute_grades
from portal.services.records import add_record, correct_record, set_record_status
from portal.services.subjects import register_subject

TODAY = date(2026, 11, 20)  # tests/conftest.py TODAY

ORG_CANARIES = {
    "shared": "CANARY-ORG-SHARED-7f3a",
    "on_request": "CANARY-ORG-ONREQ-91bc",
    "expired": "CANARY-ORG-EXPIRED-4d2e",
    "repaired": "CANARY-ORG-REPAIRED-5e61",
    "old_version": "CANARY-ORG-OLDVERSION-0c9d",
}
PERSON_CANARY = "CANARY-PERSON-A-SHARED-2b7e"
OTHER_CANARY = "CANARY-PERSON-B-SHARED-8d14"
ALL_CANARIES = [*ORG_CANARIES.values(), PERSON_CANARY, OTHER_CANARY]
ORG_NAME = "金星口腔诊所"
PERSON_NAME = "李时珍"
OTHER_NAME = "王叔和"
PUBLIC_TITLE = "公开处罚：未按规定消毒"
GRADED_TITLE = "2025年处罚：未按规定登记"


def code_hash(rt, code: str) -> str:
    return rt.protector.lookup_hash(normalize_code(code))


def identity(rt, name: str, *, resident_id: str | None = None, legal_rep_of: str | None = None,
             acr: str = ACR_FACE, sub: str | None = None) -> Identity:
    """An identity as the login builds it: keyed hashes of the asserted numbers, never the numbers."""
    return Identity(iss="https://idp.example.test", sub=sub or f"sub-{name}", name=name, acr=acr,
                    amr=("face",) if acr == ACR_FACE else ("pwd",),
                    person_hash=code_hash(rt, resident_id) if resident_id else None,
                    legal_rep_of=code_hash(rt, legal_rep_of) if legal_rep_of else None)


@dataclass
class World:
    org: Subject
    person: Subject
    other: Subject
    codes: dict[str, str]
    ids: dict[str, Identity | None] = field(default_factory=dict)
    auths: dict[str, object] = field(default_factory=dict)


def build_world(rt, session) -> World:
    ctx = rt.context(session, "test")
    codes = {
        "org": make_uscc("12", "430102", "00000901"),
        "person": make_resident_id("430102", date(1975, 3, 3), 101),
        "other": make_resident_id("430102", date(1976, 4, 4), 103),
        "legal_rep": make_resident_id("430102", date(1970, 1, 5), 105),
        "grantee_before": make_resident_id("430103", date(1985, 6, 1), 107),
        "grantee_during": make_resident_id("430103", date(1985, 6, 2), 109),
        "grantee_after": make_resident_id("430103", date(1985, 6, 3), 111),
        "grantee_revoked": make_resident_id("430103", date(1985, 6, 4), 113),
    }
    org = register_subject(ctx, kind="org", name=ORG_NAME, code=codes["org"], category="clinic",
                           region_code="430102", address="长沙市芙蓉区五一大道1号", legal_rep="赵法人")
    person = register_subject(ctx, kind="person", name=PERSON_NAME, code=codes["person"], category="doctor",
                              region_code="430102", employer_id=org.id)
    other = register_subject(ctx, kind="person", name=OTHER_NAME, code=codes["other"], category="doctor",
                             region_code="430102")

    def rec(subject, title, record_type="penalty", **kw):
        kw.setdefault("decided_on", date(2026, 6, 1))
        kw.setdefault("authority", "长沙市卫生健康委员会")
        if record_type == "penalty":
            kw.setdefault("severity", "general")
        return add_record(ctx, subject, record_type=record_type, title=title, **kw)

    rec(org, PUBLIC_TITLE, doc_no="长卫罚〔2026〕8号")
    rec(org, "年度表彰：优秀基层医疗机构", record_type="commendation", decided_on=date(2026, 3, 1))
    rec(org, "医疗机构执业许可证校验合格", record_type="licence", decided_on=date(2026, 2, 1))
    rec(org, f"政务共享 {ORG_CANARIES['shared']}", scope="shared")
    rec(org, f"申请查询 {ORG_CANARIES['on_request']}", scope="on_request", content="患者王小明 13812345678")
    rec(org, f"已过期 {ORG_CANARIES['expired']}", decided_on=date(2024, 1, 10), publish_until=date(2024, 12, 31))
    repaired = rec(org, f"已修复 {ORG_CANARIES['repaired']}")
    set_record_status(ctx, repaired, "repaired", "信用修复决定")
    original = rec(org, f"原记录 {ORG_CANARIES['old_version']}", decided_on=date(2026, 5, 2))
    correct_record(ctx, original, {"title": "更正后的监督检查记录"}, "异议成立，更正事实")
    rec(person, "医师超范围执业", severity="minor", decided_on=date(2026, 10, 1), publish_until=date(2026, 12, 31))
    rec(person, f"政务共享 {PERSON_CANARY}", scope="shared")
    rec(other, f"政务共享 {OTHER_CANARY}", scope="shared")
    rec(org, GRADED_TITLE, decided_on=date(2025, 9, 1))  # window over by TODAY: non-public now
    compute_grades(ctx, 2025, [org.id])  # the grade in force, explained by the real grading

    world = World(org=org, person=person, other=other, codes=codes)
    world.ids = {
        "anonymous": None,
        "subject_a": identity(rt, PERSON_NAME, resident_id=codes["person"]),
        "subject_b": identity(rt, OTHER_NAME, resident_id=codes["other"]),
        "legal_rep": identity(rt, "赵法人", resident_id=codes["legal_rep"], legal_rep_of=codes["org"]),
    }
    past = dataclasses.replace(ctx, today=TODAY - timedelta(days=100))
    windows = {
        "grantee_before": (ctx, TODAY + timedelta(days=10), TODAY + timedelta(days=40)),
        "grantee_during": (ctx, TODAY, TODAY + timedelta(days=30)),
        "grantee_after": (past, TODAY - timedelta(days=100), TODAY - timedelta(days=1)),
        "grantee_revoked": (ctx, TODAY, TODAY + timedelta(days=30)),
    }
    for key, (gctx, start, end) in windows.items():
        name = {"grantee_before": "钱未始", "grantee_during": "孙有效", "grantee_after": "周已过",
                "grantee_revoked": "吴撤销"}[key]
        world.auths[key] = grant_authorisation(
            gctx, org, grantee_kind="person", grantee_code=codes[key], grantee_name=name,
            purpose="办理医疗机构贷款审批", info_classes=["basic", "positive", "dishonest", "serious"],
            valid_from=start, valid_until=end)
        world.ids[key] = identity(rt, name, resident_id=codes[key])
    revoke_authorisation(ctx, world.auths["grantee_revoked"], "合作终止")
    session.commit()
    return world


def csrf_token(client) -> str:
    """The CSRF token a page would send (empty while no CSRF module is installed)."""
    body = client.get("/").get_data(as_text=True)
    m = re.search(r'"X-CSRF-Token":\s*"([^"]*)"', body) or re.search(r'name="csrf_token" value="([^"]*)"', body)
    return m.group(1) if m else ""


def post(client, url: str, data: dict | None = None, **kw):
    token = csrf_token(client)
    payload = dict(data or {})
    payload.setdefault("csrf_token", token)
    return client.post(url, data=payload, headers={"X-CSRF-Token": token}, **kw)
