"""The incremental feed of public-record changes for the provincial credit platform (信用湖南 /
信用中国 style platforms pull it; 湖南 第二十四条 共享; 海南 第二十五条).

The feed walks the database's ordered index-job log (DESIGN.md "The index follows the database";
``services.index_log``: ``IndexJob.seq`` follows commit order, so a job never appears below a
cursor already handed out):
every change to what the public may see of a subject writes an ``IndexJob`` in the same
transaction, and ``credit-portal expire`` writes one when a publication window ends. A line is
the subject's whole public state at the time of reading (``public_subject`` and the
``public_view`` of each record, nothing else), so a consumer replaces what it holds for that
subject; ``"subject": null`` means nothing of it is public any more (remove it). Replaying a line
is harmless, which makes the feed resumable: keep the ``next_cursor`` of the last page you stored
and ask again from there.

A client registered for a region gets the subjects of its region only. Jobs are pruned once
every registered search node passed them (``index_log.prune``); feed consumers are not nodes and
do not hold the log back. A request whose cursor is below the prune watermark
(``index_log.pruned_through``, raised in the same transaction as the deletion) may have lost jobs
after it, so it gets HTTP 410 ``cursor_expired``, never a page with a silent gap. Pulling from 0
again would not help (after a prune it gives only the subjects with jobs still kept): the
consumer takes a full snapshot (``snapshot_page``, ``/api/v1/feed/snapshot``) and continues the
feed from the cursor the snapshot returns. A new consumer starts the same way.

Signature: the body's last line is ``{"type": "signature", …}``; ``signature`` is Ed25519 over the
exact bytes of every line before it (newlines included), base64. The key pair is derived from
``PORTAL_DATA_KEY`` (HKDF, label ``portal-feed-ed25519-v1``); the public key is served at
``/api/v1/feed/key`` (``verify_page`` below is what a consumer does).
"""
from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from ..crypto import _derive
from ..domain import api_access as rules
from ..domain.disclosure import public_subject, public_view
from ..domain.vocab import SubjectKind
from ..models import CreditRecord, IndexJob, Subject
from .api_data import ApiError, _jsonable, require_scope
from .context import ServiceContext
from .index_log import head, pruned_through
from .indexing import grades_in_force
from .public_pages import grade_view

FEED_LABEL = b"portal-feed-ed25519-v1"
MAX_LIMIT = 1000
SEQ_MAX = 2**63 - 1  # IndexJob.seq is a BIGINT: every cursor the log can give
CURSOR_ABOVE_HEAD = "不能大于增量数据当前位置，须为上一页返回的 next_cursor 或全量数据返回的 cursor"


def signing_key(data_key_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_derive(base64.urlsafe_b64decode(data_key_b64.encode()), FEED_LABEL))


def public_key_pem(data_key_b64: str) -> str:
    return signing_key(data_key_b64).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def subject_state(ctx: ServiceContext, subject: Subject) -> dict | None:
    """What the public may see of a subject now, or ``None``."""
    return subject_states(ctx, [subject])[subject.id]


def subject_states(ctx: ServiceContext, subjects: list[Subject]) -> dict[int, dict | None]:
    """``subject_state`` of many subjects in two statements, whatever their number: the current
    records of every subject the public may see (one ``IN``), and their grades in force
    (``indexing.grades_in_force``, the statement ``latest_grade`` runs for one). The rules are
    the same pure functions, applied per subject in Python: ``public_subject``, ``public_view``
    (a record the public may not see is read and dropped here, never written), ``grade_view``;
    a person with no public record has no state (湖南 第四条: 不得泄露个人隐私)."""
    out: dict[int, dict | None] = {s.id: None for s in subjects}
    views = {s.id: v for s in subjects if (v := public_subject(s, ctx.today)) is not None}
    if not views:
        return out
    ids = list(views)  # at most MAX_LIMIT: one IN list (SQLite takes 32766 variables)
    records: dict[int, list[CreditRecord]] = defaultdict(list)
    for r in ctx.session.execute(select(CreditRecord).where(CreditRecord.subject_id.in_(ids),
                                                            CreditRecord.is_current.is_(True))
                                 .order_by(CreditRecord.subject_id, CreditRecord.id)).scalars():
        records[r.subject_id].append(r)
    grades = grades_in_force(ctx.session, ids, ctx.today)
    for subject in subjects:
        if subject.id not in views:
            continue
        shown = [v for v in (public_view(r, ctx.today, subject.birth_on, profile=ctx.profile)
                             for r in records[subject.id]) if v is not None]
        if subject.kind == SubjectKind.PERSON and not shown:
            continue
        out[subject.id] = _jsonable({"subject": views[subject.id], "records": shown,
                                     "grade": grade_view(grades.get(subject.id))})
    return out


