"""carescheduler: schedules care-at-home workers.

    from carescheduler import Problem, solve
    plan = solve(Problem.model_validate_json(text), time_limit=10)
"""

from .domain import (
    BreakRule,
    Carer,
    Client,
    Gender,
    Location,
    ObjectiveWeights,
    Problem,
    Shift,
    Synchronisation,
    TimeWindow,
    TravelMatrix,
    TravelMode,
    Visit,
    VisitPart,
)
from .errors import InputError
from .plan import Plan

__all__ = [
    "BreakRule",
    "Carer",
    "Client",
    "Gender",
    "InputError",
    "Location",
    "ObjectiveWeights",
    "Plan",
    "Problem",
    "Shift",
    "Synchronisation",
    "TimeWindow",
    "TravelMatrix",
    "TravelMode",
    "Visit",
    "VisitPart",
]
