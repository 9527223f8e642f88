"""The PDFs of a list procedure: the prior notice (事先告知书) and the decision (认定决定书).

海南 第十八条 / 湖南医保 第十八条: before deciding, tell the subject the reasons, the basis and its
rights; the decision states 事由、依据、失信惩戒措施提示、移出条件和程序以及救济措施 and is served.
Numbered, tokenised and hashed like the case documents (``services.verifiable.new_number``), issued
once per (case, kind, event) and kept byte for byte; the public verify page
(``services.document_verification``) answers for them too and shows nothing of their content.
"""
from __future__ import annotations

from sqlalchemy import select

from ..documents.citations import profile_cite
from ..documents.content import DocumentContent, Section
from ..documents.content import subject_rows as _subject_rows
from ..domain import lists as rules
from ..domain.vocab import SubjectKind
from ..models import ListCase, ListDocument, ListEvent, Subject
from .audit import record_event
from .context import ServiceContext
from .document_issue import issue_once

KIND_LABELS = {"notice_letter": "列入名单事先告知书", "decision": "列入名单认定决定书"}
PREFIX = {"notice_letter": "MDGZ", "decision": "MDJD"}


def _title(case: ListCase, kind: str) -> str:
    what = rules.KINDS[case.kind]
    return f"列入{what}事先告知书" if kind == "notice_letter" else f"列入{what}认定决定书"


def content(ctx: ServiceContext, case: ListCase, kind: str) -> DocumentContent:
    r = ctx.profile.lists
    subject = ctx.session.get(Subject, case.subject_id)
    basis = profile_cite(ctx.profile, r.article)
    facts = [("事由", case.reason), ("依据", case.basis or "—")]
    if kind == "notice_letter":
        rights = [f"您有权在 {case.earliest_on} 前（{r.defence_workdays} 个工作日内）进行陈述、申辩"
                  + ("，并可以要求听证" if r.hearing else "") + "；逾期未陈述申辩的，视为放弃。",
                  "陈述申辩可以书面提交，也可以实名登录本平台“我的”页面提交。",
                  f"认定部门将在陈述申辩期届满后 {r.decide_workdays} 个工作日内（{case.due_on} 前）作出决定。"]
        sections = [Section("当事人", _subject_rows(subject), []), Section("拟作出的决定", facts, []),
                    Section("当事人依法享有的权利", [], rights)]
    else:
        months = r.listing_months if case.kind == rules.SERIOUS else r.red_listing_months
        rows = facts + [("措施", case.measures or ("依法依规实施失信惩戒措施" if case.kind == rules.SERIOUS
                                                  else "依法依规实施守信激励措施")),
                        ("列入期限", f"自公开之日起 {months} 个月")]
        paragraphs = []
        if case.defence:
            paragraphs.append(f"当事人于 {case.defence_on} 陈述申辩，认定部门已予核实。")
        if case.kind == rules.SERIOUS:
            paragraphs += ["移出条件和程序：列入期限届满自动移出；期间依法完成信用修复的，经修复决定后移出。",
                           "救济措施：对本决定有异议的，可以依法提出异议申请，或者依法申请行政复议、提起行政诉讼。",
                           f"本决定将于作出之日起 {r.publish_workdays} 个工作日内公开，并在 {case.report_due_on} 前报送省级主管部门。"]
        else:
            paragraphs.append("列入期间新增失信信息的，自动移出守信红名单。")
        sections = [Section("当事人", _subject_rows(subject), []), Section("认定决定", rows, paragraphs)]
    return DocumentContent(kind=kind, title=_title(case, kind), basis=basis, case_no=case.case_no,
                           subject_name=subject.name if subject.kind == SubjectKind.ORG else "", sections=sections)


def issue(ctx: ServiceContext, case: ListCase, kind: str, event: ListEvent, *, base_url: str) -> ListDocument:
    doc, new = issue_once(ctx, ListDocument, prefix=PREFIX[kind], case_id=case.id, kind=kind, event_id=event.id,
                          content=lambda: content(ctx, case, kind), base_url=base_url)
    if not new:
        return doc
    record_event(ctx.session, ctx.actor, "list.document", subject_id=case.subject_id,
                 object_ref=f"document:{doc.doc_no}",
                 detail={"case": case.case_no, "kind": kind, "event": event.id, "sha256": doc.sha256})
    return doc


def find_for_verification(ctx: ServiceContext, doc_no: str) -> tuple[ListDocument, Subject] | None:
    doc = ctx.session.execute(select(ListDocument).where(ListDocument.doc_no == doc_no)).scalar_one_or_none()
    if doc is None:
        return None
    case = ctx.session.get(ListCase, doc.case_id)
    return doc, ctx.session.get(Subject, case.subject_id)
