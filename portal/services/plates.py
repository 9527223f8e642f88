"""Write verbs for QR identity plates (二维码身份牌, 淮安 三(七)) and the queries staff and the
CLI need around them.

issue_plate, revoke_plate and reissue_plate change plates and write audit events; record_scan
only bumps an anonymous per-plate, per-day counter (no audit row: a scan is not an official act,
and one row per scan would flood the hash-chained log and serialise every scan on it).
``ScanCounter`` batches those bumps in process memory so that a burst of scans costs one write
a second, not one per scan.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..documents.plates import PlateCard
from ..documents.qr import QrMatrix, encode_qr
from ..domain import permissions as access
from ..domain import plates as rules
from ..domain.disclosure import public_subject
from ..domain.plates import PlateStatus
from ..domain.vocab import SubjectKind, SubjectStatus
from ..models import Plate, PlateScanDay, Subject
from ..permissions import require_plate_manager
from .audit import record_event
from .context import ServiceContext
from .errors import ServiceError
from .indexing import grades_in_force, latest_grade

log = logging.getLogger(__name__)

MAX_CHAIN = 50  # reissue chains are short; this only guards against a corrupt loop
PLATE_ROLES = access.PLATE_ROLES  # 平台运行机构、认定部门 issue and revoke plates
can_manage_plates = access.may_manage_plates  # region scoping is checked per plate


# --- queries -----------------------------------------------------------------------------------

def find_by_token(session: Session, token: str) -> Plate | None:
    return session.execute(select(Plate).where(Plate.token == token)).scalar_one_or_none()


def find_by_number(session: Session, plate_no: str) -> Plate | None:
    return session.execute(select(Plate).where(Plate.plate_no == plate_no.strip().upper())).scalar_one_or_none()


def active_plate(session: Session, subject_id: int) -> Plate | None:
    return session.execute(select(Plate).where(Plate.subject_id == subject_id, Plate.status == PlateStatus.ACTIVE)
                           .order_by(Plate.id.desc()).limit(1)).scalar_one_or_none()


def current_plate(session: Session, plate: Plate) -> Plate:
    """Follow reissues to the newest plate of the line."""
    seen = 0
    while plate.replaced_by_id is not None and seen < MAX_CHAIN:
        plate = session.get(Plate, plate.replaced_by_id)
        seen += 1
    return plate


def subjects_query(region: str | None = None, category: str | None = None):
    """Organisations in a region (a city code selects its districts too) and/or a category."""
    q = select(Subject).where(Subject.kind == SubjectKind.ORG)
    if region:
        q = q.where(Subject.region_code.startswith(rules.region_prefix(region), autoescape=True))
    if category:
        q = q.where(Subject.category == category)
    return q.order_by(Subject.region_code, Subject.id)


def subjects_without_plate(region: str | None = None, category: str | None = None):
    """Active organisations that have no active plate yet."""
    has_plate = select(Plate.id).where(Plate.subject_id == Subject.id, Plate.status == PlateStatus.ACTIVE).exists()
    return subjects_query(region, category).where(Subject.status == SubjectStatus.ACTIVE, ~has_plate)


def plates_page(session: Session, region: str | None, category: str | None, status: str | None, text: str,
                page: int, per_page: int) -> tuple[list[Plate], int, int, int]:
    """One page of the staff plate list (number or unit name containing ``text``): the plates with
    their subjects, the total, the page shown and the number of pages."""
    from sqlalchemy.orm import selectinload

    q = plates_query(region, category, status)
    if text:
        q = q.where(Plate.plate_no.contains(text.upper(), autoescape=True) | Subject.name.contains(text, autoescape=True))
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(q.options(selectinload(Plate.subject)).offset((page - 1) * per_page).limit(per_page))
    return list(rows.scalars()), total, page, pages


def plate_ids(session: Session, region: str | None, category: str | None) -> list[int]:
    """The active plates of a selection (a batch to print)."""
    return list(session.execute(plates_query(region, category).with_only_columns(Plate.id)).scalars())


def count_without_plate(session: Session, region: str | None, category: str | None) -> int:
    return session.execute(select(func.count()).select_from(subjects_without_plate(region, category).subquery())
                           ).scalar_one()


def without_plate(session: Session, region: str | None, category: str | None, limit: int) -> list[Subject]:
    """Up to ``limit`` organisations of the selection that have no active plate yet."""
    return list(session.execute(subjects_without_plate(region, category).limit(limit)).scalars())


def plates_by_ids(session: Session, plate_ids: Iterable[int]) -> list[Plate]:
    """The plates, in number order, with their subjects loaded (one batch of printing)."""
    from sqlalchemy.orm import selectinload

    return list(session.execute(select(Plate).where(Plate.id.in_(list(plate_ids))).order_by(Plate.plate_no)
                                .options(selectinload(Plate.subject))).scalars())


def predecessors(session: Session, plate: Plate) -> list[Plate]:
    """The plates this one replaced, newest first."""
    out, current = [], plate
    while len(out) < MAX_CHAIN:
        prev = session.execute(select(Plate).where(Plate.replaced_by_id == current.id)).scalar_one_or_none()
        if prev is None:
            break
        out.append(prev)
        current = prev
    return out


def plates_query(region: str | None = None, category: str | None = None, status: str | None = PlateStatus.ACTIVE):
    q = select(Plate).join(Subject, Subject.id == Plate.subject_id)
    sub = subjects_query(region, category).whereclause
    if sub is not None:
        q = q.where(sub)
    if status:
        q = q.where(Plate.status == status)
    return q.order_by(Plate.plate_no)


def scan_counts(session: Session, plate_ids: Iterable[int] | None = None, since: date | None = None) -> dict[int, int]:
    q = select(PlateScanDay.plate_id, func.sum(PlateScanDay.count)).group_by(PlateScanDay.plate_id)
    if plate_ids is not None:
        q = q.where(PlateScanDay.plate_id.in_(list(plate_ids)))
    if since is not None:
        q = q.where(PlateScanDay.day >= since)
    return {pid: int(n or 0) for pid, n in session.execute(q)}


def scan_days(session: Session, plate_id: int, since: date | None = None) -> list[tuple[date, int]]:
    q = select(PlateScanDay.day, PlateScanDay.count).where(PlateScanDay.plate_id == plate_id)
    if since is not None:
        q = q.where(PlateScanDay.day >= since)
    return [(d, n) for d, n in session.execute(q.order_by(PlateScanDay.day))]


# --- verbs -------------------------------------------------------------------------------------

def _next_number(session: Session, region_code: str) -> str:
    prefix = rules.plate_number_prefix(region_code)
    last = session.execute(select(Plate.plate_no).where(Plate.plate_no.startswith(prefix, autoescape=True))
                           .order_by(Plate.plate_no.desc()).limit(1)).scalar()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return rules.plate_number(region_code, seq)


def _new_plate(ctx: ServiceContext, subject: Subject) -> Plate:
    while True:
        token = rules.new_token(ctx.protector)
        if find_by_token(ctx.session, token) is None:  # 50 random bits: a clash is practically never
            break
    plate = Plate(plate_no=_next_number(ctx.session, subject.region_code), token=token, subject_id=subject.id,
                  issued_on=ctx.today, status=PlateStatus.ACTIVE, created_by=ctx.actor)
    ctx.session.add(plate)
    ctx.session.flush()
    return plate


def _check_issuable(ctx: ServiceContext, subject: Subject) -> None:
    if subject.kind != SubjectKind.ORG:
        raise ServiceError("二维码身份牌只发给机构和场所，不发给个人", "subject")
    if subject.status != SubjectStatus.ACTIVE:
        raise ServiceError("该单位已注销或许可已吊销，不能发放身份牌", "subject")
    if public_subject(subject, ctx.today) is None:
        raise ServiceError("该主体信息不公开，不能发放身份牌", "subject")


def issue_plate(ctx: ServiceContext, subject: Subject) -> Plate:
    """A first plate for a unit. A unit has at most one active plate; replace it by reissuing."""
    require_plate_manager(ctx, subject.region_code)
    _check_issuable(ctx, subject)
    existing = active_plate(ctx.session, subject.id)
    if existing is not None:
        raise ServiceError(f"该单位已有有效身份牌 {existing.plate_no}；如需更换请补发", "subject")
    plate = _new_plate(ctx, subject)
    record_event(ctx.session, ctx.actor, "plate.issue", subject_id=subject.id, object_ref=f"plate:{plate.id}",
                 detail={"plate_no": plate.plate_no})
    return plate


def issue_missing(ctx: ServiceContext, subjects: Iterable[Subject],
                  progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Issue a plate to every active organisation in ``subjects`` that has none; (issued, skipped)."""
    require_plate_manager(ctx)
    issued = skipped = 0
    for i, subject in enumerate(subjects, 1):
        if (subject.kind != SubjectKind.ORG or subject.status != SubjectStatus.ACTIVE
                or active_plate(ctx.session, subject.id) is not None):
            skipped += 1
        else:
            issue_plate(ctx, subject)
            issued += 1
        if progress:
            progress(i)
    return issued, skipped


