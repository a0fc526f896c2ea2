"""Solver settings and stop criteria: one typed configuration (``SolveParams``), criteria as
objects, and a plan that says what stopped the search (``SolverInfo``)."""

from __future__ import annotations

import pytest

from carescheduler import (
    InputError,
    MaxIterations,
    MaxRuntime,
    NoImprovement,
    Plan,
    SearchParams,
    SolveParams,
    replan,
    solve,
)
from carescheduler.day import replan as replan_module
from carescheduler.params import ReplanSettings, StopRule, stop_rule
from carescheduler.scenarios.demo import demo_problem
from problem_factory import assert_valid


@pytest.fixture(scope="module")
def day():
    # above the whole-day CP-SAT threshold, so the plan is the search's own
    return demo_problem(clients=24, carers=8, seed=5)


# --- gathering the criteria ----------------------------------------------------------------


def test_criteria_are_gathered_and_the_default_time_limit_always_applies():
    assert stop_rule(None, 10.0) == StopRule(10.0)
    assert stop_rule(MaxIterations(50), 10.0) == StopRule(10.0, 50)
    assert stop_rule([MaxRuntime(3), NoImprovement(40), MaxRuntime(5)], 10.0) == StopRule(3.0, None, 40)
    assert stop_rule(2.5, 10.0) == StopRule(2.5)  # a number is seconds
    assert stop_rule(None, 10.0, time_limit=4, max_iterations=7) == StopRule(4.0, 7)


def test_bad_criteria_name_the_field():
    with pytest.raises(InputError, match="time_limit"):
        stop_rule(MaxRuntime(3), 10.0, time_limit=4)
    with pytest.raises(InputError, match=r"stop\[1\]"):
        stop_rule([MaxRuntime(3), "soon"], 10.0)
    with pytest.raises(InputError, match="seconds"):
        MaxRuntime(-1)
    with pytest.raises(InputError, match="iterations"):
        NoImprovement(0)


# --- parameters from a file ----------------------------------------------------------------


def test_parameters_load_from_toml_and_keep_defaults_elsewhere(tmp_path):
    path = tmp_path / "params.toml"
    path.write_text("[search]\nmin_remove = 5\nmax_remove = 12\n\n[replan]\nfreeze_minutes = 45\n")
    params = SolveParams.load(path)
    assert params.search.min_remove == 5 and params.search.max_remove == 12
    assert params.replan.freeze_minutes == 45
    assert params.construction == SolveParams().construction


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[search]\nbogus = 1\n", "search.bogus"),
        ("[search]\nmin_remove = 9\nmax_remove = 4\n", "max_remove"),
        ("[replan]\nfreeze_minutes = -5\n", "replan.freeze_minutes"),
        ("[search\n", "not TOML"),
    ],
)
def test_bad_parameter_files_name_the_field(tmp_path, text, field):
    path = tmp_path / "params.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        SolveParams.load(path)


# --- solving with them ---------------------------------------------------------------------


def test_an_iteration_budget_repeats_and_says_so(day):
    first = solve(day, MaxIterations(60), seed=4)
    second = solve(day, MaxIterations(60), seed=4)
    assert first.routes == second.routes
    info = first.solver
    assert info.stopped_by == "iterations" and info.iterations == 60 and info.max_iterations == 60
    assert info.time_limit == 10.0 and info.seed == 4 and info.workers == 1
    assert_valid(day, first)


def test_no_improvement_ends_a_search_early(day):
    plan = solve(day, [MaxRuntime(60), NoImprovement(5)], seed=1)
    assert plan.solver.stopped_by == "no_improvement"
    assert plan.solver.no_improvement == 5
    assert 5 <= plan.solver.iterations < 5000
    assert_valid(day, plan)


def test_no_improvement_ends_a_search_on_two_cores(day):
    plan = solve(day, [MaxRuntime(60), NoImprovement(5)], seed=1, workers=2)
    assert plan.solver.stopped_by == "no_improvement"
    assert_valid(day, plan)


def test_the_search_settings_reach_the_search(day):
    # Without CP-SAT repairs and with tiny removals, a fixed budget gives another plan.
    plain = solve(day, MaxIterations(80), seed=2)
    params = SolveParams(search=SearchParams(cpsat_every=0, min_remove=1, max_remove=2))
    tuned = solve(day, MaxIterations(80), seed=2, params=params)
    assert_valid(day, tuned)
    assert plain.routes != tuned.routes


def test_the_old_keywords_still_work_but_not_beside_stop(day):
    plan = solve(day, time_limit=5, max_iterations=10, seed=0)
    assert plan.solver.time_limit == 5 and plan.solver.iterations == 10
    with pytest.raises(InputError, match="time_limit"):
        solve(day, MaxRuntime(5), time_limit=5)
    with pytest.raises(InputError, match="seed"):
        solve(day, MaxIterations(1), seed=-1)


def test_a_replan_stops_by_its_own_defaults_or_the_criteria_given(day):
    plan = solve(day, MaxIterations(30), seed=0)
    absent = {"type": "carer_absent", "carer": day.carers[0].id}
    result = replan(day, plan, [absent], now="07:00", seed=0)
    info = result.plan.solver
    assert info.status == "replan" and info.events == 1 and info.now == 420
    assert info.time_limit == 1.0 and info.no_improvement == 15
    assert_valid(result.problem, result.plan)
    capped = replan(day, plan, [absent], now="07:00", stop=MaxIterations(0))
    assert capped.plan.solver.iterations == 0 and capped.plan.solver.stopped_by == "iterations"
    assert_valid(capped.problem, capped.plan)


def test_replan_settings_alone_or_inside_the_parameters(day, monkeypatch):
    plan = solve(day, MaxIterations(30), seed=0)
    seen = []
    real = replan_module.live_day

    def spy(problem, plan, events, now, settings):
        seen.append(settings)
        return real(problem, plan, events, now, settings)

    monkeypatch.setattr(replan_module, "live_day", spy)
    event = {"type": "carer_delayed", "carer": day.carers[1].id, "minutes": 30}
    replan(day, plan, [event], now="07:00", settings=ReplanSettings(freeze_minutes=45))
    replan(day, plan, [event], now="07:00", params=SolveParams(replan=ReplanSettings(freeze_minutes=50)))
    replan(day, plan, [event], now="07:00")
    assert [s.freeze_minutes for s in seen] == [45, 50, 30]


def test_plans_written_before_solver_info_was_typed_still_load():
    old = {
        "problem": "d",
        "solver": {
            "status": "heuristic",
            "seconds": 1.5,
            "iterations": 10,
            "seed": 0,
            "workers": 1,
            "time_limit": 10.0,
        },
    }
    plan = Plan.model_validate(old)
    assert plan.solver.iterations == 10 and plan.solver.stopped_by is None
    replanned = Plan.model_validate(
        {"solver": {"status": "replan", "seed": 0, "time_limit": 1.0, "now": 540.0, "events": 2, "seconds": 0.4}}
    )
    assert replanned.solver.events == 2
    assert ("status", "replan") in replanned.solver.items()
