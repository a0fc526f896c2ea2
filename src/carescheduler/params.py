"""How the solver searches and when it stops: one typed, public configuration.

``SolveParams`` gathers every setting of the search: how a plan is built by insertion,
the large-neighbourhood search and its CP-SAT repairs, the search on several cores, and
how a replan trades disruption against cost. The defaults are the tuned ones; a file
can hold any of them (``SolveParams.load("params.toml")``).

When a run stops is said by criteria objects, in ``stop=``: ``MaxRuntime(seconds)``,
``MaxIterations(n)`` (with a seed, the same plan on every run) and ``NoImprovement(n)``
(n tries in a row without a better plan). A run stops at the first one met, and always
has a time limit: the default one when no ``MaxRuntime`` is given.

    from carescheduler import MaxRuntime, NoImprovement, SolveParams, solve
    plan = solve(problem, stop=[MaxRuntime(30), NoImprovement(5000)], params=SolveParams.load("params.toml"))
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError, describe_validation_error

__all__ = [
    "ConstructionParams",
    "MaxIterations",
    "MaxRuntime",
    "NoImprovement",
    "ParallelParams",
    "ReplanSettings",
    "SearchParams",
    "SolveParams",
    "StopCriterion",
    "StopRule",
    "stop_rule",
]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- stop criteria ----------------------------------------------------------------------


@dataclass(frozen=True)
class MaxRuntime:
    """Stop after ``seconds`` of wall-clock time (the best plan so far is returned)."""

    seconds: float

    def __post_init__(self) -> None:
        if not 0 <= self.seconds <= 24 * 3600:
            raise InputError("seconds", f"must be between 0 and 86400, got {self.seconds}")


@dataclass(frozen=True)
class MaxIterations:
    """Stop after ``iterations`` iterations of each search: with a seed, the plan is the
    same on every run, whatever the machine's load."""

    iterations: int

    def __post_init__(self) -> None:
        if self.iterations < 0:
            raise InputError("iterations", f"must be 0 or more, got {self.iterations}")


@dataclass(frozen=True)
class NoImprovement:
    """Stop after ``iterations`` tries in a row that find no better plan."""

    iterations: int

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise InputError("iterations", f"must be 1 or more, got {self.iterations}")


StopCriterion = MaxRuntime | MaxIterations | NoImprovement
"""Any stop criterion."""


@dataclass(frozen=True)
class StopRule:
    """The criteria of one run, gathered: it stops at the first one met."""

    seconds: float
    iterations: int | None = None
    no_improvement: int | None = None


def stop_rule(stop: object, default_seconds: float, **shorthand: float | int | None) -> StopRule:
    """Gather ``stop`` (a criterion, a list of them, a number of seconds, or None for the
    default) into a ``StopRule``. ``shorthand`` holds the older keywords (``time_limit``,
    ``max_iterations``), which may not be mixed with ``stop``; without a ``MaxRuntime``
    the run gets ``default_seconds``."""
    given = {name: value for name, value in shorthand.items() if value is not None}
    if stop is not None and given:
        name = next(iter(given))
        raise InputError(name, f"give the stop criteria in stop= or {name}=, not both")
    if stop is None:
        stop = []
    if isinstance(stop, int | float) and not isinstance(stop, bool):
        stop = [MaxRuntime(float(stop))]
    if not isinstance(stop, Sequence):
        stop = [stop]
    if "time_limit" in given:
        stop = [*stop, MaxRuntime(float(given["time_limit"]))]
    if "max_iterations" in given:
        stop = [*stop, MaxIterations(int(given["max_iterations"]))]
    seconds, iterations, no_improvement = None, None, None
    for i, criterion in enumerate(stop):
        if isinstance(criterion, MaxRuntime):
            seconds = criterion.seconds if seconds is None else min(seconds, criterion.seconds)
        elif isinstance(criterion, MaxIterations):
            iterations = criterion.iterations if iterations is None else min(iterations, criterion.iterations)
        elif isinstance(criterion, NoImprovement):
            no_improvement = (
                criterion.iterations if no_improvement is None else min(no_improvement, criterion.iterations)
            )
        else:
            raise InputError(
                f"stop[{i}]", f"{criterion!r} is not a stop criterion (MaxRuntime, MaxIterations, NoImprovement)"
            )
    return StopRule(default_seconds if seconds is None else seconds, iterations, no_improvement)


# --- how the search works ---------------------------------------------------------------


class ConstructionParams(_Params):
    """Putting visits into a plan where they cost least (the first plan, the search's
    repairs, replanning)."""

    pair_candidates: int = Field(
        8, ge=1, description="cheapest carers per part combined when pairing the two carers of a double-handed visit"
    )
    max_retries: int = Field(
        3,
        ge=0,
        description="tries of a visit whose cheapest placement broke a rule the "
        "pricing could not see (a break, a partner's knock-on)",
    )
    exact_candidates: int = Field(
        256,
        ge=1,
        description="placements the slow exact pricing tries, at most, for a "
        "visit the compiled pricing could not place",
    )
    batch: int = Field(60, ge=1, description="past this many pending visits, visits go in in batches by window")
    in_order_min_tasks: int = Field(
        2000,
        ge=0,
        description="from this many carer-visits on, the first plan puts visits in one at a "
        "time (double-handed first, then by window) instead of by regret, which prices "
        "every pending visit again after each placement",
    )
    first_plan_carers: int = Field(
        20,
        ge=0,
        description="carers a big day's first plan prices each single-handed visit on in full: "
        "those its detour and pairing cost least (every carer when none of them can take "
        "it; 0: every carer)",
    )
    exact_max_tasks: int = Field(
        2000,
        ge=0,
        description="above this many carer-visits the first plan skips the "
        "exact pricing (the search retries those visits)",
    )


