"""Issuing a numbered, verifiable document once (case documents, ``services.case_documents``; list
procedure documents, ``services.list_documents``): the number, the verification token, the PDF
drawn by ``documents.case_pdf`` and its SHA-256, stored byte for byte and never drawn again for
the same (case, kind, event). Two first downloads at once: the second takes the first's row.

The caller checks that the document may be issued and writes its own audit event when this one
was new (海南 第五十一条; 湖南 第三十三条: traceable)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..documents.case_pdf import render, verify_url
from ..documents.content import DocumentContent
from ..models.base import utcnow
from .context import ServiceContext
from .verifiable import new_number, new_token, sha256


def issue_once(ctx: ServiceContext, model, *, prefix: str, case_id: int, kind: str, event_id: int,
               content: Callable[[], DocumentContent], base_url: str):
    """``(document, new)``: the stored ``model`` row (``CaseDocument`` or ``ListDocument``) of
    this case, kind and event, made now if there is none (``content`` is called only then)."""
    q = select(model).where(model.case_id == case_id, model.kind == kind, model.event_id == event_id)
    existing = ctx.session.execute(q).scalar_one_or_none()
    if existing is not None:
        return existing, False
    doc = model(doc_no=new_number(prefix, ctx.today), case_id=case_id, kind=kind, event_id=event_id,
                issued_on=ctx.today, generated_at=utcnow(), issued_by=ctx.actor[:120],
                verify_token=new_token(), sha256="", pdf=b"")
    pdf = render(content(), doc, verify_url(base_url, doc), ctx.profile.portal_name, ctx.profile.authority)
    doc.pdf, doc.sha256 = pdf, sha256(pdf)
    try:
        with ctx.session.begin_nested():
            ctx.session.add(doc)
    except IntegrityError:
        return ctx.session.execute(q).scalar_one(), False
    return doc, True


__all__ = ["issue_once"]
