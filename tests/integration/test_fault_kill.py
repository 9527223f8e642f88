"""Faults (issue 12): a stopped or killed process loses nothing that was answered or committed.

- ``credit-portal serve`` stopped with SIGTERM writes its buffered scan counts (it lost 199 of
  200: Python's default for SIGTERM skips the exit hooks).
- ``kill -9`` of the server while 8 clients write: every answered write is in the database, the
  audit chain verifies, and the restarted server serves and writes again.
- ``kill -9`` of ``credit-portal index rebuild``: the rerun completes with every searchable
  subject.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.load import free_port, wait_port
from portal.models import PlateScanDay
from portal.services import indexing
from portal.services import plates as plate_svc
from portal.services.audit import verify_chain
from portal.services.audit_rollup import failure_total, flush_closed

BIN = Path(sys.executable).parent / "credit-portal"


def _env(settings: dict) -> dict:
    return {**os.environ, **{k: str(v) for k, v in settings.items()}}


def _serve(settings: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = Path(settings["PORTAL_VAR_DIR"]).parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=_env(settings),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc)
    except RuntimeError:
        proc.kill()
        proc.wait()
        raise AssertionError(log.read_text(errors="replace")[-2000:]) from None
    return proc, port


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def plate(ctx, session, make_org, make_record):
    org = make_org(name="金星口腔诊所", category="clinic")
    make_record(org, title="公开处罚：未按规定消毒")
    p = plate_svc.issue_plate(ctx, org)
    session.commit()
    return p


def test_serve_flushes_buffered_scans_on_sigterm(app, settings, session, plate):
    proc, port = _serve(settings)
    try:
        for _ in range(200):
            assert _get(port, f"/P/{plate.token}") == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    session.expire_all()
    assert session.execute(select(func.sum(PlateScanDay.count)).where(PlateScanDay.plate_id == plate.id)
                           ).scalar() == 200


def test_kill_9_of_the_server_during_writes(app, settings, session, rt):
    """8 clients write audit events (failed OIDC callbacks) until the server is killed."""
    proc, port = _serve(settings)
    answered: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(i: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status = _get(port, f"/auth/callback?state=w{i}n{n}&code=x")
            except OSError:  # the server is gone: this request has no answer
                return
            if status != 401:
                raise AssertionError(status)
            with lock:
                answered.append(status)
                if len(answered) >= 150:
                    stop.set()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    stop.wait(timeout=300)
    proc.kill()  # SIGKILL while the other clients' requests are in flight
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(answered) >= 150
    session.expire_all()
    # every answered failure is accounted for (one source address: events plus counted repeats)
    flush_closed(session, before=datetime.max)
    session.commit()
    total = failure_total(session, "auth.failed")
    assert total >= len(answered)
    assert verify_chain(session) == []
    # the rerun: the restarted server answers and writes again
    proc, port = _serve(settings)
    try:
        assert _get(port, "/auth/callback?state=again&code=x") == 401
        assert _get(port, "/") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    session.expire_all()
    flush_closed(session, before=datetime.max)
    session.commit()
    assert failure_total(session, "auth.failed") == total + 1
    assert verify_chain(session) == []


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_kill_9_of_index_rebuild_then_rerun(app, settings, session, rt, ctx):
    from portal.services.bulk_load import bulk_load_demo

    bulk_load_demo(ctx, 600, seed=3, grade=False)
    session.commit()
    expected = sum(1 for _ in indexing.iter_documents(session, rt.today(), rt.profile))
    session.commit()
    assert expected > 100
    rt.close()  # the test's own index handle: the rebuild process owns the index now
    proc = subprocess.Popen([str(BIN), "index", "rebuild"], env=_env(settings),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr.read(6)  # the progress label: the rebuild has started
    proc.kill()
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    rerun = subprocess.run([str(BIN), "index", "rebuild"], env=_env(settings), capture_output=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr.decode(errors="replace")[-2000:]
    assert f"索引已重建：{expected} 个可检索主体" in rerun.stdout.decode()
    status = subprocess.run([str(BIN), "index", "status"], env=_env(settings), capture_output=True, timeout=120)
    assert f"索引文档数：{expected}" in status.stdout.decode()
    assert rt.backend.count() == expected
