"""The scenario generator: the days it makes have the shape its docstring promises.

Shares are checked on one large day with tolerances wide enough for sampling noise but
narrow enough that a broken rule (no double-ups, 15-minute personal care, everyone
walking) fails.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from carescheduler import solve, validate
from carescheduler.domain import Gender, TravelMode
from carescheduler.formats import problem_to_json
from carescheduler.scenarios.generator import DaySettings, generate_day, generate_from_roads
from conftest import OSM

SETTINGS = DaySettings()


def _places(seed: int = 0) -> np.ndarray:
    """A town, two villages and a rural scatter (lon, lat), like road junctions."""
    rng = np.random.default_rng(seed)
    town = np.column_stack([9.52 + rng.normal(0, 0.006, 600), 47.14 + rng.normal(0, 0.004, 600)])
    villages = [
        np.column_stack([x + rng.normal(0, 0.003, 120), y + rng.normal(0, 0.002, 120)])
        for x, y in ((9.56, 47.20), (9.49, 47.10))
    ]
    rural = np.column_stack([rng.uniform(9.45, 9.62, 150), rng.uniform(47.05, 47.25, 150)])
    return np.vstack([town, *villages, rural])


@pytest.fixture(scope="module")
def big_day():
    return generate_day(_places(), visits=3000, carers=240, seed=4)


def test_counts_are_exact_and_the_day_validates(big_day) -> None:
    assert len(big_day.visits) == 3000
    assert len(big_day.carers) == 240
    ids = {c.id for c in big_day.clients}
    assert all(v.client in ids for v in big_day.visits)


def test_same_seed_same_day_other_seed_other_day() -> None:
    a = generate_day(_places(), visits=80, carers=7, seed=1)
    b = generate_day(_places(), visits=80, carers=7, seed=1)
    c = generate_day(_places(), visits=80, carers=7, seed=2)
    assert problem_to_json(a) == problem_to_json(b)
    assert problem_to_json(a) != problem_to_json(c)


def test_calls_fall_in_their_rounds_with_the_promised_durations(big_day) -> None:
    rounds = {r.name: r for r in SETTINGS.rounds}
    for v in big_day.visits:
        rnd = rounds[v.id.rsplit("-", 1)[1]]
        assert rnd.opens - 30 <= v.window.start <= v.window.end <= rnd.closes - v.duration
        assert v.window.start <= v.target.start <= v.target.end <= v.window.end
        assert v.duration in (15, 30, 45, 60)
        if v.duration == 15:
            assert "medication" in v.skills, "15 minutes is only for checks such as medication prompts"
    minutes = Counter()
    for v in big_day.visits:
        minutes[v.id.rsplit("-", 1)[1]] += v.duration * v.carers_needed
    assert minutes["morning"] == max(minutes.values()), "the morning round is the heaviest"
    share_15 = sum(v.duration == 15 for v in big_day.visits) / len(big_day.visits)
    assert 0.05 <= share_15 <= 0.25


def test_double_ups_skills_and_gender_rules(big_day) -> None:
    visits = big_day.visits
    doubles = [v for v in visits if v.carers_needed == 2]
    assert 0.08 <= len(doubles) / len(visits) <= 0.16
    assert all("hoist" in v.skills for v in doubles)
    needing_female = sum(c.gender_requirement == Gender.female for c in big_day.clients) / len(big_day.clients)
    assert 0.18 <= needing_female <= 0.32
    female_carers = sum(c.gender == Gender.female for c in big_day.carers) / len(big_day.carers)
    assert 0.72 <= female_carers <= 0.92
    for skill in SETTINGS.skills:
        assert any(skill in c.skills for c in big_day.carers), skill
    # female-only clients' history holds only women
    carers = {c.id: c for c in big_day.carers}
    for client in big_day.clients:
        if client.gender_requirement == Gender.female:
            assert all(carers[h].gender == Gender.female for h in client.historical_carers)
        assert not set(client.banned_carers) & set(client.historical_carers)


def test_carers_have_split_shifts_walkers_and_breaks(big_day) -> None:
    kinds = Counter(len(c.shifts) for c in big_day.carers)
    assert kinds[2] > 0 and kinds[1] > 0
    walkers = [c for c in big_day.carers if c.travel_mode == TravelMode.walk]
    assert 0 < len(walkers) < len(big_day.carers) / 2
    for c in big_day.carers:
        total = sum(s.end - s.start for s in c.shifts)
        assert c.max_working_minutes == total and 0 < c.contracted_minutes <= total
        assert c.break_rule is not None and c.break_rule.after_minutes == 360


def test_clients_cluster_in_towns_with_a_rural_tail(big_day) -> None:
    loc = {x.id: x for x in big_day.locations}
    lon = np.array([loc[c.location].lon for c in big_day.clients])
    lat = np.array([loc[c.location].lat for c in big_day.clients])
    in_town = (np.abs(lon - 9.52) < 0.02) & (np.abs(lat - 47.14) < 0.013)
    assert in_town.mean() > 0.6
    assert (~in_town).sum() > 0.05 * len(lon)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one visit"):
        generate_day(_places(), visits=0, carers=3)
    with pytest.raises(ValueError, match="places"):
        generate_day(np.zeros((0, 2)), visits=5, carers=1)


def test_a_day_on_real_roads_solves_to_a_valid_plan(tmp_path) -> None:
    problem = generate_from_roads(OSM / "lauf-20200115.drive.osm.bz2", visits=40, carers=4, seed=2, cache_dir=tmp_path)
    assert {m.mode for m in problem.travel} == {c.travel_mode for c in problem.carers}
    assert not any(m.estimated for m in problem.travel)
    minutes = np.asarray(problem.travel[0].minutes)
    assert minutes.shape == (len(problem.locations),) * 2 and (minutes >= 0).all()
    plan = solve(problem, time_limit=5, max_iterations=30)
    assert validate(problem, plan).valid
    assert not plan.kpis.travel_estimated
