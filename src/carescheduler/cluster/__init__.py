"""Work spread over a Ray cluster, for when one machine is not enough (the ``[ray]`` extra).

connection    joining a cluster by its address, with a clear error when Ray is missing
searchers     the pooled search's other searches as Ray actors, kept warm between solves
remote        one library call run as a Ray task, retried when its node is lost
fan_out       many independent solves at once (days, branches), gathered and validated

Nothing here is imported unless a Ray address is given: without one the library runs on
this machine as before and Ray need not be installed.
"""

from .connection import connect, connected_address
from .fan_out import InvalidPlanError, SolveOutcome, solve_many
from .remote import RemoteCall, submit

__all__ = ["InvalidPlanError", "RemoteCall", "SolveOutcome", "connect", "connected_address", "solve_many", "submit"]