class SearchParams(_Params):
    """The large-neighbourhood search and its CP-SAT repairs."""

    min_remove: int = Field(3, ge=1, description="fewest visits taken out per iteration")
    max_remove: int = Field(30, ge=1, description="most visits taken out per iteration")
    start_temperature: float = Field(
        1.0, ge=0, description="annealing start, as a share of the first plan's soft cost per visit"
    )
    in_order_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of repairs that put visits back one at a time (the rest use regret insertion)",
    )
    exact_retry: float = Field(
        0.1,
        ge=0,
        le=1,
        description="chance per iteration that a visit left out before gets the slow exact pricing again",
    )
    between_routes_tries: int = Field(
        200,
        ge=0,
        description="after each repair, most moves between routes (relocate, swap, 2-opt*) timed "
        "around the visits put back (0: none)",
    )
    cpsat_every: int = Field(
        200, ge=0, description="iterations between CP-SAT route repairs at the start (it adapts; 0: never)"
    )
    cpsat_routes: int = Field(3, ge=2, description="routes per CP-SAT repair")
    cpsat_seconds: float = Field(0.5, gt=0, description="time per CP-SAT repair")
    cpsat_build_seconds: float = Field(
        1.0,
        gt=0,
        description="a CP-SAT repair whose model would take longer than this to build "
        "(long routes: it grows with the square of a route's visits) is skipped",
    )
    cpsat_workers: int = Field(1, ge=1, description="CP-SAT threads per repair")
    full_model_max_tasks: int = Field(
        40,
        ge=0,
        description="days with at most this many carer-visits are also "
        "given whole to CP-SAT, which can prove them optimal",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SearchParams:
        if self.max_remove < self.min_remove:
            raise ValueError(f"max_remove: {self.max_remove} is below min_remove ({self.min_remove})")
        return self


class ParallelParams(_Params):
    """Searches on several cores (``workers`` > 1), pooling their best plan every round,
    on this machine or on a Ray cluster."""

    shortest_round: float = Field(1.5, gt=0, description="seconds; within the bounds a run has about six rounds")
    longest_round: float = Field(15.0, gt=0, description="seconds")
    grace_seconds: float = Field(
        2.0, ge=0, description="how long past a round's end a search process may take to answer before it is given up"
    )
    ray_address: str | None = Field(
        None,
        description=(
            "where the other searches (and a fan-out's solves) run: unset, forked processes on this machine;"
            " a Ray cluster's address ('host:port', 'auto', or 'local' for a Ray started here), Ray actors"
            " and tasks on it (needs the [ray] extra)"
        ),
    )
    searcher_start_seconds: float = Field(
        60.0,
        gt=0,
        description=(
            "how long a repeatable run (MaxIterations) waits for a Ray searcher to start (a cluster may have no core"
            " free) before going on without it; other runs never wait, a late starter joins a later round"
        ),
    )
    keep_warm_seconds: float = Field(
        60.0,
        ge=0,
        description=(
            "how long a Ray searcher stays up after a search, holding its core, so that the next search skips its"
            " start (seconds of loading); 0 stops it at once"
        ),
    )
    task_retries: int = Field(
        2, ge=0, le=10, description="how many times a solve sent to a Ray cluster is run again when its node is lost"
    )

    @model_validator(mode="after")
    def _ordered(self) -> ParallelParams:
        if self.longest_round < self.shortest_round:
            raise ValueError(f"longest_round: {self.longest_round} is below shortest_round ({self.shortest_round})")
        return self


class ReplanSettings(_Params):
    """How a replan trades disruption against the plan's own cost."""

    freeze_minutes: float = Field(
        30.0, ge=0, description="visits starting this soon after now stay with their carer (they may be on the way)"
    )
    tolerance_minutes: float = Field(
        15.0, ge=0, description="a start may move this much without counting as moved (or being reported as retimed)"
    )
    reassign_cost: float = Field(
        100.0,
        ge=0,
        description="cost of giving a planned visit to another carer, in objective units (a travel minute is 1)",
    )
    search_share: float = Field(
        0.75,
        gt=0,
        le=1,
        description="share of the time limit the search may use; setting up and writing the answer take the rest",
    )


class SolveParams(_Params):
    """Every setting of the solver, in one place. Defaults are the tuned ones."""

    construction: ConstructionParams = Field(default_factory=ConstructionParams)
    search: SearchParams = Field(default_factory=SearchParams)
    parallel: ParallelParams = Field(default_factory=ParallelParams)
    replan: ReplanSettings = Field(default_factory=ReplanSettings)

    def on_ray(self, address: str | None) -> SolveParams:
        """These settings with the searches on the Ray cluster at ``address`` (None: here)."""
        return self.model_copy(update={"parallel": self.parallel.model_copy(update={"ray_address": address})})

    @classmethod
    def load(cls, path: str | Path) -> SolveParams:
        """Read parameters from a TOML file (sections ``[construction]``, ``[search]``,
        ``[parallel]``, ``[replan]``; anything left out keeps its default)."""
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise InputError("", f"not TOML: {error}", str(path)) from None
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise describe_validation_error(error, str(path)) from None
