"""Rendered public pages (QR scan page, facility page), cached in each process.

A cached page is served only while all of these hold:

* the public data version (``portal.public_version``) is the one it was rendered under. A process
  re-reads the version when its last read is ``CHECK_SECONDS`` old, and at once after a commit
  that this process made; so a change committed by any process (staff, CLI, import, another
  worker) reaches every worker's pages within ``CHECK_SECONDS`` (1 s), inside the portal's
  "searchable within 2 s";
* it is the same day: the day is part of the key (publication windows end at midnight, the grade
  in force changes on 1 January);
* it is younger than ``MAX_AGE_SECONDS``, a backstop for writes that bypass the ORM session.

A page whose build reported its subject (the scan page and the facility page) (``meta["subject_id"]`` and ``meta["stamp"]``, the
subject's ``public_stamp`` read in the build's *first* query, before anything on the page) also
survives a new version when the change was scoped to other subjects: the global version is the
one it was built under and its subject's stamp has not moved (one primary-key read, then it is
re-stamped with the new version). An objection filed about one hospital thus re-renders that
hospital's pages only, not every QR page in the process (issue #12: scan p95 under writes).

Pages are built by the views from public views only, exactly as without the cache, and hold
nothing that differs between visitors: per-response parts (the time of the scan, a visitor's
CSRF token) are left as ``marker(name)`` strings and filled in for each response.
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from .. import public_version

CHECK_SECONDS = 1.0
MAX_AGE_SECONDS = 60.0
MAX_BYTES = 16 * 2**20  # per process (in-memory size); a scan page takes ~10 KB


@dataclass(frozen=True)
class Page:
    body: str
    etag: str  # of ``body`` without this process's marker nonce; a response adds its filled-in parts
    version: str
    built_at: float
    meta: dict = field(default_factory=dict)
    global_version: str = ""


class PageCache:
    def __init__(self, engine, clock: Callable[[], float] = time.monotonic, check_seconds: float = CHECK_SECONDS,
                 max_age: float = MAX_AGE_SECONDS, max_bytes: int = MAX_BYTES):
        self.engine = engine
        self.clock = clock
        self.check_seconds = check_seconds
        self.max_age = max_age
        self.max_bytes = max_bytes
        self._nonce = secrets.token_hex(8)  # markers no page text can contain by chance
        self._lock = threading.Lock()
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._version = ""
        self._global = ""
        self._checked_at = float("-inf")
        self._seen_commits = -1
        self._day: date | None = None

    def marker(self, name: str) -> str:
        return f"\x00{name}:{self._nonce}\x00"

    def version(self) -> str:
        return self.versions()[0]

    def versions(self) -> tuple[str, str]:
        """The public data version and the global version, re-read from the database at most
        every ``check_seconds`` (and after a commit in this process). A new global version
        empties the cache; a new version alone leaves pages to be re-checked per subject."""
        now = self.clock()
        commits = public_version.local_commits()
        if commits != self._seen_commits or now - self._checked_at >= self.check_seconds:
            with self._read() as conn:
                value, global_value = public_version.read_both(conn)
            with self._lock:
                self._checked_at, self._seen_commits = now, commits
                if global_value != self._global:
                    self._clear()
                self._version, self._global = value, global_value
        return self._version, self._global

    def _still_valid(self, page: Page, global_version: str) -> bool:
        """A page built under an older version: still right if no change since touched it."""
        sid = page.meta.get("subject_id")
        if not isinstance(sid, int) or "stamp" not in page.meta or page.global_version != global_version:
            return False
        with self._read() as conn:
            return public_version.subject_stamp(conn, sid) == page.meta["stamp"]

    def _read(self):
        """A connection for one read-only statement: AUTOCOMMIT on PostgreSQL, so the version
        check is one round trip, not BEGIN + SELECT + ROLLBACK (issue #17)."""
        conn = self.engine.connect()
        return conn.execution_options(**public_version.read_options(conn))

    def get_or_build(self, kind: str, ident: str, today: date,
                     build: Callable[[], tuple[str, dict] | None]) -> Page | None:
        """The cached page, or ``build()`` → ``(body, meta)`` stored under the version read
        *before* building (a change committed meanwhile makes it a miss at the next check, never
        a stale hit). ``build`` returning ``None`` (e.g. no such plate) is not cached."""
        version, global_version = self.versions()
        key = (kind, ident, today)
        now = self.clock()
        stale = None
        with self._lock:
            if today != self._day:
                self._day = today
                self._clear()
            page = self._pages.get(key)
            if page is not None:
                if now - page.built_at >= self.max_age:
                    self._drop(key)
                elif page.version == version:
                    self._pages.move_to_end(key)
                    return page
                else:
                    stale = page
        if stale is not None:
            if self._still_valid(stale, global_version):
                renewed = dataclasses.replace(stale, version=version)
                with self._lock:
                    if self._pages.get(key) is stale:
                        self._pages[key] = renewed
                        self._pages.move_to_end(key)
                return renewed
            with self._lock:
                if self._pages.get(key) is stale:
                    self._drop(key)
        built = build()
        if built is None:
            return None
        body, meta = built
        etag = hashlib.blake2b(body.replace(self._nonce, "").encode(), digest_size=12).hexdigest()  # same in every worker
        page = Page(body=body, etag=etag, version=version, built_at=now, meta=meta, global_version=global_version)
        with self._lock:
            if sys.getsizeof(body) <= self.max_bytes // 8 and today == self._day:
                self._drop(key)
                self._pages[key] = page
                self._bytes += sys.getsizeof(body)
                while self._bytes > self.max_bytes:
                    self._drop(next(iter(self._pages)))
        return page

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= sys.getsizeof(page.body)

    def _clear(self) -> None:
        self._pages.clear()
        self._bytes = 0


def tag(*parts: str) -> str:
    """A short digest of per-response parts for the ETag (never the parts themselves)."""
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=6).hexdigest()
