"""The days generated from the roster over HTTP (``/v1/roster/days``), on SQLite and
PostgreSQL: a range generated as the library makes it, each date's one-off changes kept
apart and applied again on every regeneration, roster changes reaching the future days
that still follow the roster (not published days, not hand-edited ones, not past ones),
and all-or-nothing writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from api.models import Day, DayChangesRow
from carescheduler.domain import Problem
from carescheduler.roster import DayChanges, Roster, day_from_roster
from test_api import (
    bearer,
    client,
    run_jobs,
    settings,
)  # the service's fixtures, on both databases: the clock stands at 09:00 on Monday 2030-06-03

__all__ = ["client", "settings"]

TODAY = dt.date(2030, 6, 3)
WEEK = [(TODAY + dt.timedelta(days=n)).isoformat() for n in range(7)]
WEDNESDAY = WEEK[2]


def every_day(start: str, end: str) -> dict:
    return {day: [{"start": start, "end": end}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def carer(carer_id: str, lat: float) -> dict:
    return {
        "id": carer_id,
        "skills": ["medication"],
        "home": {"lat": lat, "lon": -2.24},
        "availability": every_day("07:00", "22:00"),
    }


def doris(tea_minutes: int = 30, with_lunch: bool = False) -> dict:
    package = [
        {"id": "morning", "window": {"start": "07:30", "end": "09:30"}, "duration": 45, "skills": ["medication"]},
        {"id": "tea", "window": {"start": "16:00", "end": "18:00"}, "duration": tea_minutes},
    ]
    if with_lunch:
        package.append({"id": "lunch", "window": {"start": "12:00", "end": "13:30"}, "duration": 30})
    return {"id": "doris", "home": {"lat": 53.47, "lon": -2.25}, "package": package}


def edith() -> dict:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    call = {"id": "lunch", "weekdays": weekdays, "window": {"start": "12:00", "end": "14:00"}, "duration": 30}
    return {"id": "edith", "home": {"lat": 53.46, "lon": -2.23}, "package": [call]}


def make_roster(client, boss: dict) -> None:
    settings_tag = client.get("/v1/roster/settings", headers=boss).headers["ETag"]
    put = client.put("/v1/roster/settings", json={"skills": ["medication"]}, headers={**boss, "If-Match": settings_tag})
    assert put.status_code == 200
    for one in (carer("amina", 53.48), carer("ben", 53.49)):
        assert client.put(f"/v1/roster/carers/{one['id']}", json=one, headers=boss).status_code == 201
    for one in (doris(), edith()):
        assert client.put(f"/v1/roster/clients/{one['id']}", json=one, headers=boss).status_code == 201


def generate(client, boss: dict, first: str, last: str):
    return client.post("/v1/roster/days", params={"from": first, "to": last}, headers=boss)


def problem(client, boss: dict, date: str) -> Problem:
    got = client.get(f"/v1/days/{date}/problem", headers=boss)
    assert got.status_code == 200, got.text
    return Problem.model_validate(got.json())


def visit_ids(client, boss: dict, date: str) -> set[str]:
    return {v.id for v in problem(client, boss, date).visits}


def version(client, boss: dict, date: str) -> int:
    return client.get(f"/v1/days/{date}", headers=boss).json()["version"]


def client_tag(client, boss: dict, client_id: str) -> dict:
    return {**boss, "If-Match": client.get(f"/v1/roster/clients/{client_id}", headers=boss).headers["ETag"]}


def count(client, model) -> int:
    with client.app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_week_is_generated_as_the_library_makes_it(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    made = generate(client, boss, WEEK[0], WEEK[-1])
    assert made.status_code == 200, made.text
    days = made.json()["days"]
    assert [d["date"] for d in days] == WEEK and {d["outcome"] for d in days} == {"created"}

    roster = Roster.model_validate(client.get("/v1/roster", headers=boss).json())
    for outcome in days:
        date = outcome["date"]
        expected = day_from_roster(roster, dt.date.fromisoformat(date))
        assert problem(client, boss, date) == expected
        listed = client.get(f"/v1/days/{date}", headers=boss)
        assert listed.json()["from_roster"] is True and listed.headers["ETag"] == outcome["etag"]
    weekday = visit_ids(client, boss, WEDNESDAY)
    assert weekday == {"doris:morning", "doris:tea", "edith:lunch"}
    assert visit_ids(client, boss, WEEK[5]) == {"doris:morning", "doris:tea"}  # Saturday: no lunch for Edith

    # generated again from the same roster: nothing changes, versions and ETags stay
    again = generate(client, boss, WEEK[0], WEEK[-1]).json()["days"]
    assert {d["outcome"] for d in again} == {"unchanged"}
    assert [(d["version"], d["etag"]) for d in again] == [(d["version"], d["etag"]) for d in days]
    actions = [e["action"] for e in client.get("/v1/audit", headers=boss).json()]
    assert actions[:2] == ["generate days from roster"] * 2


def test_a_dates_changes_are_kept_apart_and_survive_regeneration(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    generate(client, boss, WEEK[0], WEEK[-1])
    roster_tag = client.get("/v1/roster", headers=boss).headers["ETag"]
    extra = {"id": "edith:bank", "client": "edith", "duration": 20, "window": {"start": 600, "end": 720}}
    changes = {"date": WEDNESDAY, "cancelled_visits": ["doris:morning"], "added_visits": [extra], "note": "hospital"}
    url = f"/v1/roster/days/{WEDNESDAY}/changes"

    added = client.put(url, json=changes, headers=boss)
    assert added.status_code == 201, added.text
    assert added.json()["day"]["outcome"] == "updated" and added.json()["day"]["version"] == 2
    assert visit_ids(client, boss, WEDNESDAY) == {"doris:tea", "edith:lunch", "edith:bank"}
    assert visit_ids(client, boss, WEEK[3]) == {"doris:morning", "doris:tea", "edith:lunch"}  # that date only
    assert client.get("/v1/roster", headers=boss).headers["ETag"] == roster_tag  # the roster is not changed
    read = client.get(url, headers=boss)
    assert read.status_code == 200 and read.headers["ETag"] == added.headers["ETag"]
    assert DayChanges.model_validate(read.json()) == DayChanges.model_validate(changes)

    # a change to the package regenerates the day with the date's changes applied again
    changed = client.put(
        "/v1/roster/clients/doris", json=doris(tea_minutes=50), headers=client_tag(client, boss, "doris")
    )
    assert changed.status_code == 200
    day = problem(client, boss, WEDNESDAY)
    assert {v.id for v in day.visits} == {"doris:tea", "edith:lunch", "edith:bank"}
    assert next(v for v in day.visits if v.id == "doris:tea").duration == 50
    assert generate(client, boss, WEDNESDAY, WEDNESDAY).json()["days"][0]["outcome"] == "unchanged"

    # ETags: replacing needs the one last read, and If-None-Match: * never replaces
    fewer = changes | {"added_visits": []}
    assert client.put(url, json=fewer, headers=boss).status_code == 428
    assert client.put(url, json=fewer, headers={**boss, "If-Match": '"changes.2030-06-05.99"'}).status_code == 412
    assert client.put(url, json=fewer, headers={**boss, "If-None-Match": "*"}).status_code == 412
    replaced = client.put(url, json=fewer, headers={**boss, "If-Match": read.headers["ETag"]})
    assert replaced.status_code == 200 and replaced.headers["ETag"] != read.headers["ETag"]
    assert visit_ids(client, boss, WEDNESDAY) == {"doris:tea", "edith:lunch"}
    assert client.put(url, json=changes, headers={**boss, "If-Match": read.headers["ETag"]}).status_code == 412

    # removed: the day is the roster's again, and changes added later get an ETag never given before
    assert client.delete(url, headers=boss).status_code == 428
    assert client.delete(url, headers={**boss, "If-Match": read.headers["ETag"]}).status_code == 412
    removed = client.delete(url, headers={**boss, "If-Match": replaced.headers["ETag"]})
    assert removed.status_code == 200 and removed.json()["day"]["outcome"] == "updated"
    assert visit_ids(client, boss, WEDNESDAY) == {"doris:morning", "doris:tea", "edith:lunch"}
    assert client.get(url, headers=boss).status_code == 404
    assert client.delete(url, headers={**boss, "If-Match": replaced.headers["ETag"]}).status_code == 404
    back = client.put(url, json=changes, headers=boss)
    assert back.status_code == 201
    assert back.headers["ETag"] not in {added.headers["ETag"], replaced.headers["ETag"]}

    entries = [(e["action"], e["target"]) for e in client.get("/v1/audit", params={"limit": 10}, headers=boss).json()]
    target = f"roster/days/{WEDNESDAY}"
    assert entries[:3] == [("add day changes", target), ("remove day changes", target), ("replace day changes", target)]
    # another organisation's dates have no changes
    assert client.get(url, headers=bearer(settings, org="south")).status_code == 404


def test_a_package_change_reaches_future_unpublished_days_that_follow_the_roster(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    past, today, published, detached, future = "2030-06-01", WEEK[0], WEEK[1], WEEK[2], WEEK[3]
    assert generate(client, boss, past, future).status_code == 200

    # tomorrow gets a published plan; Wednesday is edited by hand (detached from the roster)
    job = client.post(f"/v1/days/{published}/solve", json={"time_limit": 1, "publish": True}, headers=boss)
    assert job.status_code in (200, 201, 202), job.text
    run_jobs(client)
    assert client.get(f"/v1/days/{published}", headers=boss).json()["published_plan"] is not None
    tag = client.get(f"/v1/days/{detached}", headers=boss).headers["ETag"]
    by_hand = client.put(
        f"/v1/days/{detached}",
        json=problem(client, boss, detached).model_dump(mode="json"),
        headers={**boss, "If-Match": tag},
    )
    assert by_hand.status_code == 200 and by_hand.json()["from_roster"] is False
    before = {date: version(client, boss, date) for date in (past, today, published, detached, future)}

    # a client with no calls changes no day: no version moves
    quiet = {"id": "fred", "home": {"lat": 53.45, "lon": -2.2}, "package": []}
    assert client.put("/v1/roster/clients/fred", json=quiet, headers=boss).status_code == 201
    assert {date: version(client, boss, date) for date in before} == before

    # a lunch call added to Doris's package: today's and Thursday's days get it, no other day does
    added = client.put(
        "/v1/roster/clients/doris", json=doris(with_lunch=True), headers=client_tag(client, boss, "doris")
    )
    assert added.status_code == 200
    for date in (today, future):
        assert "doris:lunch" in visit_ids(client, boss, date) and version(client, boss, date) == before[date] + 1
    for date in ("2030-06-01", published, detached):
        assert "doris:lunch" not in visit_ids(client, boss, date) and version(client, boss, date) == before[date]
    assert client.get(f"/v1/days/{detached}", headers=boss).json()["from_roster"] is False
    log = client.get("/v1/audit", params={"limit": 3}, headers=boss).json()
    assert log[1]["action"] == "regenerate days from roster" and log[1]["detail"]["updated"] == [today, future]

    # removing the client reaches them too
    removed = client.delete("/v1/roster/clients/doris", headers=client_tag(client, boss, "doris"))
    assert removed.status_code == 204
    assert visit_ids(client, boss, future) == {"edith:lunch"}
    assert "doris:morning" in visit_ids(client, boss, published)

    # generating a range again says why each day left alone was
    again = {d["date"]: d for d in generate(client, boss, past, future).json()["days"]}
    assert (again[published]["outcome"], again[published]["reason"]) == ("skipped", "published")
    assert (again[detached]["outcome"], again[detached]["reason"]) == ("skipped", "detached")
    assert again[past]["outcome"] == "updated" and again[future]["outcome"] == "unchanged"
    changes = {"date": published, "cancelled_visits": ["edith:lunch"]}
    put = client.put(f"/v1/roster/days/{published}/changes", json=changes, headers=boss)
    assert put.status_code == 201 and (put.json()["day"]["outcome"], put.json()["day"]["reason"]) == (
        "skipped",
        "published",
    )
    assert "edith:lunch" in visit_ids(client, boss, published)


def test_bad_changes_are_refused_naming_the_field_and_nothing_is_written(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    generate(client, boss, WEEK[0], WEEK[-1])
    url = f"/v1/roster/days/{WEDNESDAY}/changes"
    version_before = version(client, boss, WEDNESDAY)

    unknown = client.put(url, json={"date": WEDNESDAY, "cancelled_visits": ["nobody:morning"]}, headers=boss)
    assert unknown.status_code == 422 and unknown.json()["field"] == "cancelled_visits[0]"
    assert "nobody:morning" in unknown.json()["detail"]
    stranger = {"id": "x", "client": "nobody", "duration": 20, "window": {"start": 600, "end": 720}}
    added = client.put(url, json={"date": WEDNESDAY, "added_visits": [stranger]}, headers=boss)
    assert added.status_code == 422 and added.json()["field"] == "added_visits[0].client"
    other_date = client.put(url, json={"date": WEEK[3]}, headers=boss)
    assert other_date.status_code == 422 and other_date.json()["field"] == "date"
    not_changes = client.put(url, json={"date": WEDNESDAY, "cancel": ["doris:tea"]}, headers=boss)
    assert not_changes.status_code == 422
    assert client.get(url, headers=boss).status_code == 404 and count(client, DayChangesRow) == 0
    assert version(client, boss, WEDNESDAY) == version_before

    # a roster change the stored changes no longer fit is refused, naming them; nothing is written
    fine = client.put(url, json={"date": WEDNESDAY, "cancelled_visits": ["doris:tea"]}, headers=boss)
    assert fine.status_code == 201
    no_tea = doris() | {"package": doris()["package"][:1]}
    tag = client_tag(client, boss, "doris")
    refused = client.put("/v1/roster/clients/doris", json=no_tea, headers=tag)
    assert refused.status_code == 422 and refused.json()["field"] == f"changes[{WEDNESDAY}].cancelled_visits[0]"
    assert len(client.get("/v1/roster/clients/doris", headers=boss).json()["package"]) == 2
    assert client.get("/v1/roster/clients/doris", headers=boss).headers["ETag"] == tag["If-Match"]

    # a range whose stored changes no longer fit writes no day at all
    later = "2030-06-12"
    assert (
        client.put(
            f"/v1/roster/days/{later}/changes", json={"date": later, "cancelled_visits": ["edith:lunch"]}, headers=boss
        ).status_code
        == 201
    )
    edith_tag = client_tag(client, boss, "edith")
    assert client.delete("/v1/roster/clients/edith", headers=edith_tag).status_code == 204  # the 12th has no day yet
    days_before = count(client, Day)
    bad_range = generate(client, boss, "2030-06-10", "2030-06-14")
    assert bad_range.status_code == 422 and bad_range.json()["field"] == f"changes[{later}].cancelled_visits[0]"
    assert count(client, Day) == days_before
    assert client.get("/v1/days/2030-06-10", headers=boss).status_code == 404


def test_a_range_is_at_most_62_days_and_in_order(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    backwards = generate(client, boss, "2030-06-10", "2030-06-09")
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    too_long = generate(client, boss, "2030-06-01", "2030-08-02")  # 63 days
    assert too_long.status_code == 422 and too_long.json()["field"] == "to"
    not_a_date = generate(client, boss, "2030-02-30", "2030-03-02")
    assert not_a_date.status_code == 422 and not_a_date.json()["field"] == "from"
    assert client.post("/v1/roster/days", params={"from": "2030-06-01"}, headers=boss).status_code == 422
    assert count(client, Day) == 0
    longest = generate(client, boss, "2030-06-01", "2030-08-01")  # 62 days
    assert longest.status_code == 200 and len(longest.json()["days"]) == 62 and count(client, Day) == 62


def test_carers_may_not_generate_days_or_change_a_date(client, settings):
    boss = bearer(settings)
    make_roster(client, boss)
    phone = bearer(settings, "carer", carer="amina")
    url = f"/v1/roster/days/{WEDNESDAY}/changes"
    assert generate(client, phone, WEEK[0], WEEK[-1]).status_code == 403
    assert client.put(url, json={"date": WEDNESDAY}, headers=phone).status_code == 403
    assert client.get(url, headers=phone).status_code == 403
    assert client.delete(url, headers={**phone, "If-Match": "*"}).status_code == 403
    assert count(client, Day) == 0 and count(client, DayChangesRow) == 0
    integration = bearer(settings, "integration")
    assert generate(client, integration, WEEK[0], WEEK[-1]).status_code == 403  # reads only
    assert client.put(url, json={"date": WEDNESDAY}, headers=boss).status_code == 201
    assert client.get(url, headers=integration).status_code == 200


def test_a_change_of_weekdays_reaches_the_days_it_leaves_and_the_days_it_joins(client, settings):
    """A carer's or client's write regenerates only the weekdays they are on, as they
    were and as they are: both sides must be remade."""
    boss = bearer(settings)
    make_roster(client, boss)
    saturday = WEEK[5]
    generate(client, boss, WEEK[0], WEEK[-1])
    weekends = edith()
    weekends["package"][0]["weekdays"] = ["sat"]
    assert (
        client.put("/v1/roster/clients/edith", json=weekends, headers=client_tag(client, boss, "edith")).status_code
        == 200
    )
    assert "edith:lunch" not in visit_ids(client, boss, WEDNESDAY)
    assert "edith:lunch" in visit_ids(client, boss, saturday)

    amina = carer("amina", 53.48) | {"availability": {"sat": [{"start": "07:00", "end": "22:00"}]}}
    tag = {**boss, "If-Match": client.get("/v1/roster/carers/amina", headers=boss).headers["ETag"]}
    assert client.put("/v1/roster/carers/amina", json=amina, headers=tag).status_code == 200
    assert [c.id for c in problem(client, boss, WEDNESDAY).carers] == ["ben"]
    assert {c.id for c in problem(client, boss, saturday).carers} == {"amina", "ben"}
    tag = {**boss, "If-Match": client.get("/v1/roster/carers/amina", headers=boss).headers["ETag"]}
    assert client.delete("/v1/roster/carers/amina", headers=tag).status_code == 204
    assert [c.id for c in problem(client, boss, saturday).carers] == ["ben"]