def _check_reason(reason: str, note: str) -> str:
    if reason not in rules.REVOKE_REASONS:
        raise ServiceError(f"未知的作废原因：{reason}（可选：{'、'.join(rules.REVOKE_REASONS)}）", "reason")
    note = (note or "").strip()
    if len(note) > 200:
        raise ServiceError("说明不超过 200 字", "note")
    if reason == "other" and not note:
        raise ServiceError("原因为“其他”时请填写说明", "note")
    return note


def revoke_plate(ctx: ServiceContext, plate: Plate, reason: str, note: str = "", *, confirmed: bool = True) -> Plate:
    """Revoke a plate (lost, damaged ...). The row stays; its page shows a banner from now on.
    ``confirmed``: the staff member ticked the confirmation (the command line asks nothing)."""
    require_plate_manager(ctx, plate.subject.region_code)
    if not confirmed:  # 作废 / 补发 cannot be undone: the staff form asks once more
        raise ServiceError("请勾选确认后再提交（作废、补发后不能恢复）", "confirm")
    note = _check_reason(reason, note)
    if plate.status != PlateStatus.ACTIVE:
        raise ServiceError(f"身份牌 {plate.plate_no} 已不是有效状态，无需作废", "plate")
    plate.status = PlateStatus.REVOKED
    plate.revoked_on = ctx.today
    plate.revoked_reason = reason
    plate.revoked_note = note
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "plate.revoke", subject_id=plate.subject_id, object_ref=f"plate:{plate.id}",
                 detail={"plate_no": plate.plate_no, "reason": reason, "note": note})
    return plate


