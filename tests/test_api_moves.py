"""Moving visits from carer to carer over the API: a move makes a draft (against the
published plan, or a move draft of it), publishing it tells the carers, a refused move
says why and writes nothing, a stale or discarded base is a 409, and only the
organisation's coordinators may move or discard."""

from __future__ import annotations

from sqlalchemy import select

from api.models import AuditEntry, PlanRow
from carescheduler.domain import Problem
from carescheduler.plan import Plan
from carescheduler.validator import validate
from test_api import (  # the service's fixtures, on both databases
    DATE,
    bearer,
    client,
    count,
    problem,
    published,
    run_jobs,
    settings,
)

__all__ = ["client", "problem", "published", "settings"]

NOW = 9 * 60  # test_api's clock
PLANS = f"/v1/days/{DATE}/plans"


def _holders(plan: Plan, visit: str) -> set[str]:
    return {r.carer for r in plan.routes for pv in r.visits if pv.visit == visit}


def _options(client, boss, plan: Plan, problem: Problem) -> list[tuple[str, str, dict]]:
    """(visit, its carer, the recommendation) for the later single-handed visits of the plan."""
    out = []
    for route in plan.routes:
        for pv in route.visits:
            if pv.start >= NOW + 60 and problem.visit(pv.visit).carers_needed == 1:
                answer = client.post(
                    f"/v1/days/{DATE}/recommendations?top=10", json={"visit": pv.visit}, headers=boss
                ).json()
                out.append((pv.visit, route.carer, answer))
    return sorted(out)


def _movable(client, boss, plan: Plan, problem: Problem, skip: set[str] = frozenset()) -> tuple[str, str, str]:
    """A visit, its carer, and another carer the recommendations offer for it."""
    for visit, holder, answer in _options(client, boss, plan, problem):
        others = [o["carer"] for o in answer["options"] if o["carer"] != holder]
        if others and visit not in skip:
            return visit, holder, others[0]
    raise AssertionError("no visit of the small day can move")


def _move(client, boss, number: int, visit: str, carer: str, partner: str | None = None):
    body = {"visit": visit, "carer": carer, "partner": partner}
    return client.post(f"{PLANS}/{number}/moves", json=body, headers=boss)


def _publish(client, boss, number: int):
    tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
    return client.post(f"{PLANS}/{number}/publish", headers={**boss, "If-Match": tag})


def test_a_move_is_a_draft_that_publishing_tells_the_carers(client, settings, problem, published):
    boss = bearer(settings)
    visit, holder, carer = _movable(client, boss, published, problem)
    moved = _move(client, boss, 1, visit, carer)
    assert moved.status_code == 201, moved.text
    body = moved.json()
    assert moved.headers["Location"] == f"{PLANS}/{body['number']}" and body["number"] == 2
    assert (body["status"], body["source"], body["created_by"]) == ("draft", "move", "coordinator:coordinator")
    plan = Plan.model_validate(body["plan"])
    assert _holders(plan, visit) == {carer} and plan.solver.status == "move" and plan.solver.now == NOW
    changed = {c["carer"]: c for c in body["changes"]["carers"]}
    assert visit in changed[carer]["added"] and visit in changed[holder]["removed"]
    assert client.get(moved.headers["Location"], headers=boss).json()["plan"] == body["plan"]
    with client.app.state.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "move visit")).one()
        assert entry.detail == {"plan": 2, "base": 1, "visit": visit, "carer": carer, "partner": None}

    assert _publish(client, boss, 2).status_code == 200
    day = client.get(f"/v1/days/{DATE}", headers=boss).json()
    assert day["published_plan"] == 2 and day["version"] == 2  # the day as it stands at 09:00 is now the day's
    now_day = Problem.model_validate(client.get(f"/v1/days/{DATE}/problem", headers=boss).json())
    assert validate(now_day, plan).valid
    mine = client.get(f"/v1/me/days/{DATE}", headers=bearer(settings, "carer", carer=carer)).json()
    assert visit in [s["visit"] for s in mine["visits"]] and mine["plan"] == 2
    theirs = client.get(f"/v1/me/days/{DATE}", headers=bearer(settings, "carer", carer=holder)).json()
    assert visit not in [s["visit"] for s in theirs["visits"]]
    told = client.get(f"/v1/me/days/{DATE}/changes", headers=bearer(settings, "carer", carer=carer)).json()
    assert told[-1]["plan"] == 2 and visit in told[-1]["changes"]["added"]
    assert _move(client, boss, 1, visit, holder).status_code == 409  # plan 1 is superseded now


