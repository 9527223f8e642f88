"""Drawing a case document: the verification header with its QR code, then the sections of its
``DocumentContent`` as tables and paragraphs (reportlab through ``services.verifiable``).

Nothing here reads the database or decides content; the issuing service
(``services.case_documents``) passes the content and the stored document row.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..services.verifiable import build_pdf, china_time, facts_table, styles, verify_header
from .content import DocumentContent

if TYPE_CHECKING:  # pragma: no cover
    from ..models import CaseDocument


def verify_url(base_url: str, doc: CaseDocument) -> str:
    return f"{base_url.rstrip('/')}/verify/document/{doc.doc_no}?t={doc.verify_token}"


def render(content: DocumentContent, doc: CaseDocument, url: str, portal_name: str, authority: str) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    st = styles()
    issued = china_time(doc.generated_at)
    story = verify_header(
        st, portal_name=portal_name, title=content.title, url=url,
        meta=[("编号", doc.doc_no), ("案件编号", content.case_no), ("出具日期", doc.issued_on.isoformat()),
              ("生成时间", f"{issued:%Y-%m-%d %H:%M:%S}（北京时间）")],
        explain="扫描二维码或访问核验网址可核验本文书真伪；核验页面只显示编号、文书类别、出具日期、机构名称和文件的"
                " SHA-256 摘要，不显示文书内容。")
    story += [Spacer(1, 2 * mm), st.p(f"依据：{content.basis}", st.small)]
    for section in content.sections:
        story.append(st.p(section.heading, st.h2))
        if section.rows:
            story.append(facts_table(st, section.rows))
        if section.table:
            widths = [10, 62, 14, 20, 64] if len(section.table[0]) == 5 else [60, 55, 55]
            story.append(Table([[st.p(c, st.small) for c in row] for row in section.table],
                               colWidths=[w * mm for w in widths], style=st.grid, repeatRows=1))
        for text in section.paragraphs:
            story.append(st.p(text))
    return build_pdf(story, title=f"{content.title} {doc.doc_no}", author=authority, subject=content.subject_name,
                     creator=portal_name, footer_left=f"{authority} · {content.title} · 编号 {doc.doc_no}")
