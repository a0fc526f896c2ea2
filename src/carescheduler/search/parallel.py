"""Search on several cores: independent searches that pool their best plan every round.

One run of the large-neighbourhood search lands far apart from another with a different
seed (on the larger benchmark days, 5% or 10% above the best-known), so extra cores
are spent on more searches rather than on one. The time is split into rounds; in each
round every process improves the pooled best plan with its own random stream, on one
annealing schedule for the whole run, and the best plan of the round is where all of
them go on from. The calling process is one of the searchers. Worker processes are
forked, so they start in milliseconds with the compiled problem and kernels in memory;
where fork is not available the search runs in this process alone. With a Ray address
(``ParallelParams.ray_address``) the other searches are Ray actors on that cluster
instead (``cluster.searchers``), with the same rounds and pooling; a searcher that is
lost or late is dropped and the rest carry on, here or there.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..params import ParallelParams, SolveParams
from .instance import Instance
from .lns import Progress, SearchRun, StoppedBy, initial_temperature, large_neighbourhood_search
from .solution import Solution

__all__ = ["RoundAnswer", "parallel_search", "rounds_for", "search_round"]

RoundAnswer = tuple[np.ndarray, np.ndarray, int, StoppedBy]
"""A searcher's answer to a round: its best routes (R, L), iterations made, what stopped it."""


