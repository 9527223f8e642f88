"""The public verify page of a case document: genuine or not, and the few facts it may show.

Genuine only with the document number *and* the token from its QR code. The page shows the
number, the kind, the day of issue, the SHA-256 and — for an organisation — its name; never a
person's name or ID number, never the content (``services.case_documents`` module doc).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..domain.vocab import SubjectKind
from ..models import Case, CaseDocument, Subject
from .case_documents import KIND_LABELS
from .context import ServiceContext
from .verifiable import china_time, sha256, token_matches


@dataclass(frozen=True)
class DocumentVerification:
    genuine: bool
    doc_no: str
    kind_label: str = ""
    issued_on: date | None = None
    generated_at: datetime | None = None  # China time
    subject_name: str = ""  # organisations only
    sha256: str = ""
    file_matches: bool | None = None


def verify_document(ctx: ServiceContext, doc_no: str, token: str, pdf: bytes | None = None) -> DocumentVerification:
    """Genuine only with the number *and* the token from the QR code. Shows the number, the kind,
    the day of issue, the hash and — for an organisation — its name; nothing else."""
    doc_no = (doc_no or "")[:32]
    doc = ctx.session.execute(select(CaseDocument).where(CaseDocument.doc_no == doc_no)).scalar_one_or_none()
    if doc is not None:
        subject, label = ctx.session.get(Subject, ctx.session.get(Case, doc.case_id).subject_id), KIND_LABELS[doc.kind]
    else:  # a list procedure's notice or decision (issue 16), numbered the same way
        from .list_documents import KIND_LABELS as LIST_LABELS
        from .list_documents import find_for_verification

        found = find_for_verification(ctx, doc_no)
        doc, subject = found if found else (None, None)
        label = LIST_LABELS[doc.kind] if doc is not None else ""
    if doc is None or not token_matches(doc.verify_token, token):
        return DocumentVerification(False, doc_no)
    name = subject.name if subject.kind == SubjectKind.ORG else ""
    matches = None if pdf is None else sha256(pdf) == doc.sha256
    return DocumentVerification(True, doc.doc_no, label, doc.issued_on, china_time(doc.generated_at),
                                name, doc.sha256, matches)
