"""双随机、一公开 draws (阳山 四（四）; 湖南 第二十、二十一、二十三条; 海南 第三十二条; 湖南医保 第二十条):
the announced commitment, the population and result once drawn, one row per drawn unit with its
inspection result, and the inspector pool with its 回避 (conflict) list."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Draw(Base):
    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # public: CJ2026-0001
    category: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(12), default="announced")  # announced | drawn
    algorithm: Mapped[str] = mapped_column(String(40))
    seed_sha256: Mapped[str] = mapped_column(String(64))  # published at announcement
    seed: Mapped[str] = mapped_column(String(64))  # secret until drawn, then published
    profile_id: Mapped[str] = mapped_column(String(40))
    ratios: Mapped[dict] = mapped_column(JSON, default=dict)  # stratum -> percent, fixed at draw
    population: Mapped[list] = mapped_column(JSON, default=list)  # [[code, name, stratum], ...] organisations only
    counts: Mapped[list] = mapped_column(JSON, default=list)  # [{stratum, percent, population, drawn}]
    announced_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    announced_by: Mapped[str] = mapped_column(String(80))
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    drawn_on: Mapped[date | None] = mapped_column(Date)
    publish_results_by: Mapped[date | None] = mapped_column(Date)
    drawn_by: Mapped[str] = mapped_column(String(80), default="")


class DrawItem(Base):
    """One drawn unit: its rank, the inspectors assigned, and the inspection result."""

    __tablename__ = "draw_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    code: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    stratum: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int] = mapped_column(Integer)
    inspectors: Mapped[list] = mapped_column(JSON, default=list)  # staff user ids; never published
    outcome: Mapped[str] = mapped_column(String(20), default="")  # "" = not yet inspected
    finding: Mapped[str] = mapped_column(Text, default="")  # staff only
    record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    inspected_on: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)  # the day the result went public (一公开)

    __table_args__ = (UniqueConstraint("draw_id", "subject_id", name="uq_draw_items_draw_subject"),)


class DrawInspector(Base):
    """A staff account in the inspector pool (执法检查人员名录库)."""

    __tablename__ = "draw_inspectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DrawConflict(Base):
    """回避: an inspector is never drawn for this subject, or for any unit in this region."""

    __tablename__ = "draw_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    region_code: Mapped[str] = mapped_column(String(6), default="")
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
