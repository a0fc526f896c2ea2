"""Reading a roster from its CSV files (``carescheduler.roster.csv_import``): the documented
template reads, every problem is named by file, row and column and raised together, and
an export reads back as the same roster."""

from __future__ import annotations

import datetime as dt

import pytest

from carescheduler import InputError
from carescheduler.domain import Gender, TravelMode
from carescheduler.roster import Roster
from carescheduler.roster.csv_import import (
    ABSENCES,
    CARERS,
    CLIENTS,
    COLUMNS,
    PACKAGE,
    SETTINGS,
    RosterFilesError,
    read_roster_csv,
    roster_to_csv,
)
from carescheduler.roster.model import WEEKDAYS
from carescheduler.roster.settings import RosterSettings, settings_of
from conftest import ROOT

TEMPLATE = ROOT / "docs" / "roster-template"


def template_files() -> dict[str, str]:
    return {path.name: path.read_text() for path in TEMPLATE.iterdir() if path.name != "README.md"}


def problems_of(files: dict[str, str], **kwargs) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(RosterFilesError) as raised:
        read_roster_csv(files, **kwargs)
    return [(p.file, p.row, p.column) for p in raised.value.problems]


def test_the_template_reads_as_its_readme_says():
    roster = read_roster_csv(template_files())
    assert roster.name == "North team" and roster.skills == ["medication", "hoist", "dementia"]
    assert [c.id for c in roster.carers] == ["amina", "ben", "carla"]
    amina = roster.carer("amina")
    assert amina.gender == Gender.female and amina.skills == ["medication", "hoist"]
    assert amina.home.lat == 53.4808 and amina.home.address == "12 Oak Street, Manchester M4 5JD"
    # mon: 07:00-13:00 16:00-22:30, two shifts in minutes after midnight; sat and sun empty: not working
    assert [(s.start, s.end) for s in amina.availability["mon"]] == [(7 * 60, 13 * 60), (16 * 60, 22 * 60 + 30)]
    assert set(amina.availability) == {"mon", "tue", "wed", "thu", "fri"}
    assert amina.break_rule is not None and amina.break_rule.earliest == 11 * 60
    assert amina.contracted_hours == 37.5 and amina.max_hours == 48
    ben = roster.carer("ben")
    assert not ben.works_bank_holidays and ben.max_hours is None and ben.travel_mode == TravelMode.drive
    assert ben.absences[0].kind == "sickness" and ben.absences[0].end is None
    assert ben.absences[0].note == "Flu; back when the GP says"
    assert roster.carer("carla").employed_to == dt.date(2027, 3, 31)
    assert roster.carer("carla").travel_mode == TravelMode.walk
    doris = roster.client("doris")
    assert doris.preferred_carers == ["amina", "carla"] and doris.gender_requirement == Gender.female
    lunch = next(call for call in doris.package if call.id == "lunch")
    assert lunch.weekdays == list(WEEKDAYS[:5]) and not lunch.on_bank_holidays
    assert lunch.window.start == 12 * 60 and lunch.window.end == 13 * 60 + 30 and lunch.duration == 30
    edward = roster.client("edward")
    bed = next(call for call in edward.package if call.id == "bed")
    assert bed.carers_needed == 2 and bed.synchronisation is not None and bed.synchronisation.max_gap == 10
    shopping = next(call for call in edward.package if call.id == "shopping")
    assert shopping.weekdays == ["mon", "thu"] and not shopping.mandatory
    assert shopping.effective_to == dt.date(2027, 5, 31)


def test_every_template_column_is_explained_in_the_readme():
    readme = (TEMPLATE / "README.md").read_text()
    for name, columns in COLUMNS.items():
        assert f"## {name}" in readme
        header = (TEMPLATE / name).read_text().splitlines()[0].split(",")
        assert tuple(header) == columns  # the template shows every column, in the export's order
        for column in columns:
            assert f"`{column}`" in readme, f"{name}: {column} is not explained"


