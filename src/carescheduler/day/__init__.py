"""The live day: what happens after a plan is published, and how the plan follows.

    events      the event schema (absences, delays, new clients, check-ins, ...)
    apply       how a batch of events changes the day's problem, atomically
    live        the day at ``now`` as a model: the past fixed, the near future held
    replan      absorbing events into the published plan, moving as little as possible
    recommend   who could take a visit, where in their day, at what cost
    moves       a visit given to the carer a coordinator chose, as a new plan of the day
    alerts      what is overdue at ``now``: late starts, visits not checked out, missed
    editing     a day's carers, clients, visits and places changed one at a time

The functions ``replan`` and ``recommend`` are in ``carescheduler`` itself (here the
names are the modules).
"""

from .apply import DayUpdate, Refusal, apply_events, apply_in_order
from .events import EventBatch
from .moves import MoveRefused, MoveResult, move_visit
from .recommend import Recommender
from .replan import PlanChanges, ReplanResult

__all__ = [
    "DayUpdate",
    "EventBatch",
    "MoveRefused",
    "MoveResult",
    "PlanChanges",
    "Recommender",
    "Refusal",
    "ReplanResult",
    "apply_events",
    "apply_in_order",
    "move_visit",
]
