""""Top searched facilities" (issue 15 statistics; 海南 第五十条 信用信息应用情况) without storing
what anybody searched for.

A search term may hold a name, an ID number or a phone number, so the portal keeps none. What it
counts instead is the act that shows a facility was *searched for and found*: its facility page
opened from a public search result. The result links carry ``?from=search``
(templates/public/_results.html); the facility page adds one to an anonymous per-subject, per-day
counter (``SearchOpenDay``), buffered in memory and written off the request thread by the same
buffer as plate scans (``plates.ScanCounter`` with this module's writer). Counting every hit
*shown* was rejected: a broad query ("医院") would count twenty facilities nobody looked for.

Only organisations are counted (a person's page opens are not tallied at all), and the figure
again selects organisations only, so a non-public subject can never appear in it.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ..domain.vocab import SubjectKind
from ..models import SearchOpenDay
from .plates import ScanCounter, add_day_counts

MARKER_ARG, MARKER_VALUE = "from", "search"  # the search result links' ``?from=search``


def record_opens(session: Session, counts: dict[tuple[int, date], int]) -> None:
    """Add ``counts`` ((subject id, day) → opens from a search result) to the daily counters."""
    add_day_counts(session, SearchOpenDay, "subject_id", counts)


def open_counter(sessions, **kw) -> ScanCounter:
    """The in-memory buffer for search opens (one per app, like the scan counter)."""
    return ScanCounter(sessions, write=record_opens, **kw)


def counted(kind: str | None) -> bool:
    """Whether a subject of this kind is counted: organisations only (公开的机构)."""
    return kind == SubjectKind.ORG