def test_moves_chain_from_drafts_and_count_from_the_published_plan(client, settings, problem, published):
    boss = bearer(settings)
    first, _, first_to = _movable(client, boss, published, problem)
    assert _move(client, boss, 1, first, first_to).status_code == 201  # plan 2
    second, _, second_to = _movable(client, boss, published, problem, skip={first})
    chained = _move(client, boss, 2, second, second_to)  # plan 3, from the draft
    assert chained.status_code == 201, chained.text
    plan = Plan.model_validate(chained.json()["plan"])
    assert _holders(plan, first) == {first_to} and _holders(plan, second) == {second_to}
    added = {v for c in chained.json()["changes"]["carers"] for v in c["added"]}
    assert {first, second} <= added  # both moves: what publishing plan 3 would change

    undone = client.post(f"{PLANS}/3/discard", headers=boss)  # undo the second move
    assert undone.status_code == 200 and undone.json()["status"] == "discarded"
    assert client.post(f"{PLANS}/3/discard", headers=boss).status_code == 200  # again: nothing changes
    assert _publish(client, boss, 3).status_code == 409
    refused = _move(client, boss, 3, second, second_to)
    assert refused.status_code == 409 and "discarded" in refused.json()["detail"]
    assert client.post(f"{PLANS}/1/discard", headers=boss).status_code == 409  # the published plan

    assert _move(client, boss, 2, second, second_to).status_code == 201  # plan 4: 3 again, a sibling
    assert _publish(client, boss, 2).status_code == 200
    statuses = {p["number"]: p["status"] for p in client.get(PLANS, headers=boss).json()}
    assert statuses == {1: "superseded", 2: "published", 3: "discarded", 4: "superseded"}
    stale = _move(client, boss, 4, second, second_to)
    assert stale.status_code == 409 and "superseded" in stale.json()["detail"]


def test_a_refused_move_says_why_and_writes_nothing(client, settings, problem, published):
    boss = bearer(settings)
    before = count(client, PlanRow)
    refusals = [
        (visit, u)
        for visit, _, answer in _options(client, boss, published, problem)
        for u in answer["unavailable"]
        if u["code"] in {"skill", "gender", "banned", "shift"}
    ]
    assert refusals, "the small day has carers who cannot take some visit"
    for visit, unavailable in refusals[:3]:
        refused = _move(client, boss, 1, visit, unavailable["carer"])
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["field"] == "carer" and unavailable["reason"] in refused.json()["detail"]
    unknown = _move(client, boss, 1, "ghost", published.routes[0].carer)
    assert unknown.status_code == 422 and unknown.json()["field"] == "visit"
    extra = client.post(f"{PLANS}/1/moves", json={"visit": "x", "carer": "y", "when": 1}, headers=boss)
    assert extra.status_code == 422  # extra fields are refused
    assert _move(client, boss, 9, "x", "y").status_code == 404
    assert count(client, PlanRow) == before


def test_only_the_published_plan_and_its_move_drafts_are_moved_from(client, settings, problem, published):
    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    assert run_jobs(client) == 1
    number = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()["result_plan"]
    visit, _, carer = _movable(client, boss, published, problem)
    refused = _move(client, boss, number, visit, carer)
    assert refused.status_code == 409 and "a draft of a solve" in refused.json()["detail"]


def test_only_the_organisations_coordinators_move_and_discard(client, settings, problem, published):
    boss = bearer(settings)
    visit, _, carer = _movable(client, boss, published, problem)
    for who in (bearer(settings, "carer", carer=carer), bearer(settings, "integration")):
        assert _move(client, who, 1, visit, carer).status_code == 403
        assert client.post(f"{PLANS}/1/discard", headers=who).status_code == 403
    stranger = bearer(settings, org="south")
    assert _move(client, stranger, 1, visit, carer).status_code == 404
    assert client.post(f"{PLANS}/1/discard", headers=stranger).status_code == 404
    assert count(client, PlanRow) == 1
