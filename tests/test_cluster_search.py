"""The pooled search on a real Ray cluster (two nodes on loopback, ``ray_cluster.py``).

The searches that a forked run pools run here as Ray actors, one per node: with the same
seeds and a fixed iteration budget the plan must be the forked run's plan exactly (same
rounds, same pooling), the actors on both nodes must have answered, and a node killed in
the middle of a search must still leave a valid plan from the actors left. The command
line's ``--ray`` is the same switch.
"""

from __future__ import annotations

import pytest

from carescheduler.cluster import searchers
from carescheduler.errors import InputError
from carescheduler.params import ParallelParams, SolveParams
from carescheduler.scenarios.demo import demo_problem
from carescheduler.search.parallel import rounds_for
from carescheduler.search.solver import solve
from problem_factory import assert_valid
from test_cli import last_json, run


def _on(address: str) -> SolveParams:
    return SolveParams(parallel=ParallelParams(ray_address=address))


@pytest.fixture(scope="module")
def day():
    # more than the whole-day CP-SAT threshold, so the plan is the pooled search's
    return demo_problem(clients=30, carers=10, seed=3)


def test_actors_on_both_nodes_give_the_forked_runs_plan_for_the_same_seeds(ray_cluster, day, tmp_path) -> None:
    # three searches: this process and an actor on each node (one core each), started
    # first so that their start does not load the machine while the run is timed
    searchers.warm_searchers(ray_cluster.address, 2)
    on_ray = solve(day, time_limit=120, seed=5, workers=3, max_iterations=90, params=_on(ray_cluster.address))
    assert_valid(day, on_ray)
    assert searchers.nodes_that_answered() >= ray_cluster.node_ids()
    # the forked run in a process of its own, which has never joined Ray
    path = tmp_path / "day.json"
    path.write_text(day.model_dump_json())
    forked = run(
        "solve", str(path), "--workers", "3", "--iterations", "90", "--time-limit", "120", "--seed", "5", "--json"
    )
    assert forked.returncode == 0, forked.stderr
    assert on_ray.cost.total == pytest.approx(last_json(forked.stdout)["cost"], abs=1e-5)


def test_a_node_killed_mid_search_still_gives_a_valid_plan(ray_cluster, day) -> None:
    doomed = ray_cluster.workers[0]
    # one actor on each node (spread), so the kill takes one of the two
    assert doomed.node_id in searchers.warm_searchers(ray_cluster.address, 2)
    killed_after: list[int] = []

    def progress(p) -> None:
        # after the first pooled round, kill the second node: its actor is lost mid-search
        if p.phase == "search" and p.iterations > 0 and not killed_after:
            killed_after.append(p.iterations)
            ray_cluster.kill_node(doomed)

    try:
        plan = solve(day, time_limit=12, seed=2, workers=3, params=_on(ray_cluster.address), progress=progress)
    finally:
        ray_cluster.add_node()
    assert killed_after, "the search never reported a round, so no node was killed"
    assert_valid(day, plan)
    assert plan.solver.iterations > killed_after[0]  # the search went on after the loss


def test_an_empty_address_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="ray_address: is empty"):
        solve(demo_problem(clients=30, carers=10), time_limit=5, workers=2, params=_on("  "))


def test_a_searcher_the_cluster_has_no_core_for_is_left_out(ray_cluster, day) -> None:
    # three actors asked of two one-core nodes: one cannot start, and a repeatable run
    # (which waits for its searchers) goes on without it once the start time is up
    params = SolveParams(
        parallel=ParallelParams(ray_address=ray_cluster.address, searcher_start_seconds=5.0),
    )
    plan = solve(day, time_limit=120, seed=6, workers=4, max_iterations=60, params=params)
    assert_valid(day, plan)
    rounds = rounds_for(None, 60)
    assert plan.solver.iterations == 3 * rounds * (60 // rounds)  # three searches' shares, not four


def test_warm_searchers_free_their_cores_when_released(ray_cluster, day) -> None:
    searchers.release_idle()
    solve(day, time_limit=120, seed=1, workers=3, max_iterations=30, params=_on(ray_cluster.address))
    assert searchers.release_idle() == 2  # both kept warm after the search, now stopped
    assert searchers.release_idle() == 0
    cold = SolveParams(parallel=ParallelParams(ray_address=ray_cluster.address, keep_warm_seconds=0))
    solve(day, time_limit=120, seed=1, workers=3, max_iterations=30, params=cold)
    assert searchers.release_idle() == 0  # none kept


def test_the_command_line_searches_on_the_cluster_with_the_forked_runs_result(ray_cluster, tmp_path) -> None:
    searchers.release_idle()  # the cores this process's warm searchers hold go to the command's
    day = tmp_path / "day.json"
    day.write_text(demo_problem(clients=30, carers=10, seed=3).model_dump_json())
    common = ["solve", str(day), "--workers", "3", "--iterations", "90", "--time-limit", "120", "--seed", "4"]
    on_ray = run(*common, "--ray", ray_cluster.address, "--json")
    forked = run(*common, "--json")
    assert on_ray.returncode == 0, on_ray.stderr
    assert forked.returncode == 0, forked.stderr
    assert last_json(on_ray.stdout)["feasible"] is True
    assert last_json(on_ray.stdout)["cost"] == last_json(forked.stdout)["cost"]


def test_the_command_line_names_an_empty_ray_address(tmp_path) -> None:
    day = tmp_path / "day.json"
    day.write_text(demo_problem(clients=4, carers=2).model_dump_json())
    result = run("solve", str(day), "--workers", "2", "--ray", " ")
    assert result.returncode != 0
    assert "ray_address: is empty" in result.stderr
