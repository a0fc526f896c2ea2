"""Many solves at once on a real Ray cluster (two nodes on loopback, one core each:
``ray_cluster.py``): a week's days planned one by one as Ray tasks.

With the same seeds and a fixed iteration budget each day's plan must be the one this
process makes alone. A node killed while its task runs must cost a retry, not a day:
a task here blocks on its first run on the second node until that node is killed, and
every day must still come back once, valid. Results arrive in no set order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import threading
from pathlib import Path

import pytest

from carescheduler.cluster import InvalidPlanError, SolveOutcome, solve_many
from carescheduler.cluster.fan_out import solve_task
from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.params import MaxIterations, MaxRuntime, ParallelParams, SolveParams
from carescheduler.roster import Roster, days_from_roster, plan_week
from carescheduler.scenarios.demo import demo_problem
from carescheduler.search.solver import solve
from carescheduler.validator import validate
from conftest import SCENARIOS

MONDAY = dt.date(2027, 1, 4)
STOP = [MaxRuntime(60), MaxIterations(20)]
"""A fixed iteration budget: the same plan on any machine, however loaded."""
BLOCK_SECONDS = 120.0
"""How long a task waits for its node to be killed, or the test for a task to start on
that node, before giving up (and the test fails)."""


def _routes(plan):
    return [[(v.visit, v.part) for v in r.visits] for r in plan.routes]


def _on(address: str, **parallel: object) -> SolveParams:
    return SolveParams(parallel=ParallelParams(ray_address=address, **parallel))


@pytest.fixture(scope="module")
def roster() -> Roster:
    with gzip.open(SCENARIOS / "small-roster.json.gz", "rt", encoding="utf-8") as handle:
        return Roster.model_validate_json(handle.read())


@pytest.fixture(scope="module")
def week(roster) -> dict[dt.date, Problem]:
    """Seven days of about 60 calls and 5 carers."""
    return days_from_roster(roster, MONDAY, MONDAY + dt.timedelta(days=6))


def test_a_week_fanned_out_is_seven_valid_days_each_the_plan_made_here(ray_cluster, roster, week) -> None:
    heard: list[tuple[dt.date, int, int]] = []
    fanned = plan_week(
        roster, week, weekly=False, stop=STOP, seed=4, params=_on(ray_cluster.address),
        on_day_planned=lambda date, done, total: heard.append((date, done, total)),
    )  # fmt: skip
    here = plan_week(roster, week, weekly=False, stop=STOP, seed=4)
    assert list(fanned.plans) == sorted(week) == list(fanned.problems)
    for date, plan in fanned.plans.items():
        assert validate(week[date], plan).valid, date
        assert _routes(plan) == _routes(here.plans[date]), date
        assert plan.cost.total == pytest.approx(here.plans[date].cost.total)
    assert sorted(date for date, _, _ in heard) == sorted(week)  # once a day, in the order they finished
    assert [(done, total) for _, done, total in heard] == [(n, 7) for n in range(1, 8)]
    assert fanned.report.days.keys() == here.report.days.keys()
    assert fanned.report.valid == here.report.valid
    assert not fanned.weekly and fanned.notes == []


def test_every_key_comes_back_once_even_the_same_day_under_two_keys(ray_cluster, week) -> None:
    problems: dict[object, Problem] = {("a", d): week[d] for d in sorted(week)[:3]}
    problems["twin"] = week[MONDAY]
    solved: list[object] = []
    outcomes = solve_many(
        problems, STOP, address=ray_cluster.address, seed=1, on_solved=lambda key, *_: solved.append(key)
    )
    assert list(outcomes) == list(problems)  # the order asked for, whatever the order solved
    assert sorted(map(str, solved)) == sorted(map(str, problems))
    assert len(solved) == len(set(solved)) == len(problems)
    for key, outcome in outcomes.items():
        assert isinstance(outcome, SolveOutcome)
        assert outcome.report.valid and validate(problems[key], outcome.plan).valid
        assert outcome.node in ray_cluster.node_ids()
        assert outcome.seconds > 0
    assert _routes(outcomes["twin"].plan) == _routes(outcomes[("a", MONDAY)].plan)


def plan_of_another_day(other: Problem):
    """A task that answers with the plan of ``other``, not of the problem it was given."""

    def task(problem, stop, params, seed):
        return solve_task(other, stop, params, seed)

    return task


def test_a_plan_the_validator_rejects_is_an_error_not_an_answer(ray_cluster, week) -> None:
    monday, tuesday = sorted(week)[:2]
    with pytest.raises(InvalidPlanError, match="is not valid") as raised:
        solve_many({monday: week[monday]}, STOP, address=ray_cluster.address, task=plan_of_another_day(week[tuesday]))
    assert raised.value.key == monday
    assert not raised.value.report.valid


@pytest.mark.parametrize("address", ["", "   "])
def test_an_empty_address_is_an_input_error_naming_ray_address(address) -> None:
    with pytest.raises(InputError) as raised:
        solve_many({"a": demo_problem(clients=4, carers=2)}, 1.0, address=address)
    assert raised.value.field == "ray_address"


def test_a_week_one_by_one_with_an_empty_address_says_so(roster, week) -> None:
    with pytest.raises(InputError) as raised:
        plan_week(roster, week, weekly=False, stop=STOP, params=_on(" "))
    assert raised.value.field == "ray_address"


def test_something_not_a_problem_is_an_input_error_naming_its_key() -> None:
    problems = {"ok": demo_problem(clients=4, carers=2), "monday": {"visits": []}}
    with pytest.raises(InputError) as raised:
        solve_many(problems, 1.0, address="127.0.0.1:1")  # type: ignore[dict-item]
    assert raised.value.field == "problems['monday']"
    assert "dict, not a Problem" in str(raised.value)


def test_a_bad_stop_is_said_before_any_task_is_sent() -> None:
    with pytest.raises(InputError) as raised:
        solve_many({"a": demo_problem(clients=4, carers=2)}, ["soon"], address="127.0.0.1:1")  # type: ignore[list-item]
    assert raised.value.field == "stop[0]"


# --- last: these lose Ray workers (a killed node, cancelled tasks), which later tests would wait for


class NodeLoss:
    """The second node lost while a task runs on it, deterministically.

    The task (``task``) records each run (by problem name) under ``marks``; a problem's
    first run on the doomed node then raises a flag (an actor on the head, as in Ray's own
    tests) and blocks until its node is killed. ``on_solved`` waits for that flag at the
    first result, then kills the node, so the kill always finds the task running.

    Ray may keep every task on the head, whose worker it leases again and again (seen in a
    full test run: the other node stayed idle), so the head's core is held until the flag
    is raised: the first task has to start on the doomed node.
    """

    def __init__(self, cluster, marks: Path):
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.cluster, self.marks = cluster, marks
        self.doomed = cluster.workers[0]
        self.killed_after: list[int] = []
        on_head = NodeAffinitySchedulingStrategy(cluster.head_id(), soft=False)
        self.flag = ray.remote(num_cpus=0, scheduling_strategy=on_head)(Flag).remote()
        marks.mkdir()
        held = cluster.hold_core(cluster.head_id())
        threading.Thread(target=self._free_the_head, args=(held,), daemon=True).start()

    def _free_the_head(self, held) -> None:
        """Let the head take tasks again once one is blocked on the doomed node."""
        import ray

        try:
            ray.get(self.flag.wait.remote(), timeout=BLOCK_SECONDS)
        finally:
            ray.kill(held)

    @property
    def task(self):
        doomed, marks, flag = self.doomed.node_id, self.marks, self.flag

        def task(problem, stop, params, seed):
            import ray

            here = ray.get_runtime_context().get_node_id()
            runs = marks / problem.name
            first = not runs.exists()
            with runs.open("a", encoding="utf-8") as handle:
                handle.write(here + "\n")
            if first and here == doomed:
                ray.get(flag.raise_.remote())
                threading.Event().wait(BLOCK_SECONDS)
            return solve_task(problem, stop, params, seed)

        return task

    def on_solved(self, key, done, total) -> None:
        import ray

        if self.killed_after:
            return
        ray.get(self.flag.wait.remote(), timeout=BLOCK_SECONDS)  # a task is blocked on the doomed node
        self.killed_after.append(done)
        self.cluster.kill_node(self.doomed)

    def runs(self) -> dict[str, list[str]]:
        """Problem name -> the nodes its runs were on, first first."""
        return {f.name: f.read_text(encoding="utf-8").split() for f in self.marks.iterdir()}

    def lost(self) -> list[str]:
        """The problems whose first run was on the doomed node."""
        return [name for name, nodes in self.runs().items() if nodes[0] == self.doomed.node_id]


class Flag:
    """Raised once, waited for by anyone (a Ray actor)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def raise_(self) -> None:
        self.event.set()

    async def wait(self) -> None:
        await self.event.wait()


