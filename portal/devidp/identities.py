"""The people the development identity provider can log in, taken from the demo data.

* a doctor with records (ideally non-public ones): the provider asserts the doctor's stored
  identity number, so the portal finds the subject exactly as with a real provider; the page
  shows that number only masked;
* a hospital's legal representative (the ``legal_rep`` name on a hospital subject): a synthetic
  identity number, ``legal_rep_of`` = the hospital's (public) USCC and the legal-representative role;
* an agent: a person without a credit record who acts through written authorisations (海南
  第二十七条); the synthetic number is shown in full so that a demo subject can name the agent;
* a person with no record at all.

Synthetic numbers are derived deterministically from the deployment's key and never collide
with a stored subject.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..crypto import DataProtector
from ..domain.identifiers import make_resident_id
from ..models import CreditRecord, Subject

DEFAULT_AREA = "430102"


@dataclass(frozen=True)
class DevIdentity:
    key: str  # the ``sub`` claim
    role: str  # doctor | legal_rep | agent | no_record
    label: str
    name: str
    shown_number: str  # what the page may show: masked for stored numbers, full for synthetic ones
    note: str
    subject_id: int | None = None  # the stored subject whose number is asserted (doctor)
    org_name: str = ""
    legal_rep_of: str | None = None  # USCC
    synthetic_number: str | None = None


def _ranked(session: Session, kind: str, category: str, *extra):
    non_public = func.sum(case((CreditRecord.scope != "public", 1), else_=0))
    q = (select(Subject).join(CreditRecord, CreditRecord.subject_id == Subject.id)
         .where(Subject.kind == kind, Subject.category == category, Subject.status == "active",
                CreditRecord.is_current.is_(True), *extra)
         .group_by(Subject.id).order_by(non_public.desc(), func.count().desc(), Subject.id).limit(1))
    return session.execute(q).scalar_one_or_none()


def _synthetic_number(session: Session, protector: DataProtector, key: str, area: str) -> str:
    digest = hashlib.sha256(protector.sign("dev-idp-person:" + key, 32).encode()).digest()
    birth = date(1965 + digest[0] % 30, 1 + digest[1] % 12, 1 + digest[2] % 28)
    seq = int.from_bytes(digest[3:5], "big") % 1000
    for step in range(1000):
        number = make_resident_id(area, birth, (seq + step) % 1000)
        taken = session.execute(select(Subject.id).where(Subject.code_hash == protector.lookup_hash(number))
                                ).first()
        if taken is None:
            return number
    raise RuntimeError("no free synthetic identity number")  # pragma: no cover


def demo_identities(session: Session, protector: DataProtector, area: str = DEFAULT_AREA) -> list[DevIdentity]:
    people: list[DevIdentity] = []
    doctor = _ranked(session, "person", "doctor")
    if doctor is not None:
        people.append(DevIdentity(
            key=f"demo-person-{doctor.public_id}", role="doctor", label="医生（本人有信用记录）", name=doctor.name,
            shown_number=doctor.code_masked, subject_id=doctor.id,
            note="以本人身份查看自己的全部信用信息（含非公开信息）"))
    hospital = _ranked(session, "org", "hospital", Subject.legal_rep != "")
    if hospital is not None:
        key = f"demo-legalrep-{hospital.public_id}"
        number = _synthetic_number(session, protector, key, hospital.region_code)
        people.append(DevIdentity(
            key=key, role="legal_rep", label="医院法定代表人", name=hospital.legal_rep,
            shown_number=number, synthetic_number=number, org_name=hospital.name,
            legal_rep_of=hospital.credit_code,
            note=f"以“{hospital.name}”法定代表人身份查看该机构的全部信用信息"))
    for key, role, label, name, note in (
        ("demo-agent", "agent", "代理人（无信用记录）", "陈晓明", "本人无信用记录，凭信用主体的书面授权查看其信息"),
        ("demo-no-record", "no_record", "普通公众（无信用记录）", "赵子涵", "登录后没有可查看的非公开信息"),
    ):
        number = _synthetic_number(session, protector, key, area)
        people.append(DevIdentity(key=key, role=role, label=label, name=name, shown_number=number,
                                  synthetic_number=number, note=note))
    return people


def asserted_number(identity: DevIdentity, session: Session, protector: DataProtector) -> str:
    """The identity number the provider puts into the ID token (decrypted only here)."""
    if identity.synthetic_number:
        return identity.synthetic_number
    subject = session.get(Subject, identity.subject_id)
    return protector.decrypt(subject.code_cipher)


__all__ = ["DevIdentity", "asserted_number", "demo_identities"]
