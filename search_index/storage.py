"""The on-disk layout and writer lock shared by the file backends (Whoosh, tantivy).

Under ``root``: ``CURRENT`` names the live index directory (``ix-<time>``); a rebuild builds a
new directory and replaces ``CURRENT`` with ``os.replace``, so readers in every thread and
process move over on their next search. The previous directory is kept until the next swap
for readers still on it. ``write.lock`` is ``flock``ed by the one writer across processes.
Each index directory records the ``analysis.ANALYSIS_VERSION`` it was created with (``ANALYSIS``;
a directory without it predates the record: version 1).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .analysis import ANALYSIS_VERSION
from .base import IndexLocked

ANALYSIS_FILE = "ANALYSIS"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the thread lock still serialises this process
    fcntl = None


class IndexDirectory:
    def __init__(self, root: str | os.PathLike, lock_timeout: float) -> None:
        self.root = Path(root)
        self.lock_timeout = lock_timeout
        self._thread_lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)

    def current(self) -> str | None:
        """The live index directory's name, or None before the first index exists."""
        try:
            return (self.root / "CURRENT").read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None

    def new_name(self) -> str:
        """A fresh, empty index directory (not live until :meth:`swap_in`)."""
        name = f"ix-{time.time_ns()}"
        (self.root / name).mkdir()
        (self.root / name / ANALYSIS_FILE).write_text(str(ANALYSIS_VERSION), encoding="ascii")
        return name

    def analysis_version(self) -> int | None:
        """The analysis version the live index was built with (None before the first index)."""
        name = self.current()
        if name is None:
            return None
        try:
            return int((self.root / name / ANALYSIS_FILE).read_text(encoding="ascii").strip())
        except FileNotFoundError:
            return 1

    def swap_in(self, name: str) -> list[str]:
        """Make ``name`` live; remove every other directory but the one it replaced.
        Returns the names removed."""
        previous = self.current()
        tmp = self.root / "CURRENT.tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / "CURRENT")
        removed = []
        for old in self.root.glob("ix-*"):
            if old.name not in (name, previous):
                removed.append(old.name)
                shutil.rmtree(old, ignore_errors=True)
        return removed

    def discard(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The writer lock: this process's threads, then other processes (flock)."""
        if not self._thread_lock.acquire(timeout=self.lock_timeout):
            raise IndexLocked(f"search index {self.root} is locked by another thread")
        try:
            if fcntl is None:
                yield
                return
            with open(self.root / "write.lock", "a+") as lock_file:
                deadline = time.monotonic() + self.lock_timeout
                while True:
                    try:
                        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise IndexLocked(f"search index {self.root} is locked by another process") from None
                        time.sleep(0.05)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
