"""Signed checkpoints of the audit chain head, kept outside the database (海南 第五十一条).

A checkpoint is one JSON line: when, the chain position (``seq``), the last event's id and hash,
the last event written by the old unkeyed rule (``legacy_until``), and an HMAC over all of it with
the audit key. ``credit-portal audit checkpoint`` appends one (run it daily from cron, like
``expire``; operators may point ``PORTAL_AUDIT_CHECKPOINT_FILE`` at an append-only mount or a
log shipper). ``credit-portal audit verify`` checks every checkpoint against the chain: deleting
the newest events, or rewriting events and recomputing the chain, no longer matches the signed
head. Events after the newest checkpoint are protected by the chain and the key only.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ..models.base import utcnow
from .audit import audit_key, chain_head

LABEL = "audit-checkpoint-v1"


@dataclass(frozen=True)
class Checkpoint:
    at: str
    seq: int
    event_id: int
    hash: str
    legacy_until: int

    def body(self) -> str:
        return json.dumps({"at": self.at, "seq": self.seq, "event_id": self.event_id, "hash": self.hash,
                           "legacy_until": self.legacy_until}, sort_keys=True, separators=(",", ":"))

    def mac(self, key: bytes) -> str:
        return hmac.new(key, f"{LABEL}\n{self.body()}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BadLine:
    line_no: int
    message: str


def write_checkpoint(session: Session, path: str | Path, now: datetime | None = None,
                     day: str = "") -> Checkpoint:
    """Append a signed checkpoint of the committed chain head to ``path`` (created 0600), fsynced.
    ``day``: the portal's date it is the daily checkpoint of (outside the signed body)."""
    seq, last_id, last_hash, legacy_until = chain_head(session)
    cp = Checkpoint(at=(now or utcnow()).isoformat(timespec="seconds"), seq=seq, event_id=last_id,
                    hash=last_hash, legacy_until=legacy_until)
    extra = {"day": day} if day else {}
    line = json.dumps({**json.loads(cp.body()), **extra, "mac": cp.mac(audit_key(session))},
                      sort_keys=True, separators=(",", ":")) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: concurrent writers never interleave a line
        os.fsync(fd)
    finally:
        os.close(fd)
    return cp


def read_checkpoints(path: str | Path, key: bytes) -> tuple[list[Checkpoint], list[BadLine]]:
    """The file's checkpoints whose signature holds, and the lines that are not (forged, edited,
    garbled). A missing file is no checkpoints."""
    path = Path(path)
    if not path.exists():
        return [], []
    good: list[Checkpoint] = []
    bad: list[BadLine] = []
    for no, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            cp = Checkpoint(at=str(data["at"]), seq=int(data["seq"]), event_id=int(data["event_id"]),
                            hash=str(data["hash"]), legacy_until=int(data["legacy_until"]))
            mac = str(data["mac"])
        except (ValueError, KeyError, TypeError):
            bad.append(BadLine(no, "检查点格式错误"))
            continue
        if not hmac.compare_digest(cp.mac(key), mac):
            bad.append(BadLine(no, "检查点签名无效（被改动或使用了其他密钥）"))
            continue
        good.append(cp)
    return good, bad


class DailyCheckpoints:
    """The web process's daily checkpoint: the first request of each (Beijing) day that commits
    a change (only those move the head; read-only requests never pay for it) appends one,
    so the head is anchored daily even where no cron job runs ``credit-portal audit checkpoint``.
    Each process does it once a day (several workers: several lines a day, all valid)."""

    def __init__(self, path: str | Path):
        import threading

        self.path = Path(path)
        self._lock = threading.Lock()
        self._done: str | None = None

    def _last_day_in_file(self) -> str | None:
        if not self.path.exists():
            return None
        lines = [line for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        try:
            return str(json.loads(lines[-1])["day"]) if lines else None
        except (ValueError, KeyError, TypeError):
            return None

    def due(self, today: str) -> bool:
        return self._done != today

    def run(self, sessions, today: str) -> bool:
        """Write today's checkpoint unless this process (or the file) already has one."""
        if not self.due(today) or not self._lock.acquire(blocking=False):
            return False
        try:
            first = self._done is None
            self._done = today  # a failure is logged once and retried tomorrow (or by the CLI)
            if first and self._last_day_in_file() == today:
                return False
            with sessions() as session:
                write_checkpoint(session, self.path, day=today)
            return True
        finally:
            self._lock.release()
