"""Import: one column set, three formats; a bad file is rejected whole with every bad row."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal.domain.identifiers import make_resident_id, make_uscc
from portal.models import CreditRecord, Subject
from portal.profiles import load_profile
from portal.services.importer import COLUMNS, ImportFileError, import_file, template_csv, template_xlsx

HEADER = [c[1] for c in COLUMNS]


def row(**kw):
    base = {
        "subject_code": make_uscc("12", "430102", "00000042"), "subject_name": "湘江社区卫生服务中心",
        "subject_kind": "机构", "category": "诊所、门诊部", "region_code": "430102", "record_type": "行政处罚",
        "info_class": "失信信息", "severity": "一般", "title": "未按规定处置医疗废物", "content": "罚款三千元", "public_summary": "",
        "authority": "长沙市芙蓉区卫生健康局", "doc_no": "湘芙卫罚〔2026〕3号", "decided_on": "2026-05-06",
        "scope": "社会公开", "publish_from": "", "publish_until": "", "ordinary_procedure": "",
    }
    base.update(kw)
    return [base.get(c[0], "") for c in COLUMNS]  # the 更正/撤回 columns stay empty


def as_csv(rows) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def counts(session):
    return (session.execute(select(func.count()).select_from(Subject)).scalar_one(),
            session.execute(select(func.count()).select_from(CreditRecord)).scalar_one())


def test_good_csv_imports(ctx, session):
    person = make_resident_id("430102", date(1979, 2, 3), 17)
    rows = [row(), row(title="未按规定公示价格", severity="轻微"),
            row(subject_code=person, subject_name="赵医生", subject_kind="个人", category="医师",
                record_type="表彰奖励", info_class="", severity="", title="优秀医师")]
    report = import_file(ctx, "batch.csv", as_csv(rows))
    assert report.ok, [str(e) for e in report.errors]
    session.commit()
    assert counts(session) == (2, 3) and report.records == 3 and report.subjects == 2


def test_bad_file_rejected_whole_with_every_row(ctx, session, make_org):
    make_org(name="已有机构")
    session.commit()
    before = counts(session)
    rows = [row(),  # good row 2
            row(subject_code="91430100MA4L000000"),  # 3: bad check digit
            row(decided_on="2026/13/45"),  # 4: bad date
            row(category="火星医院"),  # 5: unknown category
            row(severity=""),  # 6: dishonesty without severity
            row(region_code="110101"),  # 7: not in Hunan
            row(title="")]  # 8: empty title
    report = import_file(ctx, "bad.csv", as_csv(rows))
    assert not report.ok
    bad_rows = sorted({e.row for e in report.errors})
    assert bad_rows == [3, 4, 5, 6, 7, 8]
    messages = "\n".join(str(e) for e in report.errors)
    assert "第 3 行“主体代码”列" in messages and "第 4 行“决定日期”列" in messages
    session.rollback()
    assert counts(session) == before  # nothing half-imported


def test_xlsx_and_jsonl(ctx, session):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(row())
    buf = io.BytesIO()
    wb.save(buf)
    assert import_file(ctx, "a.xlsx", buf.getvalue()).ok
    line = dict(zip([c[0] for c in COLUMNS], row(title="未建立消毒管理制度"), strict=False))
    assert import_file(ctx, "b.jsonl", (json.dumps(line, ensure_ascii=False) + "\n").encode()).ok
    session.commit()
    assert counts(session) == (1, 2)


@pytest.mark.parametrize("name,data,message", [
    ("a.txt", b"x", "只支持"), ("a.csv", b"", "文件为空"), ("a.csv", "名称\n".encode(), "缺少必需的列"),
    ("a.xlsx", b"not a zip", "无法读取"),
])
def test_file_level_errors(ctx, name, data, message):
    with pytest.raises(ImportFileError) as err:
        import_file(ctx, name, data)
    assert message in err.value.message


def test_jsonl_bad_lines(ctx):
    report = import_file(ctx, "c.jsonl", b'{"subject_code": 1\n[1,2]\n')
    assert [e.row for e in report.errors] == [2, 3]


def test_gbk_csv(ctx):
    assert import_file(ctx, "gbk.csv", as_csv([row()]).decode().encode("gb18030")).ok


def test_templates(client):
    header = next(csv.reader(io.StringIO(template_csv().decode("utf-8-sig"))))
    assert header == HEADER
    wb = load_workbook(io.BytesIO(template_xlsx(load_profile("hunan"))))
    assert [c.value for c in wb.active[1]] == HEADER
    notes = {row[1]: row[3] for row in wb["填写说明"].iter_rows(values_only=True)}
    assert notes["ordinary_procedure"].endswith("；湖南 第十四条只将普通程序的行政处罚列为失信信息")
    # 湖南医保 has no such rule: the column states neither the rule nor 湖南's article
    mi = load_workbook(io.BytesIO(template_xlsx(load_profile("hunan-mi"))))
    assert {row[1]: row[3] for row in mi["填写说明"].iter_rows(values_only=True)}["ordinary_procedure"] == \
        "仅行政处罚填写：是（普通程序）/ 否（简易程序）"
    assert client.get("/downloads/import-template.xlsx").status_code == 200


def test_cli_import_rejects_and_reports(app, tmp_path, settings, monkeypatch):
    from click.testing import CliRunner

    from portal.cli import main

    for k, v in settings.items():
        monkeypatch.setenv(k, v)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv([row(), row(decided_on="昨天")]))
    result = CliRunner().invoke(main, ["import", str(bad)])
    assert result.exit_code == 1
    assert "第 3 行" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(as_csv([row()]))
    result = CliRunner().invoke(main, ["import", str(good)])
    assert result.exit_code == 0, result.output
    assert "已导入 1 条" in result.output


def test_public_summary_replaces_the_content_on_public_pages(ctx, session, client, rt):
    """公示摘要 (issue #12): the decision's text stays on file for the subject and staff; the
    public sees the summary (scrubbed too), and an import without the column still works."""
    from portal.services import indexing

    content = "投诉人贺华春（联系电话19814012593）反映该中心将医疗废物混入生活垃圾，罚款三千元"
    report = import_file(ctx, "a.csv", as_csv([row(content=content, public_summary="罚款三千元（摘要）")]))
    assert report.ok, report.errors
    session.commit()
    while indexing.drain(session, rt.backend, rt.today(), rt.profile):
        pass
    record = session.execute(select(CreditRecord)).scalar_one()
    assert record.content == content and record.public_summary == "罚款三千元（摘要）"
    subject = session.get(Subject, record.subject_id)
    body = client.get(f"/facility/{subject.public_id}").get_data(as_text=True)
    assert "罚款三千元（摘要）" in body and "贺" not in body and "混入生活垃圾" not in body
