"""domain.held_repair: what a repair held for an objection changed, read from the held 初评's own
explanation, is undone for an upheld decision (海南 第四十二条（五））; nothing else is."""
from __future__ import annotations

from types import SimpleNamespace

from portal.domain.held_repair import counted_record_ids, records_as_evaluated


def test_counted_record_ids_are_the_counted_lines_only():
    explanation = [{"record_id": None, "kind": "base"}, {"record_id": 3, "kind": "record"},
                   {"record_id": 4, "kind": "override"}, {"record_id": None, "kind": "clamp"},
                   {"record_id": 5, "kind": "skipped"}, {"record_id": "6", "kind": "record"}, "junk"]
    assert counted_record_ids(explanation) == {3, 4}
    assert counted_record_ids(None) == set()


def test_only_a_counted_lineage_now_repaired_counts_again():
    repaired = SimpleNamespace(id=12, lineage_id=10, status="repaired", title="出租承包科室")  # corrected, then repaired
    withdrawn = SimpleNamespace(id=20, lineage_id=20, status="withdrawn", title="信息有误")
    later = SimpleNamespace(id=30, lineage_id=30, status="repaired", title="评价后新增")
    out, restored = records_as_evaluated([repaired, withdrawn, later], {10, 20})
    assert [r.status for r in out] == ["active", "withdrawn", "repaired"]
    assert [r.id for r in restored] == [12] and restored[0].title == "出租承包科室"
    assert repaired.status == "repaired"  # the stored record is not changed