def reissue_plate(ctx: ServiceContext, plate: Plate, reason: str = "damaged", note: str = "", *,
                  confirmed: bool = True) -> Plate:
    """A new plate (new number, new token) replacing ``plate``, which keeps working with a banner
    that links to its successor. An active plate becomes *replaced*; a revoked one stays revoked."""
    require_plate_manager(ctx, plate.subject.region_code)
    if not confirmed:  # 作废 / 补发 cannot be undone: the staff form asks once more
        raise ServiceError("请勾选确认后再提交（作废、补发后不能恢复）", "confirm")
    note = _check_reason(reason, note)
    if plate.replaced_by_id is not None:
        newest = current_plate(ctx.session, plate)
        raise ServiceError(f"身份牌 {plate.plate_no} 已换发为 {newest.plate_no}，请对最新的身份牌操作", "plate")
    subject = ctx.session.get(Subject, plate.subject_id)
    _check_issuable(ctx, subject)
    other = active_plate(ctx.session, subject.id)
    if other is not None and other.id != plate.id:
        raise ServiceError(f"该单位已有另一块有效身份牌 {other.plate_no}", "plate")
    new = _new_plate(ctx, subject)
    if plate.status == PlateStatus.ACTIVE:
        plate.status = PlateStatus.REPLACED
        plate.revoked_on = ctx.today
        plate.revoked_reason = reason
        plate.revoked_note = note
    plate.replaced_by_id = new.id
    ctx.session.flush()
    record_event(ctx.session, ctx.actor, "plate.reissue", subject_id=subject.id, object_ref=f"plate:{new.id}",
                 detail={"plate_no": new.plate_no, "replaces": plate.plate_no, "reason": reason, "note": note})
    return new


