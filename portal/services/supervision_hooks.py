"""What a new dishonesty record sets off in the supervision workflows (issue 16): removal from the
red list (淮安 三（一）) and, for commitments in their term, the broken-commitment flag
(海南 第九条: 践诺情况记入信用记录). Called by ``records.add_record``; one place to look."""
from __future__ import annotations

from ..models import CreditRecord, Subject
from .context import ServiceContext


def on_dishonesty(ctx: ServiceContext, subject: Subject, record: CreditRecord) -> None:
    from . import commitments, lists

    lists.on_dishonesty(ctx, subject, record)
    commitments.on_dishonesty(ctx, subject, record)
