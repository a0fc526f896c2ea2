"""Planning a range of days over HTTP (``POST /v1/weeks/plan``), on SQLite and PostgreSQL:
the stored days planned together with the organisation's roster, its history of published
plans and check-ins (``api/care_history.py``) and the published days of the same weeks,
a draft plan per date, and the job's result (the week's report and figures).

A tiny roster: three carers living together, two clients with a morning and an evening
call each. The weeks before hold one published day on which ann was sent to both clients
and bob checked in at x's visits instead.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import carescheduler.roster
from api import care_history as history_store
from api import store
from api.cache import plan_of, stored_problem
from api.db import transaction
from api.models import PlanRow
from carescheduler import warm_up
from carescheduler.plan import Plan
from carescheduler.roster import Roster, day_from_roster
from carescheduler.validator import validate
from test_api import bearer, client, run_jobs, settings  # the service's fixtures

__all__ = ["client", "settings"]

SECONDS = 0.3
"""Each day's solve: the days are tiny."""
EARLIER = dt.date(2030, 5, 28)  # a Tuesday, the week before
MONDAY = dt.date(2030, 6, 3)
FIRST, LAST = dt.date(2030, 6, 4), dt.date(2030, 6, 6)  # Tuesday to Thursday
RANGE = [FIRST, FIRST + dt.timedelta(days=1), LAST]
SUNDAY = dt.date(2030, 6, 9)
HOME = {"lat": 53.48, "lon": -2.24}
ALL_WEEK = {day: [{"start": "07:00", "end": "21:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    """The solver's kernels compiled before the first short solve (else compiling eats it)."""
    warm_up()


def put_roster(client, settings, org: str = "north") -> Roster:
    boss = bearer(settings, org=org)
    for carer in ("ann", "bob", "cat"):
        body = {"id": carer, "home": HOME, "availability": ALL_WEEK, "contracted_hours": 20}
        assert client.put(f"/v1/roster/carers/{carer}", json=body, headers=boss).status_code == 201
    for i, name in enumerate(("x", "y")):
        body = {
            "id": name,
            "home": {"lat": 53.47 + 0.005 * i, "lon": -2.25},
            "package": [
                {"id": "morning", "window": {"start": "08:00", "end": "10:00"}, "duration": 30},
                {"id": "evening", "window": {"start": "17:00", "end": "19:00"}, "duration": 30},
            ],
        }
        assert client.put(f"/v1/roster/clients/{name}", json=body, headers=boss).status_code == 201
    got = client.get("/v1/roster", headers=boss)
    assert got.status_code == 200
    return Roster.model_validate(got.json())


def put_day(client, settings, roster: Roster, date: dt.date, only: str | None = None, org: str = "north") -> None:
    """The day generated from the roster (with ``only`` that carer working) stored."""
    problem = day_from_roster(roster, date)
    if only is not None:
        carers = [c if c.id == only else c.model_copy(update={"shifts": []}) for c in problem.carers]
        problem = problem.model_copy(update={"carers": carers})
    put = client.put(f"/v1/days/{date}", json=problem.model_dump(mode="json"), headers=bearer(settings, org=org))
    assert put.status_code == 201, put.text


def publish_solved(client, settings, date: dt.date) -> None:
    boss = bearer(settings)
    job = client.post(f"/v1/days/{date}/solve", json={"time_limit": SECONDS, "publish": True}, headers=boss)
    assert job.status_code == 202
    assert run_jobs(client) == 1
    assert client.get(f"/v1/jobs/{job.json()['id']}", headers=boss).json()["status"] == "done"


def check_in(client, date: dt.date, carer: str, visit: str, status: str = "pending") -> None:
    with transaction(client.app.state.sessions) as session:
        day = store.find_day(session, "north", str(date))
        assert day is not None
        event, _ = store.record_event(
            session, day, {"type": "check_in", "visit": visit, "carer": carer, "at": 480.0}, 480.0, "test"
        )
        event.status = status


@pytest.fixture()
def organisation(client, settings) -> Roster:
    """The roster; the week before: only ann worked and was sent to x and y, bob checked in
    at both of x's visits (and cat's check-in at y's was rejected); Monday published (only
    bob worked); the range's days stored, unplanned."""
    roster = put_roster(client, settings)
    put_day(client, settings, roster, EARLIER, only="ann")
    publish_solved(client, settings, EARLIER)
    for visit in ("x:morning", "x:evening"):
        check_in(client, EARLIER, "bob", visit)
    check_in(client, EARLIER, "cat", "y:morning", status="rejected")
    put_day(client, settings, roster, MONDAY, only="bob")
    publish_solved(client, settings, MONDAY)
    for date in RANGE:
        put_day(client, settings, roster, date)
    return roster


def test_the_history_counts_a_check_in_over_the_carer_the_plan_sent(client, organisation):
    with client.app.state.sessions() as session:
        plan = plan_of(store.published(session, store.find_day(session, "north", str(EARLIER))))
        sent = {pv.visit: route.carer for route in plan.routes for pv in route.visits}
        assert sent == {"x:morning": "ann", "x:evening": "ann", "y:morning": "ann", "y:evening": "ann"}
        history = history_store.care_history(session, "north", MONDAY, weeks=4)
        assert history.recent_carers("x", MONDAY, 4) == ["bob"]  # both of x's visits checked in by bob
        assert history.recent_carers("y", MONDAY, 4) == ["ann"]  # cat's check-in was rejected
        assert sorted(history.visits("x", EARLIER)) == [("x:evening", "bob"), ("x:morning", "bob")]
        assert history_store.care_history(session, "north", MONDAY, weeks=0).recent_carers("x", MONDAY, 4) == []
        # the range's history: Monday's plan (only bob worked) too
        before_range = history_store.care_history(session, "north", FIRST, weeks=4)
        assert before_range.recent_carers("y", FIRST, 4) == ["bob", "ann"]  # as many visits: the latest first
        wednesday = FIRST + dt.timedelta(days=1)  # a week back from it: Monday, not the Tuesday before
        short = history_store.care_history(session, "north", wednesday, weeks=1)
        assert short.visits("x", MONDAY) and not short.visits("x", EARLIER)


def test_fixed_days_are_the_published_days_of_the_ranges_weeks_outside_it(client, settings, organisation):
    put_day(client, settings, organisation, SUNDAY)
    publish_solved(client, settings, SUNDAY)
    publish_solved(client, settings, FIRST)  # inside the range: planned again, not fixed
    with client.app.state.sessions() as session:
        fixed = history_store.fixed_days(session, "north", FIRST, LAST)
        assert sorted(fixed) == [MONDAY, SUNDAY]  # not EARLIER (another week), not FIRST (in the range)
        monday = store.find_day(session, "north", str(MONDAY))
        row = store.published(session, monday)
        problem, plan = fixed[MONDAY]
        assert plan == plan_of(row) and problem == stored_problem(monday, row)
        assert validate(problem, plan).valid
        assert sorted(history_store.fixed_days(session, "north", MONDAY, SUNDAY)) == []


def test_a_week_job_plans_each_day_with_the_history_and_the_week(client, settings, organisation):
    boss = bearer(settings)
    body = {"time_limit_per_day": SECONDS}
    queued = client.post(f"/v1/weeks/plan?from={FIRST}&to={LAST}", json=body, headers=boss)
    assert queued.status_code == 202, queued.text
    job = queued.json()
    assert job["kind"] == "week" and job["date"] == str(FIRST) and job["status"] == "queued"
    assert job["result"] is None and queued.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert run_jobs(client) == 1
    done = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()
    assert done["status"] == "done" and done["progress"] == 1.0, done
    assert done["result_plan"] == 1 and "3 days planned" in done["message"]
    result = done["result"]
    assert [d["date"] for d in result["days"]] == [str(d) for d in RANGE]
    assert [(d["plan"], d["published"]) for d in result["days"]] == [(1, False)] * 3
    assert (result["first"], result["last"]) == (str(FIRST), str(LAST))
    figures = result["figures"]
    assert figures["clients_over_cap"] == 0 and figures["mean_carers_per_client"] >= 1.0
    assert figures["spread_range_minutes"] >= figures["spread_std_minutes"] >= 0.0
    assert result["valid"] == (result["violations"] == [])
    listed = client.get("/v1/jobs?kind=week", headers=boss).json()
    assert [j["id"] for j in listed] == [job["id"]] and listed[0]["result"] == result

    with client.app.state.sessions() as session:
        for date in RANGE:
            day = store.find_day(session, "north", str(date))
            assert day is not None and day.published_plan_id is None  # drafts only
            row = session.scalar(select(PlanRow).where(PlanRow.day_id == day.id))
            assert row is not None and (row.status, row.source, row.number) == ("draft", "week", 1)
            problem, plan = stored_problem(day, row), plan_of(row)
            assert validate(problem, plan).valid
            assert not plan.unassigned
            # the history reached the day: bob, who did x's visits last week, comes first for x
            assert problem.client("x").historical_carers[0] == "bob"
            assert "ann" in problem.client("y").historical_carers

    # again, published: each date's plan 2 is the day's plan
    again = client.post(
        f"/v1/weeks/plan?from={FIRST}&to={LAST}", json={**body, "publish": True, "weekly": True}, headers=boss
    )
    assert again.status_code == 202 and run_jobs(client) == 1
    published = client.get(f"/v1/jobs/{again.json()['id']}", headers=boss).json()
    assert published["status"] == "done", published
    assert [(d["plan"], d["published"]) for d in published["result"]["days"]] == [(2, True)] * 3
    for date in RANGE:
        assert client.get(f"/v1/days/{date}", headers=boss).json()["published_plan"] == 2


def test_a_week_job_cancelled_while_it_runs_stops_after_the_day_under_way(client, settings, organisation, monkeypatch):
    boss = bearer(settings)
    queued = client.post(f"/v1/weeks/plan?from={FIRST}&to={LAST}", json={"time_limit_per_day": SECONDS}, headers=boss)
    assert queued.status_code == 202
    job_id = queued.json()["id"]
    planned: list[dt.date] = []
    plan_week = carescheduler.roster.plan_week  # the worker imports it when a week job runs

    def cancel_after_the_first_day(*args, on_day_planned, **kwargs):
        def day_planned(date, done, total):
            planned.append(date)
            if done == 1:  # the coordinator cancels while the first day is being planned
                assert client.post(f"/v1/jobs/{job_id}/cancel", headers=boss).status_code == 200
            on_day_planned(date, done, total)

        return plan_week(*args, on_day_planned=day_planned, **kwargs)

    monkeypatch.setattr(carescheduler.roster, "plan_week", cancel_after_the_first_day)
    assert run_jobs(client) == 1
    job = client.get(f"/v1/jobs/{job_id}", headers=boss).json()
    assert job["status"] == "cancelled" and job["result"] is None
    assert planned == [FIRST]  # stopped at the first report
    with client.app.state.sessions() as session:
        assert session.scalars(select(PlanRow).where(PlanRow.source == "week")).all() == []


def test_week_jobs_are_refused_for_bad_ranges_missing_days_no_roster_and_carers(client, settings, organisation):
    boss = bearer(settings)
    url = "/v1/weeks/plan?from={}&to={}"
    cases = {
        url.format("2030-06-31", LAST): "query.from",
        url.format(LAST, FIRST): "query.to",
        url.format("2030-06-01", "2030-07-15"): "query.to",  # 45 days
    }
    for bad, field in cases.items():
        refused = client.post(bad, json={}, headers=boss)
        assert refused.status_code == 422 and refused.json()["field"] == field, refused.json()
    missing = client.post(url.format(FIRST, "2030-06-08"), json={}, headers=boss)
    assert missing.status_code == 422, missing.text
    detail = missing.json()["detail"]
    assert "2030-06-07, 2030-06-08" in detail and "generate them from the roster first" in detail
    assert str(LAST) not in detail.split("(")[0]  # only the missing dates are named
    too_long = client.post(url.format(FIRST, LAST), json={"time_limit_per_day": 301}, headers=boss)
    assert too_long.status_code == 422
    assert client.post(url.format(FIRST, LAST), headers=boss).status_code == 202  # no body: the defaults
    for role in ("carer", "integration"):
        caller = bearer(settings, role, carer="ann" if role == "carer" else None)
        assert client.post(url.format(FIRST, LAST), json={}, headers=caller).status_code == 403
    # another organisation with a day but no roster
    put_day(client, settings, organisation, FIRST, org="south")
    no_roster = client.post(url.format(FIRST, FIRST), json={}, headers=bearer(settings, org="south"))
    assert no_roster.status_code == 409 and "no roster" in no_roster.json()["detail"]


def test_replanning_a_day_of_a_published_week_keeps_the_other_days(client, settings, organisation):
    boss = bearer(settings)
    body = {"time_limit_per_day": SECONDS, "publish": True}
    assert client.post(f"/v1/weeks/plan?from={FIRST}&to={LAST}", json=body, headers=boss).status_code == 202
    assert run_jobs(client) == 1
    middle = RANGE[1]
    # the middle day changes: y's evening call is off
    changed = day_from_roster(organisation, middle)
    changed = changed.model_copy(update={"visits": [v for v in changed.visits if v.id != "y:evening"]})
    tag = client.get(f"/v1/days/{middle}", headers=boss).headers["ETag"]
    put = client.put(f"/v1/days/{middle}", json=changed.model_dump(mode="json"), headers={**boss, "If-Match": tag})
    assert put.status_code == 200, put.text
    queued = client.post(f"/v1/weeks/replan?date={middle}", json={"time_limit": SECONDS, "publish": True}, headers=boss)
    assert queued.status_code == 202, queued.text
    assert queued.json()["kind"] == "week_replan" and queued.json()["date"] == str(middle)
    assert run_jobs(client) == 1
    job = client.get(f"/v1/jobs/{queued.json()['id']}", headers=boss).json()
    assert job["status"] == "done", job
    result = job["result"]
    assert [(d["date"], d["plan"], d["published"]) for d in result["days"]] == [(str(middle), 2, True)]
    assert (result["first"], result["last"]) == (str(MONDAY), str(LAST))  # the week's published days
    assert not any("replanned too" in note for note in result["notes"])
    assert result["valid"] == (result["violations"] == [])
    for date in (MONDAY, FIRST, LAST):  # kept as they were
        assert client.get(f"/v1/days/{date}", headers=boss).json()["published_plan"] == 1
    plan = Plan.model_validate(client.get(f"/v1/days/{middle}/plan", headers=boss).json()["plan"])
    visits = {pv.visit for route in plan.routes for pv in route.visits}
    assert visits == {"x:morning", "x:evening", "y:morning"}
    with client.app.state.sessions() as session:
        day = store.find_day(session, "north", str(middle))
        row = store.published(session, day)
        assert row is not None and row.source == "week"
        assert validate(stored_problem(day, row), plan_of(row)).valid

    # refused: a day not stored (404), a day without a published plan (409), a carer (403)
    assert client.post(f"/v1/weeks/replan?date={SUNDAY}", json={}, headers=boss).status_code == 404
    put_day(client, settings, organisation, SUNDAY)
    unpublished = client.post(f"/v1/weeks/replan?date={SUNDAY}", json={}, headers=boss)
    assert unpublished.status_code == 409 and "no published plan" in unpublished.json()["detail"]
    carer = bearer(settings, "carer", carer="ann")
    assert client.post(f"/v1/weeks/replan?date={middle}", json={}, headers=carer).status_code == 403