def print_batch(ctx: ServiceContext, plates: list[Plate], out, *, fmt: str, size: str, base_url: str,
                region: str | None = None, category: str | None = None,
                progress: Callable[[int], None] | None = None) -> int:
    """Batch printing (``fmt`` ``pdf``: one PDF, a plate a page; ``zip``: a PDF and an SVG per
    plate with index.csv) into the binary file ``out``, for the staff pages and the CLI alike:
    the caller must manage plates in every plate's region, and the print is audited. Returns
    how many plates were rendered. QR matrices rendered for the first time are kept on the plates
    (the caller commits)."""
    from ..documents import plates as render

    for plate in plates:
        require_plate_manager(ctx, plate.subject.region_code)
    if fmt not in ("pdf", "zip") or size not in render.PAGE_SIZES:
        raise ServiceError("请选择纸张（A5 / A6）和格式（PDF / ZIP）。", "format")
    cards = iter_cards(ctx.session, ctx.profile, base_url, ctx.today, plates)
    if fmt == "pdf":
        n = render.batch_pdf(cards, out, size, title=f"{ctx.profile.portal_name} 二维码身份牌", progress=progress)
    else:
        n = render.batch_zip(cards, out, size, progress=progress)
    record_print(ctx, n, region=region, category=category, size=size, fmt=fmt)
    return n


def record_print(ctx: ServiceContext, count: int, *, region: str | None, category: str | None, size: str,
                 fmt: str) -> None:
    """Printing a batch of plates is a staff act: audited with what was selected."""
    record_event(ctx.session, ctx.actor, "plate.print", object_ref="plates",
                 detail={"count": count, "region": region or "", "category": category or "", "size": size,
                         "format": fmt})


def record_scan(session: Session, plate_id: int, day: date, n: int = 1) -> None:
    """Add ``n`` scans to the plate's counter for ``day``. Stores nothing about the scanner."""
    record_scans(session, {(plate_id, day): n})


def record_scans(session: Session, counts: dict[tuple[int, date], int]) -> None:
    """Add ``counts`` ((plate id, day) → scans) to the plates' daily counters."""
    add_day_counts(session, PlateScanDay, "plate_id", counts)


def add_day_counts(session: Session, model, key: str, counts: dict[tuple[int, date], int]) -> None:
    """Add ``counts`` ((``key`` id, day) → n) to an anonymous per-id daily counter table
    (``model`` with columns ``key``, ``day``, ``count``: ``PlateScanDay``, ``SearchOpenDay``)
    with one UPSERT statement run for all rows (SQLite ≥ 3.24 and PostgreSQL share the
    ``ON CONFLICT … DO UPDATE`` form), in key order so that concurrent writers lock rows in the
    same order."""
    rows = [{key: kid, "day": day, "count": n} for (kid, day), n in sorted(counts.items())]
    if not rows:
        return
    key_col, day_col, count_col = getattr(model, key), model.day, model.count
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(model)
        stmt = stmt.on_conflict_do_update(index_elements=[key_col, day_col],
                                          set_={"count": count_col + stmt.excluded["count"]})
        session.execute(stmt, rows)
        return
    for row in rows:
        done = session.execute(update(model).where(key_col == row[key], day_col == row["day"])
                               .values(count=count_col + row["count"]))
        if done.rowcount == 0:
            session.add(model(**row))
            session.flush()


GIVE_UP_AFTER = 120  # consecutive failed writes (about two to four minutes) before the writer rests
_counters: weakref.WeakSet[ScanCounter] = weakref.WeakSet()


