"""The content of a case document as plain data: what the service decided to say, section by
section, before anything is drawn (``portal.documents.case_pdf``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.vocab import SubjectKind


@dataclass(frozen=True)
class Section:
    heading: str
    rows: list  # (label, value) pairs shown as a table
    paragraphs: list  # plain text lines after the table
    table: list | None = None  # a header + rows grid (evidence lists)


@dataclass(frozen=True)
class DocumentContent:
    kind: str
    title: str
    basis: str  # the articles the document rests on
    case_no: str
    subject_name: str
    sections: list


def subject_rows(subject) -> list[tuple[str, str]]:
    """The party block of a document: name and code; a person's ID number only masked, even in
    the subject's own copy (海南 第五十一条). ``subject``: a ``models.Subject``."""
    if subject.kind == SubjectKind.ORG:
        return [("名称", subject.name), ("统一社会信用代码", subject.credit_code or subject.code_masked),
                ("法定代表人（负责人）", subject.legal_rep or "—")]
    return [("姓名", subject.name), ("公民身份号码", subject.code_masked)]
