"""The search: from a compiled day to the cheapest plan found in the time allowed.

instance      the problem flattened into arrays of tasks and carers
solution      carers' task sequences, their times and cost (cheap to copy)
records       the named arrays the compiled kernels take
timing        compiled timing of routes: the earliest schedule, breaks, costs (numba)
pricing       compiled pricing of insertions, pushes through partners included (numba)
placing       one visit priced, put in and timed in one compiled call (a repair's step)
insertion     putting visits where they cost least (first plan, repairs)
between_routes  moves between two carers' routes after a repair (relocate, swap, 2-opt*)
budget        when an insertion must stop (the time limit) and who hears from it (cancel)
lns           large-neighbourhood search: remove a related group, put it back better
parallel      several searches on several cores, pooling their best plan
cpsat_model   the CP-SAT model of a few routes (repairs) or of a whole small day
solver        ``solve()``: the pipeline, and writing the public plan
reasons       why a visit is left unassigned, in a coordinator's words
"""

from .solver import plan_from_solution, solve, warm_up

__all__ = ["plan_from_solution", "solve", "warm_up"]
