"""Yearly credit grades with their explanation (湖南 第十七–十八条; 海南 第二十九条 可解释性)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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
    # The day a grading cycle made it formal (湖南医保 第十九条); ``None`` for grades written directly
    # (demo data, `grade --load-historical`, a direct repair adjustment). A rolling formal grade is in force from that day.
    formal_on: Mapped[date | None] = mapped_column(Date)

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
    # The day the exclusion ends an older grade in force (services.indexing.grade_in_force): a
    # rolling profile's exclusion of the running year takes effect when decided (湖南医保 第十六条
    # 动态考评; domain.grading.exclusion_effective_on); NULL = when its year has ended (湖南 第十八条).
    effective_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("subject_id", "year", name="uq_grading_exclusions_subject_year"),)


class GradingCycle(Base):
    """One batch of preliminary results (初评) with its objection window, then formal.

    Yearly profiles (湖南 第十八条; 阳山 四（三）): one cycle per assessed year, generated on the
    profile's ``generate_on``, formal by ``publish_by``. Rolling (湖南医保 第十六条 动态考评): one
    cycle per day on which a subject's dynamic result changed. 湖南医保 第十九条: a result is formal
    once its window passed without objection or the objection is settled."""

    __tablename__ = "grading_cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # "2026" | "rolling:2027-02-01"
    profile_id: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10))  # yearly | rolling
    year: Mapped[int] = mapped_column(Integer)  # the assessed year (rolling: the as-of date's year)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    generated_on: Mapped[date] = mapped_column(Date)
    objection_until: Mapped[date] = mapped_column(Date)  # last day to object (inclusive)
    publish_by: Mapped[date | None] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # counted over an unconfirmed year
    formal_on: Mapped[date | None] = mapped_column(Date)  # every result formal (or superseded)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class GradingResult(Base):
    """A subject's result in a cycle: preliminary (non-public: the subject and staff only), with
    the subject's objection against it, until formal; the formal letter is then written into
    ``grades`` (the only table public pages read)."""

    __tablename__ = "grading_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("grading_cycles.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    letter: Mapped[str] = mapped_column(String(2))
    score: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12))  # preliminary | objected | formal | superseded
    objection_until: Mapped[date] = mapped_column(Date)
    previous_letter: Mapped[str] = mapped_column(String(2), default="")  # formal letter before this cycle
    formal_on: Mapped[date | None] = mapped_column(Date)
    objection_statement: Mapped[str] = mapped_column(Text, default="")
    objection_filed_on: Mapped[date | None] = mapped_column(Date)
    objection_filed_by: Mapped[str] = mapped_column(String(120), default="")
    objection_due_on: Mapped[date | None] = mapped_column(Date)
    objection_outcome: Mapped[str] = mapped_column(String(12), default="")  # upheld | rejected
    objection_reason: Mapped[str] = mapped_column(Text, default="")
    objection_decided_by: Mapped[str] = mapped_column(String(120), default="")
    objection_decided_on: Mapped[date | None] = mapped_column(Date)
    # A credit repair was decided while this result was under objection (services.grading_cycle.adjust_after_repair
    # held it): when the objection is decided, the profile's repair effect is applied to the
    # grade that becomes formal (湖南 第三十一条（三）; 湖南医保 第十六、十九条).
    repair_held_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("cycle_id", "subject_id", name="uq_grading_results_cycle_subject"),)
