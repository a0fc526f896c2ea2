"""``carescheduler week``: a roster file (or CSV folder) in, a week planned, figures out."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from typer.testing import CliRunner

from carescheduler.cli import app
from carescheduler.formats import read_plan, read_problem
from carescheduler.roster import Roster, days_from_roster
from carescheduler.roster.csv_import import roster_to_csv
from carescheduler.validator import validate
from conftest import SCENARIOS

MONDAY = dt.date(2027, 1, 4)


@pytest.fixture(scope="module")
def roster() -> Roster:
    with gzip.open(SCENARIOS / "small-roster.json.gz", "rt", encoding="utf-8") as handle:
        return Roster.model_validate_json(handle.read())


def _week(*args: str):
    return CliRunner().invoke(app, ["week", *args])


def test_a_week_is_planned_from_the_roster_file_with_its_days_written(tmp_path, roster):
    out = tmp_path / "week"
    result = _week(
        str(SCENARIOS / "small-roster.json.gz"), "--from", str(MONDAY), "--days", "2",
        "--time-limit", "0.3", "--out", str(out), "--json",
    )  # fmt: skip
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert result.exit_code == (0 if answer["valid"] else 1)
    dates = [str(MONDAY), str(MONDAY + dt.timedelta(days=1))]
    assert sorted(answer["days_valid"]) == dates
    expected = days_from_roster(roster, MONDAY, MONDAY + dt.timedelta(days=1))
    for date in dates:
        problem = read_problem(out / f"{date}-problem.json.gz")
        plan = read_plan(problem, out / f"{date}-plan.json")
        assert validate(problem, plan).valid == answer["days_valid"][date]
        assert {v.id for v in problem.visits} == {v.id for v in expected[dt.date.fromisoformat(date)].visits}
    assert answer["summary"]["days"] == 2


def test_the_text_summary_names_the_week_s_rules_and_fairness(roster):
    result = _week(str(SCENARIOS / "small-roster.json.gz"), "--from", str(MONDAY), "--days", "1", "--time-limit", "0.2")
    assert result.exit_code in (0, 1), result.output
    assert f"Figures {MONDAY} to {MONDAY}: 1 day with a plan" in result.output
    assert "48 h and 11 h rest" in result.output
    assert "worked less contracted" in result.output


def test_a_folder_of_csv_files_is_a_roster(tmp_path, roster):
    for name, text in roster_to_csv(roster).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = _week(str(tmp_path), "--from", str(MONDAY), "--days", "1", "--time-limit", "0.2", "--one-by-one", "--json")
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert list(answer["days_valid"]) == [str(MONDAY)]
    assert answer["notes"] == []  # one by one: nothing bounded, nothing to say


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--from", "4 January"], "--from"),
        (["--from", str(MONDAY), "--days", "40"], "--days"),
    ],
)
def test_bad_options_name_the_option(args, named):
    result = _week(str(SCENARIOS / "small-roster.json.gz"), *args)
    assert result.exit_code == 2
    assert named in result.output


def test_a_roster_that_does_not_parse_is_named(tmp_path):
    bad = tmp_path / "roster.json"
    bad.write_text('{"carers": [{"id": 3}]}', encoding="utf-8")
    result = _week(str(bad), "--from", str(MONDAY))
    assert result.exit_code == 2
    assert "roster.json" in result.output


def test_ray_without_one_by_one_is_refused_naming_both_options():
    result = _week(str(SCENARIOS / "small-roster.json.gz"), "--from", str(MONDAY), "--ray", "auto")
    assert result.exit_code == 2
    assert "--ray" in result.output and "--one-by-one" in result.output
    assert "sequential" in result.output


def test_an_empty_ray_address_is_named_as_the_option():
    result = _week(str(SCENARIOS / "small-roster.json.gz"), "--from", str(MONDAY), "--one-by-one", "--ray", " ")
    assert result.exit_code == 2
    assert "--ray: is empty" in result.output


def test_one_by_one_on_a_ray_cluster_plans_the_days_there(tmp_path, ray_cluster):
    out = tmp_path / "week"
    result = _week(
        str(SCENARIOS / "small-roster.json.gz"), "--from", str(MONDAY), "--days", "3", "--time-limit", "0.5",
        "--one-by-one", "--ray", ray_cluster.address, "--out", str(out), "--json",
    )  # fmt: skip
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert result.exit_code == (0 if answer["valid"] else 1)
    assert sorted(answer["days_valid"]) == [str(MONDAY + dt.timedelta(days=n)) for n in range(3)]
    for date, valid in answer["days_valid"].items():
        problem = read_problem(out / f"{date}-problem.json.gz")
        assert validate(problem, read_plan(problem, out / f"{date}-plan.json")).valid
        assert valid
