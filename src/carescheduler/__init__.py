"""carescheduler: schedules care-at-home workers.

    from carescheduler import MaxRuntime, Problem, solve, validate
    problem = Problem.model_validate_json(text)
    plan = solve(problem, MaxRuntime(10))
    assert validate(problem, plan).valid

During the day: ``replan(problem, plan, events, now)`` absorbs events into a published
plan; ``Recommender(problem, plan, now).recommend(visit)`` offers carers for a visit,
and ``.move(visit, carer)`` gives it to one (``day.moves``).
``SolveParams`` holds every setting of the search, ``MaxRuntime``, ``MaxIterations`` and
``NoImprovement`` say when it stops.

Where things are: ``domain`` and ``plan`` (the schema), ``params`` (solver settings),
``search/`` (compiling a day, timing and pricing, insertion, the search, CP-SAT),
``day/`` (events, the live day, replanning, recommendations, editing), ``validator``,
``travel/``, ``formats/``, ``report/``, ``scenarios/`` and ``cli``.
"""

from .day.apply import apply_events
from .day.events import EventBatch
from .day.recommend import Recommender, recommend
from .day.replan import ReplanResult, replan
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
from .params import (
    ConstructionParams,
    MaxIterations,
    MaxRuntime,
    NoImprovement,
    ParallelParams,
    ReplanSettings,
    SearchParams,
    SolveParams,
)
from .plan import Plan, SolverInfo
from .search.solver import Progress, solve, warm_up
from .validator import ValidationReport, validate

__all__ = [
    "BreakRule",
    "Carer",
    "Client",
    "ConstructionParams",
    "EventBatch",
    "Gender",
    "InputError",
    "Location",
    "MaxIterations",
    "MaxRuntime",
    "NoImprovement",
    "ObjectiveWeights",
    "ParallelParams",
    "Plan",
    "Problem",
    "Progress",
    "Recommender",
    "ReplanResult",
    "ReplanSettings",
    "SearchParams",
    "Shift",
    "SolveParams",
    "SolverInfo",
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
