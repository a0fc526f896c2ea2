"""The roster over HTTP (``/v1/roster``), on SQLite and PostgreSQL: settings, carers and
clients one at a time with ETags, the whole roster, the CSV import (all or nothing) and
the export that imports back as the same roster."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from api.models import RosterCarerRow, RosterClientRow
from carescheduler.roster import Roster
from carescheduler.roster.csv_import import CARERS, CLIENTS, PACKAGE, read_roster_csv
from conftest import ROOT
from test_api import (
    _at_once,
    bearer,
    client,
    settings,
)  # the service's fixtures, on both databases

__all__ = ["client", "settings"]

TEMPLATE = ROOT / "docs" / "roster-template"


def template_files() -> dict[str, str]:
    return {path.name: path.read_text() for path in TEMPLATE.iterdir() if path.name != "README.md"}


def rows(client, model, org: str = "north") -> int:
    with client.app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.org_id == org))


def carer(carer_id: str, skills: list[str] | None = None, **more) -> dict:
    return {
        "id": carer_id,
        "name": carer_id.title(),
        "skills": skills or [],
        "home": {"lat": 53.48, "lon": -2.24},
    } | more


def client_with_package(client_id: str, preferred: list[str], banned: list[str]) -> dict:
    return {
        "id": client_id,
        "home": {"lat": 53.47, "lon": -2.25, "address": "22 Rochdale Road"},
        "preferred_carers": preferred,
        "banned_carers": banned,
        "package": [
            {"id": "morning", "window": {"start": "07:30", "end": "09:30"}, "duration": 45, "skills": ["medication"]},
            {"id": "bed", "weekdays": ["fri", "sat"], "window": {"start": "20:00"}, "duration": 30, "carers_needed": 2},
        ],
    }


def test_the_roster_lifecycle(client, settings):
    boss = bearer(settings)
    # settings: the defaults until put, and an ETag to put them with
    got = client.get("/v1/roster/settings", headers=boss)
    assert got.status_code == 200 and got.json()["skills"] == [] and got.json()["timezone"] == "Europe/London"
    new_settings = got.json() | {"name": "North team", "skills": ["medication", "hoist"]}
    assert client.put("/v1/roster/settings", json=new_settings, headers=boss).status_code == 428
    put = client.put("/v1/roster/settings", json=new_settings, headers={**boss, "If-Match": got.headers["ETag"]})
    assert put.status_code == 200 and put.headers["ETag"] != got.headers["ETag"]
    again = client.get("/v1/roster/settings", headers=boss)
    assert again.json()["skills"] == ["medication", "hoist"] and again.headers["ETag"] == put.headers["ETag"]

    # carers: created without If-Match; an undeclared skill is refused naming the field
    amina = client.put("/v1/roster/carers/amina", json=carer("amina", ["medication"]), headers=boss)
    assert amina.status_code == 201 and amina.json()["skills"] == ["medication"]
    bad = client.put("/v1/roster/carers/zed", json=carer("zed", ["cooking"]), headers=boss)
    assert bad.status_code == 422 and bad.json()["field"] == "skills" and "cooking" in bad.json()["detail"]
    other = client.put("/v1/roster/carers/amina2", json=carer("ben"), headers=boss)
    assert other.status_code == 422 and other.json()["field"] == "id"
    assert client.put("/v1/roster/carers/ben", json=carer("ben"), headers=boss).status_code == 201

    # a client with a package, preferring one carer and banning the other; unknown carers refused
    doris = client_with_package("doris", ["amina"], ["ben"])
    created = client.put("/v1/roster/clients/doris", json=doris, headers=boss)
    assert created.status_code == 201 and len(created.json()["package"]) == 2
    stranger = client_with_package("edith", ["nobody"], [])
    refused = client.put("/v1/roster/clients/edith", json=stranger, headers=boss)
    assert refused.status_code == 422 and refused.json()["field"] == "preferred_carers"

    # read with its ETag; replace needs it (428 without, 412 stale), and If-None-Match: * never replaces
    read = client.get("/v1/roster/carers/amina", headers=boss)
    assert read.status_code == 200 and read.headers["ETag"] == amina.headers["ETag"]
    changed = carer("amina", ["medication", "hoist"], contracted_hours=37.5)
    assert client.put("/v1/roster/carers/amina", json=changed, headers=boss).status_code == 428
    stale = {**boss, "If-Match": '"carer.999"'}
    assert client.put("/v1/roster/carers/amina", json=changed, headers=stale).status_code == 412
    only_new = {**boss, "If-None-Match": "*"}
    assert client.put("/v1/roster/carers/amina", json=changed, headers=only_new).status_code == 412
    client_tag = {**boss, "If-Match": created.headers["ETag"]}  # a client's ETag is not a carer's
    assert client.put("/v1/roster/carers/amina", json=changed, headers=client_tag).status_code == 412
    replaced = client.put("/v1/roster/carers/amina", json=changed, headers={**boss, "If-Match": read.headers["ETag"]})
    assert replaced.status_code == 200 and replaced.headers["ETag"] != read.headers["ETag"]
    old_tag = {**boss, "If-Match": read.headers["ETag"]}
    assert client.put("/v1/roster/carers/amina", json=changed, headers=old_tag).status_code == 412
    assert client.get("/v1/roster/carers/amina", headers=boss).json()["contracted_hours"] == 37.5

    # a skill still held cannot be taken out of the settings
    settings_tag = client.get("/v1/roster/settings", headers=boss).headers["ETag"]
    fewer = new_settings | {"skills": ["medication"]}
    dropped = client.put("/v1/roster/settings", json=fewer, headers={**boss, "If-Match": settings_tag})
    assert dropped.status_code == 422 and dropped.json()["field"] == "skills" and "amina" in dropped.json()["detail"]

    # removing a carer a client names is refused, naming the client; allowed once the client lets go
    amina_tag = {**boss, "If-Match": replaced.headers["ETag"]}
    assert client.delete("/v1/roster/carers/amina", headers=boss).status_code == 428
    in_use = client.delete("/v1/roster/carers/amina", headers=amina_tag)
    assert in_use.status_code == 409 and "doris" in in_use.json()["detail"]
    doris["preferred_carers"] = []
    let_go = client.put("/v1/roster/clients/doris", json=doris, headers={**boss, "If-Match": created.headers["ETag"]})
    assert let_go.status_code == 200
    assert client.delete("/v1/roster/carers/amina", headers=amina_tag).status_code == 204
    assert client.get("/v1/roster/carers/amina", headers=boss).status_code == 404
    assert client.delete("/v1/roster/carers/amina", headers=amina_tag).status_code == 404
    # added again, it gets an ETag never given before
    again_amina = client.put("/v1/roster/carers/amina", json=carer("amina"), headers=boss)
    assert again_amina.status_code == 201
    assert again_amina.headers["ETag"] not in {amina.headers["ETag"], replaced.headers["ETag"]}

    # the whole roster, valid as the library defines it, with its ETag
    whole = client.get("/v1/roster", headers=boss)
    assert whole.status_code == 200 and whole.headers["ETag"].startswith('"roster.')
    unchanged = client.get("/v1/roster", headers={**boss, "If-None-Match": whole.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == whole.headers["ETag"]
    roster = Roster.model_validate(whole.json())
    assert roster.name == "North team" and [c.id for c in roster.carers] == ["amina", "ben"]
    assert [c.id for c in roster.clients] == ["doris"] and roster.client("doris").banned_carers == ["ben"]

    # every change audited, with who made it
    entries = client.get("/v1/audit", params={"limit": 50}, headers=boss).json()
    actions = [(e["action"], e["target"]) for e in reversed(entries)]
    assert actions == [
        ("replace roster settings", "roster/settings"),
        ("add roster carer", "roster/carers/amina"),
        ("add roster carer", "roster/carers/ben"),
        ("add roster client", "roster/clients/doris"),
        ("replace roster carer", "roster/carers/amina"),
        ("replace roster client", "roster/clients/doris"),
        ("remove roster carer", "roster/carers/amina"),
        ("add roster carer", "roster/carers/amina"),
    ]
    assert {e["role"] for e in entries} == {"coordinator"}

    # another organisation has a roster of its own
    south = bearer(settings, org="south")
    assert client.get("/v1/roster/carers/ben", headers=south).status_code == 404
    assert client.get("/v1/roster", headers=south).json()["carers"] == []


def test_carers_listed_in_pages(client, settings):
    boss = bearer(settings)
    ids = [f"carer-{n:02d}" for n in range(7)]
    for carer_id in reversed(ids):
        assert client.put(f"/v1/roster/carers/{carer_id}", json=carer(carer_id), headers=boss).status_code == 201
    seen, url, params = [], "/v1/roster/carers", {"limit": 3}
    while url:
        page = client.get(url, params=params, headers=boss)
        assert page.status_code == 200 and len(page.json()) <= 3
        seen += [c["id"] for c in page.json()]
        url, params = page.links.get("next", {}).get("url"), None
    assert seen == ids  # each once, in the order of their ids


def test_carers_may_not_read_or_change_the_roster(client, settings):
    carer_token = bearer(settings, "carer", carer="amina")
    assert client.get("/v1/roster", headers=carer_token).status_code == 403
    assert client.get("/v1/roster/carers", headers=carer_token).status_code == 403
    assert client.put("/v1/roster/carers/amina", json=carer("amina"), headers=carer_token).status_code == 403
    imported = client.post("/v1/roster/import", json={"files": template_files()}, headers=carer_token)
    assert imported.status_code == 403
    assert client.get("/v1/roster/export", headers=carer_token).status_code == 403
    assert rows(client, RosterCarerRow) == 0


def test_an_import_writes_the_roster_the_files_describe(client, settings):
    boss = bearer(settings)
    files = template_files()
    expected = read_roster_csv(files)  # the library's reading, apart from the service
    done = client.post("/v1/roster/import", json={"files": files}, headers=boss)
    assert done.status_code == 200, done.json()
    counts = done.json()
    assert counts["carers"] == {"added": len(expected.carers), "replaced": 0, "removed": 0, "unchanged": 0}
    assert counts["clients"]["added"] == len(expected.clients) and counts["settings_changed"]
    roster = Roster.model_validate(client.get("/v1/roster", headers=boss).json())
    assert roster == expected.model_copy(
        update={
            "carers": sorted(expected.carers, key=lambda c: c.id),
            "clients": sorted(expected.clients, key=lambda c: c.id),
        }
    )
    tag = client.get("/v1/roster/carers/ben", headers=boss).headers["ETag"]

    # the same files again change nothing: every ETag stays
    again = client.post("/v1/roster/import", json={"files": files}, headers=boss)
    assert again.json()["carers"]["unchanged"] == len(expected.carers) and not again.json()["settings_changed"]
    assert again.headers["ETag"] == done.headers["ETag"]

    # an upsert of one carer replaces that carer alone
    one = "id,name,lat,lon,skills\nben,Benjamin Walsh,53.46,-2.29,medication\n"
    upsert = client.post("/v1/roster/import", json={"files": {CARERS: one}}, headers=boss)
    assert upsert.status_code == 200
    kept = len(expected.carers) - 1  # the others are kept as they were
    assert upsert.json()["carers"] == {"added": 0, "replaced": 1, "removed": 0, "unchanged": kept}
    assert client.get("/v1/roster/carers/ben", headers=boss).headers["ETag"] != tag
    assert client.get("/v1/roster/carers/amina", headers=boss).status_code == 200

    # ?replace=true: carers and clients not in the files go
    replace = client.post(
        "/v1/roster/import", params={"replace": "true"}, json={"files": {CARERS: one, CLIENTS: ""}}, headers=boss
    )
    assert replace.status_code == 200
    assert replace.json()["carers"]["removed"] == len(expected.carers) - 1
    assert replace.json()["clients"]["removed"] == len(expected.clients)
    assert (rows(client, RosterCarerRow), rows(client, RosterClientRow)) == (1, 0)

    # If-Match, when sent, must be the roster's ETag
    stale = client.post("/v1/roster/import", json={"files": files}, headers={**boss, "If-Match": done.headers["ETag"]})
    assert stale.status_code == 412
    entries = client.get("/v1/audit", headers=boss).json()
    assert [e["action"] for e in entries].count("import roster") == 4


def test_a_bad_import_names_file_row_and_column_and_writes_nothing(client, settings):
    boss = bearer(settings)
    before = client.get("/v1/roster", headers=boss).headers["ETag"]
    files = template_files()
    files[CARERS] = files[CARERS].replace("Ben Walsh,male", "Ben Walsh,mail")  # row 3
    files[PACKAGE] = files[PACKAGE].replace("hoist,2,sequential", "lifting,2,sequential")  # row 7
    files["staff.xlsx"] = "?"
    bad = client.post("/v1/roster/import", json={"files": files}, headers=boss)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    problem = bad.json()
    assert [e["field"] for e in problem["errors"]] == ["staff.xlsx", "carers.csv:3:gender", "package.csv:7:skills"]
    assert problem["field"] == "staff.xlsx"
    assert "carers.csv row 3, column gender" in problem["detail"] and "'lifting'" in problem["detail"]
    assert (rows(client, RosterCarerRow), rows(client, RosterClientRow)) == (0, 0)
    assert client.get("/v1/roster", headers=boss).headers["ETag"] == before
    assert client.get("/v1/roster/settings", headers=boss).json()["skills"] == []
    not_files = client.post("/v1/roster/import", json={"carers.csv": "id"}, headers=boss)
    assert not_files.status_code == 422 and not_files.json()["errors"]


@pytest.mark.parametrize("replace", [True, False])
def test_an_export_imports_back_as_the_same_roster(client, settings, replace):
    north, south = bearer(settings), bearer(settings, org="south")
    assert client.post("/v1/roster/import", json={"files": template_files()}, headers=north).status_code == 200
    original = client.get("/v1/roster", headers=north).json()
    exported = client.get("/v1/roster/export", headers=north)
    assert (
        exported.status_code == 200
        and exported.headers["ETag"] == client.get("/v1/roster", headers=north).headers["ETag"]
    )
    files = exported.json()["files"]
    into_south = client.post("/v1/roster/import", params={"replace": replace}, json={"files": files}, headers=south)
    assert into_south.status_code == 200
    assert client.get("/v1/roster", headers=south).json() == original
    back = client.post("/v1/roster/import", params={"replace": replace}, json={"files": files}, headers=north)
    assert back.json()["carers"]["unchanged"] == len(original["carers"])
    assert back.json()["clients"]["unchanged"] == len(original["clients"])


def test_of_two_writers_with_the_same_etag_exactly_one_wins(client, settings):
    boss = bearer(settings)
    tag = client.put("/v1/roster/carers/amina", json=carer("amina"), headers=boss).headers["ETag"]
    for round_ in range(5):
        tagged = {**boss, "If-Match": tag}

        def change(hours: float, headers: dict = tagged):
            return lambda http: http.put(
                "/v1/roster/carers/amina", json=carer("amina", contracted_hours=hours), headers=headers
            )

        answers = _at_once(client.base_url, [change(10 + round_), change(20 + round_)])
        assert sorted(a.status_code for a in answers) == [200, 412]
        winner = next(a for a in answers if a.status_code == 200)
        now = client.get("/v1/roster/carers/amina", headers=boss)
        assert now.json()["contracted_hours"] == winner.json()["contracted_hours"]
        tag = now.headers["ETag"]
        assert tag == winner.headers["ETag"]


def test_a_carer_removed_while_a_client_comes_to_prefer_them_leaves_the_roster_valid(client, settings):
    """The removal and the client's change take turns: either the client is refused (the
    carer is gone) or the removal is (the client names them); never both made."""
    boss = bearer(settings)
    put = client.put(
        "/v1/roster/settings", json={"skills": ["medication"]}, headers={**boss, "If-Match": '"settings.0"'}
    )
    assert put.status_code == 200
    for round_ in range(5):
        name = f"carer-{round_}"
        tag = client.put(f"/v1/roster/carers/{name}", json=carer(name), headers=boss).headers["ETag"]
        fan = client_with_package(f"client-{round_}", [name], [])
        answers = _at_once(
            client.base_url,
            [
                lambda http, name=name, tag=tag: http.delete(
                    f"/v1/roster/carers/{name}", headers={**boss, "If-Match": tag}
                ),
                lambda http, fan=fan: http.put(f"/v1/roster/clients/{fan['id']}", json=fan, headers=boss),
            ],
        )
        removed, added = (a.status_code for a in answers)
        assert (removed, added) in {(204, 422), (409, 201)}
        whole = client.get("/v1/roster", headers=boss)
        Roster.model_validate(whole.json())  # the roster as stored is valid


def test_a_carer_with_an_id_beyond_ascii_is_not_removed_while_a_client_names_them(client, settings):
    boss = bearer(settings)
    tag = client.put("/v1/roster/carers/zoë", json=carer("zoë"), headers=boss).headers["ETag"]
    fan = client_with_package("ødegård", [], ["zoë"]) | {"package": []}
    assert client.put("/v1/roster/clients/ødegård", json=fan, headers=boss).status_code == 201
    in_use = client.delete("/v1/roster/carers/zoë", headers={**boss, "If-Match": tag})
    assert in_use.status_code == 409 and "ødegård" in in_use.json()["detail"]
