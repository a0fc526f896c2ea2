"""Management figures in the service: stored when a plan is published, read over a date
range as JSON or CSV by coordinators, missed visits counted once the day has passed from
the phones' check-ins; on SQLite and PostgreSQL (``test_api``'s fixtures)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api import cli
from api.board_page import PAGE_HEADERS
from api.clock import ServiceClock
from api.models import Day, EventRow, FigureRow
from carescheduler.plan import Plan
from test_api import (
    DATE,
    NOW,
    bearer,
    client,
    problem,
    published,
    run_jobs,
    settings,
)
from test_board import Elements, signed_in

__all__ = ["client", "problem", "published", "settings"]

RANGE = {"from": DATE, "to": DATE}


def stored(client) -> list[FigureRow]:
    with client.app.state.sessions() as session:
        return list(session.scalars(select(FigureRow).order_by(FigureRow.id)))


def working_carers(problem, plan: Plan) -> set[str]:
    return {c.id for c in problem.carers if c.shifts} | {r.carer for r in plan.routes if r.visits}


def test_publishing_stores_a_row_per_day_carer_and_client(client, settings, problem, published):
    rows = stored(client)
    by_scope = {scope: [r for r in rows if r.scope == scope] for scope in ("day", "carer", "client")}
    assert len(by_scope["day"]) == 1
    assert {r.subject for r in by_scope["carer"]} == working_carers(problem, published)
    assert {r.subject for r in by_scope["client"]} == {v.client for v in problem.visits}
    assert len({r.plan_id for r in rows}) == 1 and all(r.date == DATE and r.org_id == "north" for r in rows)
    day = by_scope["day"][0].figures
    kpis = published.kpis  # the validator's figures of the same plan, computed apart
    assert day["visits_total"] == kpis.visits_total and day["visits_covered"] == kpis.visits_assigned
    assert day["travel_minutes"] == pytest.approx(kpis.travel_minutes)
    assert day["overtime_minutes"] == pytest.approx(kpis.overtime_minutes)
    assert day["working_minutes"] == pytest.approx(sum(kpis.working_minutes.values()))
    assert day["visits_missed"] is None  # nothing is known of the day's doors yet


def test_a_new_published_plan_replaces_the_days_figures(client, settings, published):
    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss)
    assert job.status_code == 202 and run_jobs(client) == 1
    with client.app.state.sessions() as session:
        published_id = session.scalar(select(Day.published_plan_id))
    rows = stored(client)
    assert len([r for r in rows if r.scope == "day"]) == 1 and {r.plan_id for r in rows} == {published_id}
    answer = client.get("/v1/figures/days", params=RANGE, headers=boss).json()
    assert answer["plans"] == {DATE: 2}


def test_the_endpoints_give_the_rows_as_json_and_csv(client, settings, problem, published):
    boss = bearer(settings)
    days = client.get("/v1/figures/days", params=RANGE, headers=boss)
    assert days.status_code == 200, days.text
    body = days.json()
    assert (body["from"], body["to"], body["plans"]) == (DATE, DATE, {DATE: 1})
    [day] = body["days"]
    assert day["date"] == DATE and day["visits_covered"] == published.kpis.visits_assigned
    assert body["totals"]["visits_total"] == len(problem.visits) and body["per_day"]["visits_total"] == len(
        problem.visits
    )
    carers = client.get("/v1/figures/carers", params=RANGE, headers=boss).json()["carers"]
    assert {c["carer"] for c in carers} == working_carers(problem, published)
    for row in carers:
        route = published.route(row["carer"])
        assert row["visits"] == (len(route.visits) if route else 0)
    clients = client.get("/v1/figures/clients", params=RANGE, headers=boss).json()["clients"]
    assert sum(c["visits_total"] for c in clients) == len(problem.visits)

    as_csv = client.get("/v1/figures/carers", params={**RANGE, "format": "csv"}, headers=boss)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f'filename="figures-carers-{DATE}-to-{DATE}.csv"' in as_csv.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(r["carer"] for r in table) == sorted(c["carer"] for c in carers)
    by_accept = client.get("/v1/figures/days", params=RANGE, headers={**boss, "Accept": "text/csv"})
    assert by_accept.headers["content-type"].startswith("text/csv")
    [line] = list(csv.DictReader(io.StringIO(by_accept.text)))
    assert line["date"] == DATE and int(line["visits_total"]) == len(problem.visits) and line["visits_missed"] == ""


def test_the_range_defaults_to_the_week_up_to_today(client, settings, published):
    body = client.get("/v1/figures/days", headers=bearer(settings)).json()
    today = NOW.date()
    assert (body["from"], body["to"]) == ((today - dt.timedelta(days=6)).isoformat(), today.isoformat())
    assert [d["date"] for d in body["days"]] == [DATE]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2030-06-05", "to": "2030-06-03"}, "from"),
        ({"from": "2030-01-01", "to": "2030-12-31"}, "to"),
        ({"from": "2030-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "1999-12-31", "to": "2000-01-01"}, "from"),
    ],
)
def test_a_bad_range_names_the_parameter(client, settings, query, field):
    answer = client.get("/v1/figures/clients", params=query, headers=bearer(settings))
    assert answer.status_code == 422
    assert answer.json()["field"] == field, answer.json()


def test_only_coordinators_read_figures(client, settings, published):
    route = next(r for r in published.routes if r.visits)
    for who in (bearer(settings, "carer", carer=route.carer), bearer(settings, "integration")):
        assert client.get("/v1/figures/days", params=RANGE, headers=who).status_code == 403
    assert client.get("/v1/figures/days", params=RANGE).status_code == 401
    other = client.get("/v1/figures/days", params=RANGE, headers=bearer(settings, org="south")).json()
    assert other["days"] == [] and other["plans"] == {}  # another organisation's days do not exist for it


def test_after_the_day_missed_visits_come_from_the_check_ins(client, settings, problem, published):
    """One carer's phone reports each of their visits that ended by 09:00; nobody else's
    phone says anything. Once the day has passed, every other carer-visit is missed."""
    route = next(r for r in published.routes if r.visits and r.visits[0].end <= 9 * 60)
    phone = bearer(settings, "carer", carer=route.carer)
    reported = set()
    for pv in route.visits:
        if pv.end > 9 * 60:
            break
        for step, at in (("check-in", pv.start), ("check-out", pv.end)):
            answer = client.post(
                f"/v1/me/days/{DATE}/visits/{pv.visit}/{step}",
                json={"at": at},
                headers={**phone, "Idempotency-Key": f"{pv.visit}-{step}"},
            )
            assert answer.status_code == 200, answer.text
        reported.add((pv.visit, route.carer))
    parts = {(pv.visit, r.carer) for r in published.routes for pv in r.visits}
    missed = {visit for visit, carer in parts - reported}
    client.app.state.clock = ServiceClock("Europe/London", NOW + dt.timedelta(days=1))
    boss = bearer(settings)

    [day] = client.get("/v1/figures/days", params=RANGE, headers=boss).json()["days"]
    assert day["visits_missed"] == len(missed)
    carers = {c["carer"]: c for c in client.get("/v1/figures/carers", params=RANGE, headers=boss).json()["carers"]}
    assert carers[route.carer]["visits_missed"] == len(route.visits) - len(reported)
    rows = stored(client)
    assert all(r.after_day for r in rows) and len({r.events_up_to for r in rows}) == 1
    assert rows[0].events_up_to is not None
    again = client.get("/v1/figures/days", params=RANGE, headers=boss).json()["days"]
    assert again == [day] and [r.id for r in stored(client)] == [r.id for r in rows]  # read, not computed again

    # a check-out entered late (the office typing in a paper sheet): the day is computed again
    late = next((visit, carer) for visit, carer in sorted(parts - reported) if problem.visit(visit).carers_needed == 1)
    with client.app.state.sessions() as session, session.begin():
        day_id = session.scalar(select(Day.id))
        payload = {"type": "check_out", "visit": late[0], "carer": late[1], "at": 23 * 60}
        session.add(EventRow(org_id="north", day_id=day_id, payload=payload, now=23 * 60, created_by="office"))
    [after] = client.get("/v1/figures/days", params=RANGE, headers=boss).json()["days"]
    assert after["visits_missed"] == len(missed) - 1
    assert {r.events_up_to for r in stored(client)} == {rows[0].events_up_to + 1}


def test_the_figures_page_needs_a_signed_in_coordinator_and_shows_charts_and_tables(client, settings, published):
    assert client.get("/board/figures").headers["location"] == "/sign-in"
    signed_in(client, settings)
    answer = client.get("/board/figures")  # the week up to the service's today
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]
    page = Elements(answer.text)
    assert not [attrs for tag, attrs in page.found if tag == "script"]  # nothing to run: a plain page
    charts = [attrs for tag, attrs in page.found if tag == "svg" and attrs.get("role") == "img"]
    assert len(charts) == 3 and all(attrs["aria-labelledby"].endswith("-desc") for attrs in charts)
    links = {attrs["href"] for tag, attrs in page.found if tag == "a" and "csv" in (attrs.get("class") or "")}
    week = (NOW.date() - dt.timedelta(days=6)).isoformat()
    assert links == {f"/v1/figures/{s}?from={week}&to={DATE}&format=csv" for s in ("days", "carers", "clients")}
    for link in links:  # the browser's cookie opens them
        assert client.get(link).headers["content-type"].startswith("text/csv")
    rows = [attrs for tag, attrs in page.found if tag == "tr"]
    assert len(rows) >= 3  # header rows at least; the tables' contents are the library's
    assert 'href="/board/figures"' in client.get(f"/board/{DATE}").text  # linked from the board


def test_a_bad_range_on_the_page_says_why(client, settings, published):
    signed_in(client, settings)
    answer = client.get("/board/figures", params={"from": "2030-06-09", "to": "2030-06-01"})
    assert answer.status_code == 422 and "from: 2030-06-09 is after to (2030-06-01)" in answer.text
    carer = next(r.carer for r in published.routes if r.visits)
    signed_in(client, settings, role="carer", carer=carer, subject=carer)
    assert client.get("/board/figures").status_code == 403


def test_the_command_line_prints_the_weeks_summary(client, settings, problem, published, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CARESCHEDULER_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.setenv("CARESCHEDULER_FROZEN_CLOCK", NOW.isoformat())
    result = CliRunner().invoke(cli.app, ["figures", "--org", "north"])
    assert result.exit_code == 0, result.output
    week = NOW.date() - dt.timedelta(days=6)
    assert result.output.startswith(f"Figures {week} to {DATE}: 1 day with a published plan")
    covered = published.kpis.visits_assigned
    assert f"{len(problem.visits)} planned, {covered} covered" in result.output
    bad = CliRunner().invoke(cli.app, ["figures", "--org", "north", "--from", "2030-06-09", "--to", DATE])
    assert bad.exit_code == 2 and "--from: 2030-06-09 is after to" in bad.output