def test_an_export_reads_back_as_the_same_roster():
    roster = read_roster_csv(template_files())
    # things the template does not show: fractional minutes, an explicit day off, wrapping weekdays
    roster.carers[0].availability["sat"] = []
    roster.clients[0].package[0].window.start = 7 * 60 + 30.5
    roster.clients[1].package[1].weekdays = ["sat", "sun", "mon"]
    again = read_roster_csv(roster_to_csv(roster))
    assert again == roster
    assert set(roster_to_csv(roster)) == {SETTINGS, CARERS, ABSENCES, CLIENTS, PACKAGE}


def test_an_empty_roster_exports_headers_only_and_reads_back():
    roster = Roster(name="empty", skills=["hoist"])
    files = roster_to_csv(roster)
    assert files[CARERS].strip() == ",".join(COLUMNS[CARERS])
    assert read_roster_csv(files) == roster


def test_all_problems_are_raised_together_each_named_by_file_row_and_column():
    files = template_files()
    carers = files[CARERS].splitlines()
    carers[2] = carers[2].replace("Ben Walsh,male", "Ben Walsh,mail").replace("07:00-14:00", "7am-2pm", 1)
    files[CARERS] = "\n".join(carers) + "\n"
    files[ABSENCES] += "zoe,2027-01-01,,leave,\n"  # row 5: no such carer
    package = files[PACKAGE].splitlines()
    package[3] = package[3].replace("19:00,21:00", "21:00,19:00")  # row 4: window ends before it starts
    package[6] = package[6].replace(",hoist,", ",cooking,")  # row 7: an unknown skill
    files[PACKAGE] = "\n".join(package) + "\n"
    found = problems_of(files)
    assert found == [
        (CARERS, 3, "gender"),
        (CARERS, 3, "wed"),
        (ABSENCES, 5, "carer"),
        (PACKAGE, 4, "window_end"),
        (PACKAGE, 7, "skills"),
    ]
    with pytest.raises(InputError) as raised:  # one InputError, its field the first problem's
        read_roster_csv(files)
    assert raised.value.field == "carers.csv:3:gender"
    assert "carers.csv row 3, column wed: '7am-2pm'" in str(raised.value)
    assert "package.csv row 7, column skills: unknown skill 'cooking'" in str(raised.value)


def test_a_carer_who_does_not_exist_in_a_client_list_is_named_at_its_row():
    files = template_files()
    files[CLIENTS] = files[CLIENTS].replace("ben,carla", "ben,zed")
    assert problems_of(files) == [(CLIENTS, 3, "banned_carers")]


def test_headers_are_checked_first():
    files = template_files()
    files[CARERS] = files[CARERS].replace("lat,lon", "latitude,lon", 1)
    files[CLIENTS] = "id,id,lat,lon\nx,y,1,2\n"
    files["staff.csv"] = "id\n"
    assert problems_of(files) == [
        ("staff.csv", None, None),  # not a roster file
        (CARERS, 1, "latitude"),  # unknown
        (CARERS, 1, "lat"),  # required, and missing
        (CLIENTS, 1, "id"),  # twice
    ]


def test_rows_are_counted_as_a_spreadsheet_counts_them():
    """A blank row keeps its number, and a note across lines is one row."""
    settings = '{"skills": []}'
    carers = 'id,lat,lon,address\na,51,0,"1 High St\nLondon"\n\nb,51,x,\n'
    assert problems_of({SETTINGS: settings, CARERS: carers}) == [(CARERS, 4, "lon")]


def test_a_duplicate_id_and_a_duplicate_call_are_named_at_the_second_row():
    files = template_files()
    files[CARERS] += files[CARERS].splitlines()[1] + "\n"  # amina again, row 5
    files[PACKAGE] += "doris,lunch,sat,12:00,13:00,,,30,,1,,,,,yes,,,yes\n"  # row 8
    assert problems_of(files) == [(CARERS, 5, "id"), (PACKAGE, 8, "call")]


