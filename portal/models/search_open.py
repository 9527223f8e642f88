from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SearchOpenDay(Base):
    """How often a subject's facility page was opened from a public search result on one day
    (China time): the "top searched facilities" figure (issue 15). Nothing personal: no search
    terms (they may hold a name or an ID number), no IP, no agent, only the count."""

    __tablename__ = "facility_search_open_days"  # not search_*: that prefix is the search store's (search_index.postgres_backend)

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
