"""carescheduler: schedules care-at-home workers.

    from carescheduler import Problem, solve, validate
    problem = Problem.model_validate_json(text)
    plan = solve(problem, time_limit=10)
    assert validate(problem, plan).valid

During the day: ``replan(problem, plan, events, now)`` absorbs events into a published
plan; ``Recommender(problem, plan, now).recommend(visit)`` offers carers for a visit.
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
from .day.apply import apply_events
from .day.events import EventBatch
from .plan import Plan
from .day.recommend import Recommender, recommend
from .day.replan import ReplanResult, ReplanSettings, replan
from .search.solver import Progress, solve, warm_up
from .validator import ValidationReport, validate

__all__ = [
    "BreakRule",
    "Carer",
    "Client",
    "EventBatch",
    "Gender",
    "InputError",
    "Location",
    "ObjectiveWeights",
    "Plan",
    "Problem",
    "Progress",
    "Recommender",
    "ReplanResult",
    "ReplanSettings",
    "Shift",
    "Synchronisation",
    "TimeWindow",
    "TravelMatrix",
    "TravelMode",
    "ValidationReport",
    "Visit",
    "VisitPart",
    "apply_events",
    "recommend",
    "replan",
    "solve",
    "validate",
    "warm_up",
]
