"""Record validation on every path (issue 11 §2): the importer's row-by-row report, the record
service verbs and corrections all go through ``portal.domain.record_rules.check_record``."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import CreditRecord
from portal.services.errors import ServiceError
from portal.services.importer import import_file
from portal.services.records import correct_record

from .test_import import as_csv, row


def _messages(report) -> str:
    return "\n".join(str(e) for e in report.errors)


def test_serious_list_with_minor_severity_refused_row_by_row(ctx, session):
    """国办发〔2025〕22号 (严重 1–3 years) and 湖南 第十五条: a 严重失信 record is of severity 严重.
    Before: accepted with a 3-month window and repairable at once."""
    rows = [row(record_type="严重失信主体名单", info_class="严重失信信息", severity="轻微"),  # row 2
            row(record_type="严重失信主体名单", info_class="严重失信信息", severity="一般"),  # row 3
            row(record_type="严重失信主体名单", info_class="严重失信信息", severity="严重",  # row 4: ok
                publish_from="2026-05-06", publish_until="2028-05-05")]
    report = import_file(ctx, "serious.csv", as_csv(rows))
    assert sorted({e.row for e in report.errors}) == [2, 3]
    text = _messages(report)
    assert "第 2 行“严重程度”列：严重失信信息的严重程度必须为“严重”，不能为“轻微”" in text
    assert "第 3 行“严重程度”列" in text and "国办发〔2025〕22号" in text
    session.rollback()
    assert session.execute(select(func.count()).select_from(CreditRecord)).scalar_one() == 0


@pytest.mark.parametrize("severity, start, until, message", [
    ("一般", "2026-05-06", "2026-05-20", "一般失信信息公示期最短 3 个月，截止日期不得早于 2026-08-05"),  # 15 days
    ("严重", "2026-05-06", "2026-11-05", "严重失信信息公示期最短 12 个月，截止日期不得早于 2027-05-05"),
    ("一般", "2026-05-06", "2027-05-06", "一般失信信息公示期最长 12 个月"),
])
def test_window_outside_tier_refused(ctx, session, severity, start, until, message):
    """国办发〔2025〕22号: 一般 3 months to 1 year, 严重 1 to 3 years (profile publication.windows)."""
    report = import_file(ctx, "w.csv", as_csv([row(severity=severity, publish_from=start, publish_until=until)]))
    assert [e.row for e in report.errors] == [2]
    assert report.errors[0].column == "publish_until"
    assert message in _messages(report)


def test_window_at_tier_bounds_accepted(ctx, session):
    """The boundary days themselves are inside the tier (国办发〔2025〕22号)."""
    rows = [row(severity="一般", publish_from="2026-05-06", publish_until="2026-08-05"),  # exactly 3 months
            row(severity="轻微", publish_from="2026-05-06", publish_until="2026-05-20"),  # 轻微: no minimum
            row(severity="严重", publish_from="2026-05-06", publish_until="2027-05-05")]  # exactly 1 year
    report = import_file(ctx, "ok.csv", as_csv(rows))
    assert report.ok, _messages(report)


def test_correction_cannot_shorten_below_tier(ctx, session, make_org, make_record):
    """A correction is validated like a new record (国办发〔2025〕22号; 海南 第五十二条 history kept)."""
    rec = make_record(make_org(), severity="general", decided_on=date(2026, 6, 1))
    with pytest.raises(ServiceError) as err:
        correct_record(ctx, rec, {"publish_until": date(2026, 6, 15)}, "缩短公示期")
    assert err.value.field == "publish_until" and "最短 3 个月" in err.value.message
    with pytest.raises(ServiceError) as err:
        correct_record(ctx, rec, {"info_class": "serious", "severity": "minor"}, "升级为严重失信")
    assert err.value.field == "severity"


def test_ordinary_procedure_column_imported(ctx, session):
    """湖南 第十四条: whether a penalty used the 普通程序 is recorded from the import column."""
    rows = [row(title="普通程序处罚", ordinary_procedure="是"),
            row(title="简易程序处罚", severity="轻微", ordinary_procedure="简易程序"),
            row(title="未注明程序")]
    report = import_file(ctx, "p.csv", as_csv(rows))
    assert report.ok, _messages(report)
    got = dict(session.execute(select(CreditRecord.title, CreditRecord.ordinary_procedure)).all())
    assert got == {"普通程序处罚": True, "简易程序处罚": False, "未注明程序": None}


def test_ordinary_procedure_bad_values_refused(ctx, session):
    rows = [row(ordinary_procedure="也许"),
            row(record_type="表彰奖励", info_class="", severity="", title="优秀单位", ordinary_procedure="是")]
    report = import_file(ctx, "p.csv", as_csv(rows))
    assert sorted(e.row for e in report.errors) == [2, 3]
    text = _messages(report)
    assert "第 2 行“普通程序”列：无法识别的取值“也许”" in text
    assert "第 3 行“普通程序”列：只有行政处罚才注明是否适用普通程序（湖南 第十四条）" in text
