"""The pure half of the permissions (portal.domain.permissions) and the publication decision the
public lists count with (disclosure.publishable / subject_publishable)."""
from __future__ import annotations

from datetime import date
from itertools import product
from types import SimpleNamespace as NS

from portal.domain import permissions as rules
from portal.domain.disclosure import public_subject, public_view, publishable, subject_publishable
from portal.profiles import load_profile

TODAY = date(2026, 11, 20)


def _user(roles, region="", authority="", active=True):
    return NS(roles=list(roles), region_code=region, authority=authority, active=active)


def _case(region="430102", authority="芙蓉区卫生健康局", open_=True):
    return NS(region_code=region, authority=authority, open=open_)


def test_regions():
    assert rules.in_region("", "430202")
    assert rules.in_region("430100", "430102") and not rules.in_region("430100", "430202")
    assert rules.in_region("430102", "430102") and not rules.in_region("430102", "430103")


def test_who_sees_and_acts():
    unit = _user(["provider"], "430100", "芙蓉区卫生健康局")
    other_unit = _user(["provider"], "430100", "天心区卫生健康局")
    dept = _user(["department"], "430100")
    assert rules.staff_can_see(unit, _case()) and not rules.staff_can_see(other_unit, _case())
    assert not rules.staff_can_see(_user(["provider"], "430100"), _case())  # no unit: nothing
    assert not rules.staff_can_see(_user(["department"], "430100", active=False), _case())
    assert rules.staff_acting_role(dept, _case(), "department") == "department"
    assert rules.staff_acting_role(dept, _case(), "reviewer") is None
    assert rules.staff_acting_role(dept, _case(open_=False), "department") is None
    mixed = _user(["provider", "operator"], "", "天心区卫生健康局")
    assert rules.staff_can_see(mixed, _case()) and rules.staff_acting_role(mixed, _case(), "provider") is None
    assert rules.is_admin(_user(["admin"])) and not rules.is_admin(_user(["admin"], active=False))
    assert rules.may_manage_plates(dept) and not rules.may_manage_plates(_user(["reviewer"]))


def test_only_the_subject_files():
    assert rules.may_act_for_subject("self") and rules.may_act_for_subject("legal_rep")
    assert not rules.may_act_for_subject("authorisation") and not rules.may_act_for_subject(None)


def test_publishable_is_public_views_decision():
    births = [None, date(1980, 1, 1), date(2007, 1, 1), date(2012, 1, 1)]
    # the severity tier is part of the decision (a profile may switch 轻微 off, 国办发〔2025〕22号)
    profiles = [load_profile("hunan"), load_profile("hunan-mi")]
    for scope, status, until, decided, birth, severity, profile in product(
            ("public", "shared"), ("active", "repaired"), (None, date(2025, 1, 1)),
            (date(2020, 1, 1), date(2024, 6, 1), date(2026, 3, 1)), births, ("minor", "general", None), profiles):
        record = {"scope": scope, "status": status, "is_current": True, "publish_from": date(2020, 1, 1),
                  "publish_until": until, "decided_on": decided, "title": "t", "content": "", "severity": severity}
        assert publishable(record, TODAY, birth, profile=profile) == \
            (public_view(record, TODAY, birth, profile=profile) is not None)
    for kind, birth in product(("org", "person"), births):
        subject = {"kind": kind, "birth_on": birth, "name": "某", "category": "clinic", "status": "active"}
        assert subject_publishable(subject, TODAY) == (public_subject(subject, TODAY) is not None)
