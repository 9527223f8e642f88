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

A client registered for a region gets the subjects of its region only. Jobs are pruned only
after every registered search node passed them (``index_log.prune``); a consumer that resumes
from a cursor older than the oldest job kept should pull from 0 again (lines are idempotent).

Signature: the body's last line is ``{"type": "signature", …}``; ``signature`` is Ed25519 over the
exact bytes of every line before it (newlines included), base64. The key pair is derived from
``PORTAL_DATA_KEY`` (HKDF, label ``portal-feed-ed25519-v1``); the public key is served at
``/api/v1/feed/key`` (``verify_page`` below is what a consumer does).
"""
from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select

from ..crypto import _derive
from ..domain import api_access as rules
from ..domain.disclosure import public_subject, public_view
from ..domain.vocab import SubjectKind
from ..models import CreditRecord, IndexJob, Subject
from .api_data import _jsonable, require_scope
from .context import ServiceContext
from .indexing import latest_grade
from .public_pages import grade_view

FEED_LABEL = b"portal-feed-ed25519-v1"
MAX_LIMIT = 1000


def signing_key(data_key_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_derive(base64.urlsafe_b64decode(data_key_b64.encode()), FEED_LABEL))


def public_key_pem(data_key_b64: str) -> str:
    return signing_key(data_key_b64).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def subject_state(ctx: ServiceContext, subject: Subject) -> dict | None:
    """What the public may see of a subject now, or ``None``."""
    view = public_subject(subject, ctx.today)
    if view is None:
        return None
    records = [v for v in (public_view(r, ctx.today, subject.birth_on, profile=ctx.profile) for r in
                           ctx.session.execute(select(CreditRecord).where(
                               CreditRecord.subject_id == subject.id, CreditRecord.is_current.is_(True))
                               .order_by(CreditRecord.id)).scalars()) if v is not None]
    if subject.kind == SubjectKind.PERSON and not records:
        return None
    return _jsonable({"subject": view, "records": records,
                      "grade": grade_view(latest_grade(ctx.session, subject.id, ctx.today))})


def feed_page(ctx: ServiceContext, data_key_b64: str, cursor: int, limit: int) -> bytes:
    """One signed page of the feed after ``cursor`` (JSON lines)."""
    client = require_scope(ctx, rules.FEED)
    limit = max(1, min(limit, MAX_LIMIT))
    jobs = ctx.session.execute(select(IndexJob.seq, IndexJob.subject_id).where(IndexJob.seq > cursor)
                               .order_by(IndexJob.seq).limit(limit)).all()
    last_seq: dict[int, int] = {}
    for job_id, subject_id in jobs:
        last_seq[subject_id] = job_id  # one line per subject, at its newest job in the page
    subjects = {s.id: s for s in ctx.session.execute(select(Subject).where(Subject.id.in_(list(last_seq))))
                .scalars()} if last_seq else {}
    body = bytearray()
    for subject_id, seq in sorted(last_seq.items(), key=lambda item: item[1]):
        subject = subjects.get(subject_id)
        if subject is None or not rules.covers_region(client.region_code, subject.region_code):
            continue  # a region-bound client's feed holds its region only (the cursor still moves on)
        state = subject_state(ctx, subject)
        body += _line({"type": "subject", "seq": seq, "public_id": subject.public_id,
                       **(state or {"subject": None, "records": [], "grade": None})})
    next_cursor = jobs[-1][0] if jobs else cursor
    trailer = {"type": "signature", "cursor": cursor, "next_cursor": next_cursor, "lines": body.count(b"\n"),
               "more": len(jobs) == limit, "generated_on": ctx.today.isoformat(), "alg": "Ed25519",
               "sha256": hashlib.sha256(bytes(body)).hexdigest(),
               "signature": base64.b64encode(signing_key(data_key_b64).sign(bytes(body))).decode("ascii")}
    return bytes(body) + _line(trailer)


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