def test_a_task_lost_with_its_node_is_run_again_and_every_day_comes_back_once(ray_cluster, week, tmp_path) -> None:
    loss = NodeLoss(ray_cluster, tmp_path / "runs")
    by_name = {week[d].name: d for d in week}
    try:
        outcomes = solve_many(
            week, STOP, address=ray_cluster.address, seed=2, retries=2, on_solved=loss.on_solved, task=loss.task
        )
    finally:
        ray_cluster.add_node()
    assert loss.killed_after == [1]
    assert list(outcomes) == list(week)
    runs = loss.runs()
    assert sorted(runs) == sorted(by_name)
    [lost] = loss.lost()  # the doomed node had one core: one task ran there
    # its first run was on the killed node; it ran again elsewhere, and that run's plan came back
    assert len(runs[lost]) == 2
    assert runs[lost][1] != loss.doomed.node_id
    assert outcomes[by_name[lost]].node == runs[lost][1]
    assert _routes(outcomes[by_name[lost]].plan) == _routes(solve(week[by_name[lost]], STOP, seed=2))
    for date, outcome in outcomes.items():
        assert validate(week[date], outcome.plan).valid, date


def test_with_no_retries_a_lost_task_is_an_error_naming_its_day(ray_cluster, week, tmp_path) -> None:
    loss = NodeLoss(ray_cluster, tmp_path / "runs")
    try:
        with pytest.raises(RuntimeError, match="the cluster lost") as raised:
            solve_many(week, STOP, address=ray_cluster.address, retries=0, on_solved=loss.on_solved, task=loss.task)
    finally:
        ray_cluster.add_node()
    assert loss.killed_after == [1]
    [lost] = loss.lost()
    day = next(d for d in week if week[d].name == lost)
    assert str(raised.value).startswith(f"{day!r}: ")
    assert len(loss.runs()[lost]) == 1  # never run again


class Enough(Exception):
    pass


def test_raising_in_on_solved_stops_the_rest(ray_cluster, week) -> None:
    heard: list[object] = []

    def on_solved(key, done, total) -> None:
        heard.append(key)
        raise Enough

    with pytest.raises(Enough):
        solve_many(week, STOP, address=ray_cluster.address, on_solved=on_solved)
    assert len(heard) == 1
