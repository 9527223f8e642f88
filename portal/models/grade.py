"""Yearly credit grades with their explanation (湖南 第十七–十八条; 海南 第二十九条 可解释性)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Grade(Base):
    __tablename__ = "grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    letter: Mapped[str] = mapped_column(String(2))
    score: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[list] = mapped_column(JSON, default=list)
    profile_id: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("subject_id", "year", name="uq_grades_subject_year"),)


class GradingExclusion(Base):
    """A subject that does not take part in a period's evaluation (湖南 第十八条: 根据有关规定不参加
    本期评价的除外), with the reason; it gets no grade for that year."""

    __tablename__ = "grading_exclusions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("subject_id", "year", name="uq_grading_exclusions_subject_year"),)
