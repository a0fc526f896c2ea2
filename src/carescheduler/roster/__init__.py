"""Rosters that persist across days and weeks: master data (``model``), the days
generated from it, week planning with its working-time rules, and management figures."""

from .calendar import bank_holidays, is_bank_holiday
from .days import apply_changes, day_from_roster, days_from_roster
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

__all__ = [
    "WEEKDAYS",
    "Absence",
    "Address",
    "CarePackageVisit",
    "DayChanges",
    "Roster",
    "RosterCarer",
    "RosterClient",
    "WorkingTimeRules",
    "apply_changes",
    "bank_holidays",
    "day_from_roster",
    "days_from_roster",
    "is_bank_holiday",
]
