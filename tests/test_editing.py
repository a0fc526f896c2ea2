"""Editing a day one carer, client, visit or place at a time (carescheduler.day.editing)."""

from __future__ import annotations

import numpy as np
import pytest

from carescheduler import InputError
from carescheduler.day.editing import entity, put_entity, remove_entity
from carescheduler.domain import Carer, Client, Location, Visit
from carescheduler.search.solver import solve
from problem_factory import assert_valid, carer, client, location, make_problem, matrix_from_coords, visit

COORDS = [(0, 0), (10, 0), (0, 10), (10, 10)]


def _day():
    return make_problem(
        [
            location("office", *COORDS[0]),
            location("a", *COORDS[1]),
            location("b", *COORDS[2]),
            location("c", *COORDS[3]),
        ],
        [carer("ann", skills=["meds"]), carer("bob")],
        [client("c1", "a", historical_carers=["ann"]), client("c2", "b")],
        [visit("v1", "c1", start=480, end=540), visit("v2", "c2", start=500, end=600, pinned_carers=["bob"])],
        travel=matrix_from_coords(COORDS),
    )


def test_adding_a_visit_returns_a_new_valid_problem_and_leaves_the_old_alone():
    day = _day()
    new, added = put_entity(day, "visits", Visit.model_validate(visit("v3", "c2", duration=45, start=600, end=700)))
    assert added and [v.id for v in new.visits] == ["v1", "v2", "v3"]
    assert [v.id for v in day.visits] == ["v1", "v2"]
    assert_valid(new, solve(new, time_limit=2, seed=1))


def test_replacing_keeps_the_order_and_says_it_was_not_added():
    day = _day()
    changed = entity(day, "carers", "bob").model_copy(update={"skills": ["meds", "hoist"]})
    new, added = put_entity(day, "carers", changed)
    assert not added
    assert [c.id for c in new.carers] == ["ann", "bob"] and new.carer("bob").skills == ["meds", "hoist"]


def test_a_visit_for_an_unknown_client_is_refused_naming_the_visit_and_field():
    with pytest.raises(InputError) as caught:
        put_entity(_day(), "visits", Visit.model_validate(visit("v9", "nobody")))
    assert caught.value.field.startswith("visits/v9") and "client" in caught.value.field
    assert "nobody" in caught.value.reason


def test_an_unknown_skill_is_refused():
    with pytest.raises(InputError, match="unknown skill 'juggling'"):
        put_entity(_day(), "carers", Carer.model_validate(carer("cid", skills=["juggling"])))


def test_a_new_place_gets_travel_times_from_its_coordinates_calibrated_to_the_day():
    day = _day()
    new, added = put_entity(day, "locations", Location(id="d", x=20, y=0))
    minutes = np.asarray(new.travel[0].minutes)
    assert added and minutes.shape == (5, 5)
    assert np.array_equal(minutes[:4, :4], np.asarray(day.travel[0].minutes))  # known times kept
    assert minutes[1, 4] == pytest.approx(10, abs=0.5) and minutes[4, 0] == pytest.approx(20, abs=0.5)
    with_client, _ = put_entity(new, "clients", Client(id="c3", location="d"))
    assert with_client.client("c3").location == "d"


def test_a_new_place_without_coordinates_is_refused():
    with pytest.raises(InputError, match="needs lat/lon") as caught:
        put_entity(_day(), "locations", Location(id="d", address="1 High St"))
    assert caught.value.field == "locations/d"


def test_moving_a_place_with_given_road_times_is_refused_but_its_address_may_change():
    day = _day()
    with pytest.raises(InputError, match="stale"):
        put_entity(day, "locations", Location(id="a", x=50, y=50))
    new, _ = put_entity(day, "locations", Location(id="a", x=10, y=0, address="2 Mill Lane"))
    assert new.locations[1].address == "2 Mill Lane" and new.travel == day.travel


def test_removing_something_still_referred_to_names_the_referrers():
    day = _day()
    with pytest.raises(InputError, match="visits/v1") as caught:
        remove_entity(day, "clients", "c1")
    assert caught.value.field == "clients/c1"
    with pytest.raises(InputError, match=r"clients/c1\.historical_carers.*no shifts"):
        remove_entity(day, "carers", "ann")
    with pytest.raises(InputError, match=r"visits/v2\.pinned_carers"):
        remove_entity(day, "carers", "bob")


def test_removing_a_visit_then_its_client_then_the_place():
    day = remove_entity(remove_entity(_day(), "visits", "v1"), "clients", "c1")
    day = remove_entity(day, "locations", "a")
    assert [x.id for x in day.locations] == ["office", "b", "c"]
    kept = [0, 2, 3]
    assert np.array_equal(np.asarray(day.travel[0].minutes), np.asarray(matrix_from_coords(COORDS))[np.ix_(kept, kept)])
    assert_valid(day, solve(day, time_limit=2, seed=1))


def test_asking_for_something_that_is_not_there():
    with pytest.raises(InputError, match="no visit 'v7'"):
        entity(_day(), "visits", "v7")
    with pytest.raises(InputError, match="no client 'c9'"):
        remove_entity(_day(), "clients", "c9")
