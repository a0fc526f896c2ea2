"""The live day: what happens after a plan is published, and how the plan follows.

    events      the event schema (absences, delays, new clients, check-ins, ...)
    apply       how a batch of events changes the day's problem, atomically
    live        the day at ``now`` as a model: the past fixed, the near future held
    replan      absorbing events into the published plan, moving as little as possible
    recommend   who could take a visit, where in their day, at what cost
    editing     a day's carers, clients, visits and places changed one at a time
"""

from .apply import apply_events
from .events import EventBatch
from .recommend import Recommender, recommend
from .replan import ReplanResult, ReplanSettings, replan

__all__ = ["EventBatch", "Recommender", "ReplanResult", "ReplanSettings", "apply_events", "recommend", "replan"]
