"""Reads of the subject's own area (``/me/subjects/…``): every version of its records and one of
the authorisations it gave. The caller has already asked ``portal.permissions`` (``can_view_private``
/ ``can_manage``) and filters what it shows with ``visible_records``."""
from __future__ import annotations

from sqlalchemy import select

from ..models import Authorisation, CreditRecord, Subject


def subject_records(session, subject: Subject) -> list[CreditRecord]:
    """All versions of all the subject's records, oldest first."""
    return list(session.execute(select(CreditRecord).where(CreditRecord.subject_id == subject.id)
                                .order_by(CreditRecord.id)).scalars())


def authorisation_of(session, subject: Subject, authorisation_id: int | None) -> Authorisation | None:
    """One authorisation the subject gave (``None`` for another subject's: a 404)."""
    auth = session.get(Authorisation, authorisation_id) if authorisation_id else None
    return auth if auth is not None and auth.grantor_subject_id == subject.id else None


def authorisation_held(session, authorisation_id: int | None) -> Authorisation | None:
    """The authorisation a viewer's decision rests on (shown in the page header)."""
    return session.get(Authorisation, authorisation_id) if authorisation_id else None
