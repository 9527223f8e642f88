"""Staging rows of a file import (``credit-portal import``), invisible to every page.

An import validates and stores its rows here in short committed batches, tagged with one
import id, and publishes them into ``subjects`` / ``credit_records`` in one short transaction
at the end; a failed or killed import leaves only rows here, which the next import removes.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ImportStaging(Base):
    __tablename__ = "import_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[str] = mapped_column(String(32))
    row_no: Mapped[int] = mapped_column(Integer)  # the data row as the spreadsheet user sees it
    kind: Mapped[str] = mapped_column(String(10))  # "subject" (first row of a subject) or "record"
    payload: Mapped[str] = mapped_column(Text)  # JSON: validated column values
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_import_staging_import", "import_id", "kind", "id"),)
