"""Rosters that persist across days and weeks: master data (``model``), the days
generated from it, week planning with its working-time rules, and management figures."""

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
]