class ScanCounter:
    """Scans counted in process memory and written with ``record_scans`` in one transaction by
    a background writer thread, never by the request that made the scan.

    The writer writes at once when the last write is ``flush_seconds`` old (so under light
    traffic every scan is in the table straight away), when ``flush_scans`` scans are waiting,
    and otherwise ``flush_seconds`` later; ``flush`` also runs at process exit (``atexit``: a
    gunicorn worker's graceful stop, restart or ``--max-requests`` recycling). Under a burst
    that is about one write a second per process instead of one per scan. Counts stay exact
    across processes (each write adds its increments with an UPSERT). A request only adds to
    the buffer and wakes the writer: a write that waits on a locked database (a long import on
    SQLite) or fails never delays or fails the page; the counts wait and the writer retries
    ``flush_seconds`` later. A process killed without running its exit hooks (SIGKILL, OOM,
    power loss) loses the scans still waiting: those of its last second, or of the time the
    database refused writes.

    ``timer=False`` (tests that watch the writes) starts no thread: ``write_due`` does what the
    writer would do now. ``write`` is the table writer: plate scans by default; the same buffer
    counts facility pages opened from a search result (``services.search_opens``).
    """

    def __init__(self, sessions, clock: Callable[[], float] = time.monotonic, flush_seconds: float = 1.0,
                 flush_scans: int = 1000, timer: bool = True,
                 write: Callable[[Session, dict[tuple[int, date], int]], None] | None = None):
        self.sessions = sessions
        self.write = write  # None: record_scans, looked up at each write
        self.clock = clock
        self.flush_seconds = flush_seconds
        self.flush_scans = flush_scans
        self.timer = timer  # tests that watch scans wait turn it off
        self._pending: Counter[tuple[int, date]] = Counter()
        self._waiting = 0
        self._last_write = float("-inf")
        self._failing = False
        self._due = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()  # the buffer
        self._writing = threading.Lock()  # one write at a time: flush() returns after every earlier scan is written
        _counters.add(self)

    def add(self, plate_id: int, day: date) -> None:
        """Count one scan (the request thread): never writes."""
        with self._lock:
            self._pending[(plate_id, day)] += 1
            self._waiting += 1
            if (self.clock() - self._last_write >= self.flush_seconds
                    or (self._waiting >= self.flush_scans and not self._failing)):
                self._due = True
        if self.timer:
            self._ensure_writer()
            if self._due:
                self._wake.set()

    def pending(self) -> int:
        return self._waiting

    def _ensure_writer(self) -> None:
        with self._lock:  # one writer per process (a forked worker starts its own)
            pid = os.getpid()
            if self._thread is None or self._pid != pid or not self._thread.is_alive():
                self._pid = pid
                self._thread = threading.Thread(target=self._run, name="scan-counter", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """The writer: runs while scans come, ends a quiet ``flush_seconds`` after the last one
        (the next scan starts it again), so an idle process keeps no thread."""
        failures = 0
        while True:
            woken = self._wake.wait(self.flush_seconds)  # a due scan, else the tail of a burst
            self._wake.clear()
            self.write_due(tail=True)
            if self._failing:
                failures += 1
                if failures < GIVE_UP_AFTER:
                    time.sleep(self.flush_seconds)  # the database refused (locked, down): retry later
                    continue
                with self._lock:  # down for minutes: the next scan or the exit flush tries again
                    self._thread = None
                    return
            failures = 0
            with self._lock:
                if not woken and self._waiting == 0:
                    self._thread = None
                    return

    def write_due(self, tail: bool = False) -> int:
        """Write if a scan made a write due (or, with ``tail``, if any scan waits)."""
        with self._lock:
            due = self._due or (tail and self._waiting > 0)
            self._due = False
        return self.flush() if due else 0

    def flush(self) -> int:
        """Write the waiting counts; the number of scans written (0 on failure, logged)."""
        with self._writing:
            with self._lock:
                batch, waiting = self._pending, self._waiting
                self._pending, self._waiting = Counter(), 0
                self._last_write = self.clock()
                self._due = False
            if not batch:
                return 0
            try:
                with self.sessions() as session:
                    (self.write or record_scans)(session, batch)
                    session.commit()
            except Exception:  # noqa: BLE001 — counting is best effort; keep the counts for the next write
                log.warning("scan count: writing %d scans failed; kept for the next attempt", waiting,
                            exc_info=True)
                with self._lock:
                    self._pending.update(batch)
                    self._waiting += waiting
                    self._failing = True
                return 0
            self._failing = False
            return waiting


@atexit.register
def _flush_at_exit() -> None:
    for counter in list(_counters):
        counter.flush()


# --- printing ----------------------------------------------------------------------------------

def plate_matrix(plate: Plate, base_url: str) -> tuple[str, QrMatrix]:
    """The scan URL and QR matrix of a plate, rendered once and kept on the row (the caller
    commits); recomputed only if the portal's base URL changed."""
    url = rules.scan_url(base_url, plate.token)
    if plate.qr_url == url and plate.qr_modules:
        return url, QrMatrix.unpack(plate.qr_modules)
    matrix = encode_qr(url)
    plate.qr_url, plate.qr_modules = url, matrix.pack()
    return url, matrix


def shows_grade(profile) -> bool:
    """Whether this deployment prints the grade on plates (profile ``display.plate_shows_grade``)."""
    return bool(getattr(getattr(profile, "display", None), "plate_shows_grade", False))


def plates_to_reprint(session: Session, profile, region: str | None, today: date,
                      limit: int = 2000) -> list[dict]:
    """Active plates whose printed grade is not the grade in force (issue #13: reprint after each
    grading; ``domain.plates.needs_reprint``), up to ``limit``, in number order. Each row:
    ``{"plate", "printed": (letter, year) | None, "current": (letter, year) | None}``. The caller
    (a staff page behind ``can_manage_plates`` and the region check) shows them."""
    from sqlalchemy.orm import selectinload

    out: list[dict] = []
    q = plates_query(region, None).options(selectinload(Plate.subject))
    offset, chunk = 0, 500
    wants_grade = shows_grade(profile)
    while len(out) < limit:
        plates = list(session.execute(q.offset(offset).limit(chunk)).scalars())
        if not plates:
            break
        offset += chunk
        grades = grades_in_force(session, [p.subject_id for p in plates], today) if wants_grade else {}
        for plate in plates:
            g = grades.get(plate.subject_id)
            current = (g.letter, g.year) if g is not None else None
            printed = (plate.printed_grade, plate.printed_grade_year) if plate.printed_grade else None
            if rules.needs_reprint(wants_grade, printed, current):
                out.append({"plate": plate, "printed": printed, "current": current})
    return out[:limit]


def plate_card(session: Session, profile, plate: Plate, base_url: str, today: date) -> PlateCard:
    """What is printed on a plate: public registration data only, and the grade with its year
    when the profile prints one (recorded on the plate, so a later grading offers a reprint)."""
    subject = session.get(Subject, plate.subject_id)
    view = public_subject(subject, today)
    if view is None:
        raise ServiceError("该主体信息不公开，不能打印身份牌", "plate")
    url, matrix = plate_matrix(plate, base_url)
    letter = year = None
    label = ""
    if shows_grade(profile):
        grade = latest_grade(session, subject.id, today)
        if grade is not None:
            letter, year = grade.letter, grade.year
            info = profile.grade(grade.letter)
            label = info.label if info else ""
    plate.printed_grade, plate.printed_grade_year = letter or "", year  # the caller commits
    return PlateCard(plate_no=plate.plate_no, url=url, matrix=matrix, unit_name=view["name"],
                     issued_on=plate.issued_on, portal_name=profile.portal_name, authority=profile.authority,
                     grade_letter=letter, grade_year=year, grade_label=label)


def iter_cards(session: Session, profile, base_url: str, today: date, plates: Iterable[Plate]) -> Iterator[PlateCard]:
    for plate in plates:
        yield plate_card(session, profile, plate, base_url, today)
