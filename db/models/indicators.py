"""Indicator data: the campaign's standard set, schools and their yearly figures with the
history of every change, budgets, disabled children's enrolment, survey results,
self-assessment marks, and the imports and plans waiting for the office's confirmation."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models.core import _enum

# Floor areas to 0.01 m², money to 0.01 元, counts whole: four places leave room for a
# province's own resources; twenty digits hold a county's equipment value in 元.
Amount = Numeric(20, 4)


class SchoolLevel(enum.StrEnum):
    PRIMARY = "primary"
    JUNIOR = "junior"
    NINE_YEAR = "nine_year"  # 九年一贯制: a primary and a junior part


class FigurePart(enum.StrEnum):
    """Which part of a school a figure belongs to: a level, or the whole of a nine-year
    school for what its two parts share (buildings, equipment, books, computers)."""

    PRIMARY = "primary"
    JUNIOR = "junior"
    WHOLE = "whole"


class IndicatorSettings(Base):
    """The standard set a campaign is judged by; `standard_yaml` holds a province's own set."""

    __tablename__ = "indicator_settings"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    standard_id: Mapped[str] = mapped_column(String(64))
    standard_version: Mapped[int] = mapped_column(Integer)
    standard_yaml: Mapped[str | None] = mapped_column(Text)


class IndicatorLink(Base):
    """A certification check (`veto:three_growths`) answered by a campaign indicator's tasks."""

    __tablename__ = "indicator_links"
    __table_args__ = (
        UniqueConstraint("campaign_id", "check_key", name="uq_indicator_links_campaign_check"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    check_key: Mapped[str] = mapped_column(String(100))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), index=True
    )


class School(Base):
    """A unit of kind school as the indicators see it: its level, whether a teaching point."""

    __tablename__ = "schools"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"),
                                         primary_key=True)
    level: Mapped[SchoolLevel] = mapped_column(_enum(SchoolLevel))
    teaching_point: Mapped[bool] = mapped_column(Boolean, default=False)


class SchoolFigure(Base):
    """One raw figure of one school part in one school year (`students` is enrolment)."""

    __tablename__ = "school_figures"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "part", "resource",
                         name="uq_school_figures_unit_year_part_resource"),
        # A county's figures for a year are read in one scan.
        Index("ix_school_figures_year_unit", "year", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    part: Mapped[FigurePart] = mapped_column(_enum(FigurePart))
    resource: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Amount)


class SchoolFigureChange(Base):
    """Append-only: who changed which figure when, from what to what (None: absent)."""

    __tablename__ = "school_figure_changes"
    __table_args__ = (Index("ix_school_figure_changes_unit_year", "unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    part: Mapped[FigurePart] = mapped_column(_enum(FigurePart))
    resource: Mapped[str] = mapped_column(String(64))
    old_amount: Mapped[Decimal | None] = mapped_column(Amount)
    new_amount: Mapped[Decimal | None] = mapped_column(Amount)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))  # import, chat, cli, sample


class BudgetFigures(Base):
    """One fiscal year's education budget figures (元), for the 三个增长."""

    __tablename__ = "budget_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    appropriation: Mapped[Decimal | None] = mapped_column(Amount)
    recurrent_revenue: Mapped[Decimal | None] = mapped_column(Amount)
    per_student_expense: Mapped[Decimal | None] = mapped_column(Amount)
    per_student_public_funds: Mapped[Decimal | None] = mapped_column(Amount)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column()


class DisabledEnrolmentFigures(Base):
    """三类残疾儿童少年 of school age and how many of them are enrolled, by year."""

    __tablename__ = "disabled_enrolment"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    enrolled: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column()


class SurveyResult(Base):
    """One group's sampled satisfaction survey in one year."""

    __tablename__ = "survey_results"
    __table_args__ = (UniqueConstraint("year", "group_id", name="uq_survey_results_year_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[str] = mapped_column(String(64))
    respondents: Mapped[int] = mapped_column(Integer)
    satisfied: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column()


class SelfAssessmentMark(Base):
    """One self-assessment item as the county scored it: deduction id → occurrences."""

    __tablename__ = "self_assessment_marks"
    __table_args__ = (
        UniqueConstraint("campaign_id", "sheet_id", "item_id",
                         name="uq_self_assessment_marks_campaign_sheet_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    sheet_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    deductions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column()


class IndicatorImport(Base):
    """A school-data workbook waiting for the office's confirmation (survives restarts)."""

    __tablename__ = "indicator_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column()


class ImprovementPlan(Base):
    """The planner's answer as shown, kept so that "make these tasks" makes exactly those."""

    __tablename__ = "improvement_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    improvements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column()
    applied_at: Mapped[datetime | None] = mapped_column()


class SchoolEditPrompt(Base):
    """A principal was asked for one figure; their reply to that message is the value."""

    __tablename__ = "school_edit_prompts"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", name="uq_school_edit_prompts_chat_message"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    part: Mapped[FigurePart] = mapped_column(_enum(FigurePart))
    resource: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column()