def feed_page(ctx: ServiceContext, data_key_b64: str, cursor: int, limit: int) -> bytes:
    """One signed page of the feed after ``cursor`` (JSON lines)."""
    client = require_scope(ctx, rules.FEED)
    limit = max(1, min(limit, MAX_LIMIT))
    jobs = ctx.session.execute(select(IndexJob.seq, IndexJob.subject_id).where(IndexJob.seq > cursor)
                               .order_by(IndexJob.seq).limit(limit)).all()
    if not jobs and cursor > head(ctx.session):
        # Not a cursor this server handed out (every next_cursor and snapshot cursor is a seq the
        # log held, and the head never goes down: prune keeps the newest job). An empty page would
        # let a consumer believe it is up to date and skip every change up to N; refused like the
        # snapshot's cursor.
        raise ApiError("invalid_parameter", "cursor", reason=CURSOR_ABOVE_HEAD)
    _require_unexpired(ctx, cursor)
    last_seq: dict[int, int] = {}
    for job_id, subject_id in jobs:
        last_seq[subject_id] = job_id  # one line per subject, at its newest job in the page
    subjects = {s.id: s for s in ctx.session.execute(select(Subject).where(Subject.id.in_(list(last_seq))))
                .scalars()} if last_seq else {}
    # a region-bound client's feed holds its region only (the cursor still moves on)
    subjects = {i: s for i, s in subjects.items() if rules.covers_region(client.region_code, s.region_code)}
    states = subject_states(ctx, list(subjects.values()))
    body = bytearray()
    for subject_id, seq in sorted(last_seq.items(), key=lambda item: item[1]):
        subject = subjects.get(subject_id)
        if subject is None:
            continue
        state = states[subject_id]
        body += _line({"type": "subject", "seq": seq, "public_id": subject.public_id,
                       **(state or {"subject": None, "records": [], "grade": None})})
    next_cursor = jobs[-1][0] if jobs else cursor
    return _signed(body, {"cursor": cursor, "next_cursor": next_cursor, "more": len(jobs) == limit},
                   ctx, data_key_b64)


def _require_unexpired(ctx: ServiceContext, cursor: int) -> None:
    """410 when jobs after ``cursor`` may have been pruned. Read *after* the jobs: a prune that
    committed before the job read has raised the watermark by now (same transaction as its
    deletion), so a page with a gap is never answered; one that commits later took nothing the
    page needed."""
    if cursor < pruned_through(ctx.session):
        raise ApiError("cursor_expired", "cursor")


def _signed(body: bytearray, fields: dict, ctx: ServiceContext, data_key_b64: str) -> bytes:
    trailer = {"type": "signature", **fields, "lines": body.count(b"\n"), "generated_on": ctx.today.isoformat(),
               "alg": "Ed25519", "sha256": hashlib.sha256(bytes(body)).hexdigest(),
               "signature": base64.b64encode(signing_key(data_key_b64).sign(bytes(body))).decode("ascii")}
    return bytes(body) + _line(trailer)


def snapshot_page(ctx: ServiceContext, data_key_b64: str, after: int, cursor: int | None, limit: int) -> bytes:
    """One signed page of the full public state, by subject id: a line per subject of the
    client's region that the public may see now (``subject_state``, the same lines and privacy
    boundary as the feed; a subject nothing of which is public has no line), and in the trailer
    ``next_after`` (ask again with ``after=next_after``), ``more``, and ``cursor``: the feed
    position to continue from once the last page is stored.

    ``cursor`` is the log's head read *before* the first page read any subject, carried through
    the paging (the client passes it back; it may not be above the head, nor below the prune
    watermark: then the snapshot is already stale, 410). Why that is enough: every change writes
    its job in its own transaction, and ``seq`` follows commit order (``index_log``). A change the
    snapshot's line for S does not show committed after that line was read, so after the head was
    read, so its job is above ``cursor``: the feed from ``cursor`` brings a line for S again. A
    change committed before the head was read is already in the snapshot's lines, and the feed
    may bring it once more: a line is the subject's whole state, so replaying it changes
    nothing. A subject that stopped being public while the snapshot ran comes in the feed as
    ``"subject": null``. The consumer replaces its copy with the snapshot (what it holds but the
    snapshot lacks, it removes), then follows the feed from ``cursor``."""
    client = require_scope(ctx, rules.FEED)
    limit = max(1, min(limit, MAX_LIMIT))
    top = head(ctx.session)
    if cursor is None:
        if after:
            raise ApiError("invalid_parameter", "cursor", reason="续页须带上一页返回的 cursor")
        cursor = top  # before any subject is read
    elif cursor > top:
        raise ApiError("invalid_parameter", "cursor", reason="不能大于增量数据当前位置，须为上一页返回的 cursor")
    _require_unexpired(ctx, cursor)
    subjects = ctx.session.execute(select(Subject).where(Subject.id > after).order_by(Subject.id).limit(limit)
                                   ).scalars().all()
    states = subject_states(ctx, [s for s in subjects if rules.covers_region(client.region_code, s.region_code)])
    body = bytearray()
    for subject in subjects:
        state = states.get(subject.id)
        if state is not None:
            body += _line({"type": "subject", "public_id": subject.public_id, **state})
    return _signed(body, {"snapshot": True, "after": after, "next_after": subjects[-1].id if subjects else after,
                          "more": len(subjects) == limit, "cursor": cursor}, ctx, data_key_b64)


def verify_page(page: bytes, public_key_pem_text: str) -> tuple[list[dict], dict]:
    """What a consumer does: split off the signature line, verify it over the bytes before it,
    parse the lines. Raises ``cryptography.exceptions.InvalidSignature`` on any change."""
    body, _, last = page.rstrip(b"\n").rpartition(b"\n")
    body = body + b"\n" if body else b""
    trailer = json.loads(last)
    key = serialization.load_pem_public_key(public_key_pem_text.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    key.verify(base64.b64decode(trailer["signature"]), body)
    return [json.loads(line) for line in body.splitlines()], trailer