def rounds_for(seconds: float | None, max_iterations: int | None, params: ParallelParams | None = None) -> int:
    """How many pooling rounds a run of this length gets: rounds last between the
    shortest and longest round, about six in a run."""
    if max_iterations is not None:
        return max(1, min(6, max_iterations // 20))
    params = params or ParallelParams()
    length = min(params.longest_round, max(params.shortest_round, (seconds or 0.0) / 6))
    return max(1, round((seconds or 0.0) / length))


def parallel_search(
    sol: Solution,
    deadline: float,
    seed: int,
    processes: int,
    params: SolveParams | None = None,
    progress: Callable[[Progress], None] | None = None,
    started: float | None = None,
    max_iterations: int | None = None,
    no_improvement: int | None = None,
) -> SearchRun:
    """Improve ``sol`` with ``processes`` searches until ``deadline``; return the best.

    With ``max_iterations`` every search does its share of that many iterations per
    round and the result is repeatable for a given seed and process count. With
    ``no_improvement`` a search stops after that many iterations without bettering the
    plan it started its round from, and the run stops after a round in which every
    search stopped so and the pooled plan did not improve.
    """
    params = params or SolveParams()
    started = time.monotonic() if started is None else started
    helpers = _start_helpers(sol.inst, params, processes - 1) if processes > 1 and sol.inst.n_visits else []
    temperature = initial_temperature(sol, params.search)
    best = sol.copy()
    total_iterations = 0
    stopped_by: StoppedBy = "time"
    try:
        if max_iterations is not None:
            # a repeatable run needs every searcher in every round: wait for slow starters
            until = min(deadline, time.monotonic() + params.parallel.searcher_start_seconds)
            for helper in [helper for helper in helpers if not helper.wait_ready(until)]:
                helper.stop()
                helpers.remove(helper)
        now = time.monotonic()
        n_rounds = rounds_for(deadline - now, max_iterations, params.parallel)
        begun = now
        span = max(1e-3, deadline - now)
        for r in range(n_rounds):
            now = time.monotonic()
            if now >= deadline:
                break
            # a repeatable run's rounds end by iterations alone (a round cut by the clock,
            # say by a searcher compiling kernels, would give another plan): only the
            # deadline stops it
            last = r == n_rounds - 1 or max_iterations is not None
            round_end = deadline if last else begun + span * (r + 1) / n_rounds
            cooling = (r / n_rounds, (r + 1) / n_rounds)
            per_round = None if max_iterations is None else max(1, max_iterations // n_rounds)
            # a searcher still starting (a Ray actor loading the day) joins a later round
            taking_part = [(i, helper) for i, helper in enumerate(helpers, start=1) if helper.ready()]
            for i, helper in taking_part:
                helper.send(
                    (best.R, best.L, round_end, _seed(seed, r, i), temperature, cooling, per_round, no_improvement)
                )
            done = total_iterations
            report = (
                None
                if progress is None
                else (lambda p, done=done: progress(replace(p, iterations=done + p.iterations)))
            )
            own_seed = _seed(seed, r, 0)
            mine = large_neighbourhood_search(
                best,
                round_end,
                np.random.default_rng(own_seed),
                params,
                report,
                started,
                own_seed,
                per_round,
                no_improvement,
                temperature,
                cooling,
            )
            total_iterations += mine.iterations
            candidates = [mine.best]
            reasons = {mine.stopped_by}
            # a repeatable run is defined by its iterations, not the clock: a slow searcher
            # (a Ray actor still loading kernels, a loaded node) is waited for up to the deadline
            answer_by = (deadline if max_iterations is not None else round_end) + params.parallel.grace_seconds
            for _, helper in taking_part:
                answer = helper.receive(answer_by)
                if answer is None:  # lost or too slow: the others carry on without it
                    helper.stop()
                    helpers.remove(helper)
                    continue
                R, L, iterations, reason = answer
                total_iterations += iterations
                reasons.add(reason)
                theirs = sol.copy()
                if theirs.load_routes(R, L):
                    candidates.append(theirs)
            # ties go to the lowest process number, so the result does not depend on timing
            round_best = min(candidates, key=lambda s: s.total)
            improved = round_best.total < best.total - 1e-9
            if improved:
                best = round_best
            if progress is not None:
                progress(
                    Progress(
                        time.monotonic() - started,
                        total_iterations,
                        best.total,
                        len(best.unassigned_visits()),
                        "search",
                    )
                )
            if reasons == {"no_improvement"} and not improved:
                stopped_by = "no_improvement"
                break
            stopped_by = "time" if "time" in reasons else "iterations"
    finally:
        for helper in helpers:
            helper.stop()
    return SearchRun(best, total_iterations, stopped_by)


def _seed(seed: int, round_: int, process: int) -> int:
    return int(np.random.SeedSequence([seed, round_, process]).generate_state(1)[0]) % 2**30


class _Helper:
    """A forked worker process running rounds of the search on request."""

    def __init__(self, inst: Instance, params: SolveParams, ctx):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_helper_loop, args=(child, inst, params), daemon=True)
        self.process.start()
        child.close()

    def ready(self) -> bool:
        return True  # forked with the day in memory

    def wait_ready(self, until: float) -> bool:
        return True

    def send(self, message) -> None:
        self.conn.send(message)

    def receive(self, until: float):
        """The round's answer (R, L, iterations, stopped by), or None if none came by ``until``."""
        try:
            if not self.conn.poll(max(0.0, until - time.monotonic())):
                return None
            answer = self.conn.recv()
        except (EOFError, OSError):
            return None
        if isinstance(answer, str):
            raise RuntimeError(f"a search process failed:\n{answer}")
        return answer

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.process.join(timeout=1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _start_helpers(inst: Instance, params: SolveParams, count: int) -> list:
    if params.parallel.ray_address is not None:
        from ..cluster.searchers import ray_searchers

        return ray_searchers(params.parallel.ray_address, inst, params, count)
    if "fork" not in multiprocessing.get_all_start_methods():
        return []
    ctx = multiprocessing.get_context("fork")
    return [_Helper(inst, params, ctx) for _ in range(count)]


def _helper_loop(conn, inst: Instance, params: SolveParams) -> None:
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            conn.send(search_round(inst, params, *message))
        except Exception:  # report it to the caller rather than die silently
            conn.send(traceback.format_exc())


def search_round(
    inst: Instance,
    params: SolveParams,
    R: np.ndarray,
    L: np.ndarray,
    round_end: float,
    seed: int,
    temperature: float,
    cooling: tuple[float, float],
    max_iterations: int | None,
    no_improvement: int | None,
) -> RoundAnswer:
    """One searcher's round: from the pooled plan (R, L) until ``round_end`` (this
    process's monotonic clock) or its iteration share, on its own random stream."""
    sol = Solution(inst)
    sol.load_routes(R, L)
    run = large_neighbourhood_search(
        sol,
        round_end,
        np.random.default_rng(seed),
        params,
        None,
        None,
        seed,
        max_iterations,
        no_improvement,
        temperature,
        cooling,
    )
    return run.best.R, run.best.L, run.iterations, run.stopped_by