def test_settings_come_from_the_base_roster_when_no_settings_file_is_given():
    files = template_files()
    base = Roster(name="base", timezone="Europe/Dublin", bank_holidays=None, skills=["medication", "hoist", "dementia"])
    del files[SETTINGS]
    roster = read_roster_csv(files, base)
    assert settings_of(roster) == settings_of(base)
    # without settings.json nor a base roster the defaults hold: no skills declared
    assert RosterSettings().skills == []
    skills = [(CARERS, 2, "skills"), (CARERS, 2, "skills"), (CARERS, 3, "skills"), (CARERS, 4, "skills")]
    assert problems_of({CARERS: files[CARERS]}) == skills  # amina's two, ben's and carla's


def test_settings_json_errors_name_the_setting():
    files = template_files()
    files[SETTINGS] = '{"timezone": "Mars/Olympus", "skills": ["medication", "hoist", "dementia"]}'
    assert problems_of(files) == [(SETTINGS, None, "timezone")]
    files[SETTINGS] = "{not json"
    assert problems_of(files)[0] == (SETTINGS, None, None)


def test_an_upsert_replaces_carers_of_the_same_id_and_keeps_the_others():
    base = read_roster_csv(template_files())
    files = {
        CARERS: "id,name,lat,lon,skills\nben,Benjamin Walsh,53.5,-2.3,medication\ndan,Dan Ito,53.4,-2.2,\n",
        ABSENCES: "carer,start\ndan,2027-02-01\n",
    }
    roster = read_roster_csv(files, base, replace=False)
    assert [c.id for c in roster.carers] == ["amina", "ben", "carla", "dan"]
    assert roster.carer("ben").name == "Benjamin Walsh" and roster.carer("ben").absences == []  # replaced whole
    assert roster.carer("amina") == base.carer("amina") and roster.clients == base.clients
    assert [a.start for a in roster.carer("dan").absences] == [dt.date(2027, 2, 1)]
    replaced = read_roster_csv({**files, CLIENTS: "id,lat,lon\nfrank,53,-2\n"}, base, replace=True)
    assert [c.id for c in replaced.carers] == ["ben", "dan"] and [c.id for c in replaced.clients] == ["frank"]


def test_an_upsert_refuses_new_settings_that_drop_a_skill_a_kept_carer_holds():
    base = read_roster_csv(template_files())
    files = {SETTINGS: '{"skills": ["medication", "hoist"]}'}
    found = problems_of(files, base=base, replace=False)
    assert found == [(SETTINGS, None, "skills")]  # carla holds dementia


def test_cells_in_other_spellings():
    settings = '{"skills": ["hoist"]}'
    carers = "id,lat,lon,gender,mon,tue,works_bank_holidays\na,51,0,Female,07:00-12:00;13:00-17:00,off,No\n"
    clients = "id,lat,lon\nc,51,0\n"
    package = (
        "client,call,weekdays,window_start,duration,skills\n"
        "c,a,Monday;wed-fri,07:00,00:45, hoist ; \n"
        "c,b,fri-mon,07:00,45,\n"
        "c,d,weekends,07:00,45,\n"
    )
    roster = read_roster_csv({SETTINGS: settings, CARERS: carers, CLIENTS: clients, PACKAGE: package})
    carer = roster.carers[0]
    assert carer.gender == Gender.female and not carer.works_bank_holidays and carer.availability["tue"] == []
    assert len(carer.availability["mon"]) == 2
    a, b, d = roster.clients[0].package
    assert a.weekdays == ["mon", "wed", "thu", "fri"] and a.duration == 45 and a.skills == ["hoist"]
    assert b.weekdays == ["fri", "sat", "sun", "mon"] and d.weekdays == ["sat", "sun"]
