"""A long import in another process does not block the web (issue #12): while
``credit-portal import`` runs on 20,000 rows against the same SQLite file, a subject files and
withdraws objections through the web and the QR scan page answers; no request fails, every
write lands, and the import still publishes everything at once (nothing before the end).

SQLite only: it has one writer lock, which the old single-transaction import held for the whole
run. (PostgreSQL's row locks never blocked these writes; its import path is covered by
test_import.py.)"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from bench.import_stall import write_import_csv
from portal.models import Case, CreditRecord, ImportStaging, Subject
from portal.services import plates as plate_svc
from tests.integration.pdf_tools import blank_pdf
from tests.integration.test_objection_flow import _rep

ROWS = 20_000
PDF = blank_pdf()


def _count(rt, model, *where) -> int:
    with rt.sessions() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_web_writes_and_scans_go_on_during_a_long_import(settings, app, rt, client, ctx, session, login_as,
                                                          make_org, make_record, reindex, tmp_path):
    org = make_org(name="长沙市天心区安康诊所", category="clinic")
    records = [make_record(org, title=f"未按规定公示收费标准（{i}）") for i in range(3)]
    plate = plate_svc.issue_plate(ctx, org)
    session.commit()
    reindex()
    before = _count(rt, CreditRecord)
    csv_path = tmp_path / "big.csv"
    write_import_csv(csv_path, ROWS)
    log = open(tmp_path / "import.log", "wb")
    env = {**os.environ, **settings}  # the same var dir: the same keys
    proc = subprocess.Popen([sys.executable, "-c", "from portal.cli import main; main()", "import", str(csv_path)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    statuses: list[tuple[str, int]] = []
    filed = during = seen_staged = 0
    try:
        login_as(client, _rep(org))
        deadline = time.monotonic() + 900  # a bound, not an assertion: the loop ends with the import
        while time.monotonic() < deadline:
            running = proc.poll() is None
            visible = _count(rt, CreditRecord)  # read before the staging rows: the publish removes
            staged = _count(rt, ImportStaging) if running else 0  # them in the commit that adds these
            seen_staged += staged > 0
            rec = records[filed % len(records)]
            link = f"/me/subjects/{org.public_id}/records/{rec.lineage_id}/objection"
            resp = client.post(link, data={"ground": "fact_error", "statement": "执业范围记载有误",
                                           "commitment": "yes", "identity": "yes",
                                           "evidence": (io.BytesIO(PDF), "决定书.pdf")},
                               content_type="multipart/form-data")
            statuses.append(("file", resp.status_code))
            if resp.status_code == 302:
                filed += 1
                back = client.post(resp.headers["Location"] + "/withdraw", data={"reason": "已与认定部门沟通", "confirm": "yes"})
                statuses.append(("withdraw", back.status_code))
            statuses.append(("scan", client.get(f"/p/{plate.token}").status_code))
            statuses.append(("facility", client.get(f"/facility/{org.public_id}").status_code))
            if running and staged:
                during += 1
                assert visible == before  # staged rows are not published: nothing of the file is visible yet
            if not running:
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "import.log").read_bytes().decode("utf-8", "replace")
    assert proc.returncode == 0, output[-2000:]
    assert f"已导入 {ROWS} 条" in output
    assert during >= 1 and seen_staged >= 1, "the writes did not overlap the import"
    failed = [(what, code) for what, code in statuses if code >= 500 or code not in (200, 302)]
    assert failed == []
    assert _count(rt, Case) == filed  # every filing that answered 302 was written
    assert _count(rt, CreditRecord) == before + ROWS  # published whole
    assert _count(rt, ImportStaging) == 0
    assert _count(rt, Subject) >= ROWS // 2


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_killed_import_leaves_only_staging_rows_and_the_next_run_removes_them(settings, app, rt, tmp_path):
    """``kill -9`` mid-import: nothing published; the staged rows of the dead run are deleted by
    the next import (once they are older than ``STALE_AFTER``), which publishes its own file."""
    from datetime import timedelta

    from sqlalchemy import update

    from portal.services import import_staging

    csv_path = tmp_path / "big.csv"
    write_import_csv(csv_path, 6_000)
    env = {**os.environ, **settings}  # the same var dir: the same keys
    cmd = [sys.executable, "-c", "from portal.cli import main; main()", "import"]
    proc = subprocess.Popen([*cmd, str(csv_path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _count(rt, ImportStaging) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    staged = _count(rt, ImportStaging)
    assert staged > 0, "the import ended before it could be killed mid-run"
    assert _count(rt, CreditRecord) == 0 and _count(rt, Subject) == 0  # nothing visible
    with rt.sessions() as s:  # the dead run's rows age past STALE_AFTER
        s.execute(update(ImportStaging).values(created_at=ImportStaging.created_at
                                                - import_staging.STALE_AFTER - timedelta(seconds=1)))
        s.commit()
    small = tmp_path / "small.csv"
    write_import_csv(small, 50, seed=7)
    done = subprocess.run([*cmd, str(small)], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert _count(rt, ImportStaging) == 0
    assert _count(rt, CreditRecord) == 50


def test_an_import_updates_a_known_subject_and_leaves_no_staging_rows(ctx, session, make_org, rt, tmp_path):
    """The publish step does what register_subject / add_record did row by row: a known code
    gets its registration data updated and the new records (each its own lineage), a new code a
    new subject; one index job per subject; a refused file leaves nothing, not even staging
    rows, and another run's fresh staging rows are left alone."""
    from sqlalchemy import select

    from portal.domain.identifiers import make_uscc
    from portal.models import IndexJob
    from portal.services.importer import import_file
    from tests.integration.test_import import as_csv, row

    code = make_uscc("12", "430102", "07777777")
    known = make_org(name="旧名称诊所", code=code, category="clinic")
    session.add(ImportStaging(import_id="another-live-run", row_no=2, kind="record", payload="{}"))
    session.commit()
    jobs_before = _count(rt, IndexJob)
    other = make_uscc("12", "430102", "07777778")
    report = import_file(ctx, "u.csv", as_csv([row(subject_code=code, subject_name="新名称诊所"),
                                               row(subject_code=code, subject_name="新名称诊所", title="未按规定公示价格"),
                                               row(subject_code=other, subject_name="另一家诊所")]))
    assert report.ok, [str(e) for e in report.errors]
    session.commit()
    session.expire_all()
    assert session.get(Subject, known.id).name == "新名称诊所"
    recs = session.execute(select(CreditRecord).order_by(CreditRecord.id)).scalars().all()
    assert [r.subject_id == known.id for r in recs] == [True, True, False]
    assert all(r.lineage_id == r.id and r.is_current and r.version == 1 for r in recs)
    assert _count(rt, Subject) == 2 and report.subjects == 2 and report.records == 3
    assert _count(rt, IndexJob) == jobs_before + 2
    assert _count(rt, ImportStaging) == 1  # only the other run's row

    bad = import_file(ctx, "bad.csv", as_csv([row(subject_code=other), row(decided_on="昨天")]))
    assert not bad.ok and [e.row for e in bad.errors] == [3]
    session.rollback()
    assert _count(rt, ImportStaging) == 1 and _count(rt, CreditRecord) == 3
