"""A preliminary result (初评) under objection and a credit repair decided meanwhile (pure: no
Flask, no DB session).

The objection freezes the result: a repair decided while it is pending is held for the decision
(``services.grading_cycle.adjust_after_repair`` marks ``grading_results.repair_held_on``). The decision settles *that*
evaluation — 异议成立 recomputes it from the records as they were for it, corrected where the
objection showed them wrong, but with what the held repair changed undone — and the repair then
has the grade effect its profile gives it, no more (``repair.grade_adjustment``):

- 海南 第四十二条（五） lists no grade effect of a repair (stop publication, off the list, no more
  punishment): the repaired record still counts for the evaluation it was part of;
- 湖南医保 第十六、十九条: the result after the repair is a new 初评 with its own window, so the
  upheld result is the one as of its period and the repaired one follows as a new 初评;
- 湖南 第三十一条（三） adjusts the grade directly: undoing and re-applying the repair gives the
  repaired grade, now with its own audited adjustment.

What the held repair changed is read from the held result itself: its stored explanation lists
every record it counted (海南 第二十九条 可解释性); a record it counted whose current version is
now 已修复 was repaired after the evaluation, i.e. while it was held.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .vocab import RecordStatus

COUNTED_KINDS = frozenset({"record", "override"})  # domain.grading.RECORD / OVERRIDE


def counted_record_ids(explanation: Iterable[dict]) -> set[int]:
    """The record ids a stored explanation counted (skipped records are not stored in it)."""
    return {int(e["record_id"]) for e in explanation or ()
            if isinstance(e, dict) and e.get("kind") in COUNTED_KINDS and isinstance(e.get("record_id"), int)}


class _AsEvaluated:
    """A record seen with the status it had for the evaluation (active), everything else as now."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    @property
    def status(self) -> str:
        return RecordStatus.ACTIVE

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


def records_as_evaluated(records: Iterable[Any], counted_lineages: set[int]) -> tuple[list[Any], list[Any]]:
    """``records`` (current versions) with the held repair undone: a record of a lineage the held
    evaluation counted that is now repaired counts again. Returns (records, the ones restored)."""
    out, restored = [], []
    for record in records:
        lineage = getattr(record, "lineage_id", None) or getattr(record, "id", None)
        if getattr(record, "status", None) == RecordStatus.REPAIRED and lineage in counted_lineages:
            record = _AsEvaluated(record)
            restored.append(record)
        out.append(record)
    return out, restored
