"""Rosters that persist across days and weeks: master data (``model``), the days
generated from it, week planning with its working-time rules, and management figures."""

from .calendar import bank_holidays, is_bank_holiday
from .days import apply_changes, day_from_roster, days_from_roster
from .history import CareHistory
from .model import (
    WEEKDAYS,
    Absence,
    Address,
    CarePackageVisit,
    DayChanges,
    Roster,
    RosterCarer,
    RosterClient,
    WorkingTimeRules,
)
from .week import CarerHours, WeekFigures, WeekPlan, plan_week, planned_week, replan_day
from .week_rules import CarerWeekHours, WeekReport, WeekViolation, validate_week

__all__ = [
    "WEEKDAYS",
    "Absence",
    "Address",
    "CareHistory",
    "CarePackageVisit",
    "CarerHours",
    "CarerWeekHours",
    "DayChanges",
    "Roster",
    "RosterCarer",
    "RosterClient",
    "WeekFigures",
    "WeekPlan",
    "WeekReport",
    "WeekViolation",
    "WorkingTimeRules",
    "apply_changes",
    "bank_holidays",
    "day_from_roster",
    "days_from_roster",
    "is_bank_holiday",
    "plan_week",
    "planned_week",
    "replan_day",
    "validate_week",
]
