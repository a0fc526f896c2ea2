"""Many independent solves at once (a week's days planned one by one, a replan's
branches): each problem a Ray task, gathered as they finish, each plan checked here.

A task runs again, up to ``retries`` times, when its node or worker is lost (Ray's
``max_retries``), so a lost machine costs time, not a day. The plans come from other
machines, so each is checked in this process by the independent validator before it is
handed back: an invalid plan is an error, never an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..domain import Problem
from ..errors import InputError
from ..params import SolveParams, StopCriterion, stop_rule
from ..plan import Plan
from ..search.solver import DEFAULT_SECONDS, solve
from ..validator import ValidationReport, validate
from .remote import RemoteCall, submit, wait_any

__all__ = ["InvalidPlanError", "SolveOutcome", "solve_many", "solve_task"]

K = TypeVar("K", bound=Hashable)

Stop = float | StopCriterion | Sequence[StopCriterion] | None
"""When each solve stops: seconds, or the solver's stop criteria (``solve``'s ``stop``)."""

POLL_SECONDS = 1.0
"""How long one wait for the next finished task lasts (an interrupt is heard between)."""


@dataclass(frozen=True)
class SolveOutcome:
    """One problem's answer: the plan, its validator report (always valid), and where and
    how long it was solved (the seconds are the task's own, not counting the queue)."""

    plan: Plan
    report: ValidationReport
    seconds: float
    node: str
    """The Ray node that solved it (after a lost node, the one that ran the retry)."""


class InvalidPlanError(RuntimeError):
    """A task's plan failed the validator: a bug in the solver, or a mismatched install."""

    def __init__(self, key: object, report: ValidationReport):
        self.key, self.report = key, report
        first = report.violations[0].message if report.violations else "no violation named"
        super().__init__(f"the plan for {key!r} is not valid ({len(report.violations)} violations; first: {first})")


def solve_task(problem: Problem, stop: Stop, params: SolveParams | None, seed: int) -> tuple[Plan, float, str]:
    """What a task runs: one ``solve`` on one core, with the seconds it took and the node."""
    import ray

    started = time.monotonic()
    plan = solve(problem, stop, params=params, seed=seed)
    return plan, time.monotonic() - started, ray.get_runtime_context().get_node_id()


def solve_many(
    problems: Mapping[K, Problem],
    stop: Stop = None,
    *,
    address: str,
    seed: int = 0,
    params: SolveParams | None = None,
    retries: int = 2,
    on_solved: Callable[[K, int, int], None] | None = None,
    task: Callable[..., tuple[Plan, float, str]] = solve_task,
) -> dict[K, SolveOutcome]:
    """Solve each of ``problems`` as a task on the Ray cluster at ``address`` (each with
    ``seed``, ``stop`` and ``params``, one core, as ``solve`` would here) and return their
    outcomes by key, in the order of ``problems``.

    After each plan is validated, ``on_solved(key, solved so far, total)`` is called if
    given; raising there stops the rest (their tasks are cancelled) and is raised on, as
    is any task's error (the key named). ``task`` is what each task runs (``solve_task``'s
    signature): tests swap in one that misbehaves. Raises ``InputError`` for an empty
    address or a value that is not a ``Problem``, ``InvalidPlanError`` for a plan the
    validator rejects.
    """
    if not isinstance(address, str) or not address.strip():
        raise InputError("ray_address", "is empty: give 'host:port', 'auto' or 'local'")
    for key, problem in problems.items():
        if not isinstance(problem, Problem):
            raise InputError(f"problems[{key!r}]", f"is a {type(problem).__name__}, not a Problem")
    if retries < 0:
        raise InputError("retries", f"must be 0 or more, got {retries}")
    if seed < 0:
        raise InputError("seed", f"must be 0 or more, got {seed}")
    stop_rule(stop, DEFAULT_SECONDS)  # a bad stop is said here, not by every task
    pending: dict[RemoteCall[Any], K] = {}
    outcomes: dict[K, SolveOutcome] = {}
    try:
        for key, problem in problems.items():
            pending[submit(address, task, problem, stop, params, seed, retries=retries)] = key
        while pending:
            for call in wait_any(list(pending), POLL_SECONDS):
                key = pending.pop(call)
                outcomes[key] = _outcome(key, problems[key], call)
                if on_solved is not None:
                    on_solved(key, len(outcomes), len(problems))
    except BaseException:
        for call in pending:
            call.cancel()
        raise
    return {key: outcomes[key] for key in problems}


def _outcome(key: object, problem: Problem, call: RemoteCall[Any]) -> SolveOutcome:
    try:
        plan, seconds, node = call.result()
    except RuntimeError as error:  # lost more often than it may be retried, or cancelled
        raise RuntimeError(f"{key!r}: {error}") from None
    report = validate(problem, plan)
    if not report.valid:
        raise InvalidPlanError(key, report)
    return SolveOutcome(plan=plan, report=report, seconds=seconds, node=node)
