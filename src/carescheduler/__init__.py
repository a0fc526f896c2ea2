"""carescheduler: schedules care-at-home workers.

    from carescheduler import Problem, solve, validate
    problem = Problem.model_validate_json(text)
    plan = solve(problem, time_limit=10)
    assert validate(problem, plan).valid
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
from .solver import Progress, solve
from .validator import ValidationReport, validate

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
    "Progress",
    "Shift",
    "Synchronisation",
    "TimeWindow",
    "TravelMatrix",
    "TravelMode",
    "ValidationReport",
    "Visit",
    "VisitPart",
    "solve",
    "validate",
]
