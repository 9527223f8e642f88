"""The content of a case document as plain data: what the service decided to say, section by
section, before anything is drawn (``portal.documents.case_pdf``)."""
from __future__ import annotations

from dataclasses import dataclass


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
