"""A roster from spreadsheets: the CSV files a care provider keeps its carers and clients
in, and back (``docs/roster-template/README.md`` explains every column).

    carers.csv     one row per carer: skills, home, contract, weekly availability
    absences.csv   one row per absence (leave, sickness) of a carer in carers.csv
    clients.csv    one row per client: home, wishes about carers
    package.csv    one row per recurring call of a client in clients.csv
    settings.json  optional: the roster's settings (``RosterSettings`` as JSON)

A file is a mapping from its name to its text. Reading checks everything before it
returns: each problem names the file, the row as a spreadsheet numbers it (the header is
row 1), the column and the reason, and all of them are raised together in one
``RosterFilesError``; a roster is never returned half read.

A carer's absences and a client's calls are read with the carer or client: importing a
carer replaces their absences with those in absences.csv, and a row of absences.csv or
package.csv for someone not in carers.csv or clients.csv is refused.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import InputError
from .model import WEEKDAYS, Absence, CarePackageVisit, Roster, RosterCarer, RosterClient, Weekday
from .settings import RosterSettings, roster_with, settings_of

__all__ = [
    "ABSENCES",
    "CARERS",
    "CLIENTS",
    "COLUMNS",
    "PACKAGE",
    "ROSTER_FILES",
    "SETTINGS",
    "CsvProblem",
    "RosterFilesError",
    "read_roster_csv",
    "roster_to_csv",
]

CARERS, ABSENCES, CLIENTS, PACKAGE = "carers.csv", "absences.csv", "clients.csv", "package.csv"
SETTINGS = "settings.json"
ROSTER_FILES = (SETTINGS, CARERS, ABSENCES, CLIENTS, PACKAGE)

COLUMNS: dict[str, tuple[str, ...]] = {
    CARERS: (
        "id",
        "name",
        "gender",
        "skills",
        "lat",
        "lon",
        "address",
        "travel_mode",
        "contracted_hours",
        "max_hours",
        "max_daily_hours",
        *WEEKDAYS,
        "works_bank_holidays",
        "employed_from",
        "employed_to",
        "break_after",
        "break_minutes",
        "break_earliest",
        "break_latest",
    ),
    ABSENCES: ("carer", "start", "end", "kind", "note"),
    CLIENTS: (
        "id",
        "name",
        "lat",
        "lon",
        "address",
        "gender_requirement",
        "gender_preference",
        "preferred_carers",
        "banned_carers",
        "phone",
        "access_notes",
        "notes",
    ),
    PACKAGE: (
        "client",
        "call",
        "weekdays",
        "window_start",
        "window_end",
        "target_start",
        "target_end",
        "duration",
        "skills",
        "carers_needed",
        "synchronisation",
        "min_gap",
        "max_gap",
        "tasks",
        "on_bank_holidays",
        "effective_from",
        "effective_to",
        "mandatory",
    ),
}
"""Each CSV file's columns, in the order the export writes them (any order is read)."""

REQUIRED: dict[str, tuple[str, ...]] = {
    CARERS: ("id", "lat", "lon"),
    ABSENCES: ("carer", "start"),
    CLIENTS: ("id", "lat", "lon"),
    PACKAGE: ("client", "call", "window_start", "duration"),
}
"""Columns a file must have (the others may be left out: their defaults apply)."""

MOST_SHOWN = 20
"""Problems spelled out in the error's message (all of them are in ``problems``)."""


_WEEKDAY_NAMES: dict[str, Weekday] = {day: day for day in WEEKDAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_WEEKDAY_WORDS: dict[str, tuple[Weekday, ...]] = {"daily": WEEKDAYS, "weekdays": WEEKDAYS[:5], "weekends": WEEKDAYS[5:]}
_TRUE, _FALSE = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2}(?:\.\d+)?)")
_OFF = "off"
"""An availability cell saying the carer does not work that weekday (an empty cell says the same)."""


@dataclass(frozen=True)
class CsvProblem:
    """One thing wrong in the roster's files. ``row`` is the spreadsheet's row number
    (the header is 1; None: the file as a whole); ``column`` the column's header (or a
    field of settings.json)."""

    file: str
    row: int | None
    column: str | None
    reason: str

    @property
    def field(self) -> str:
        """``file:row:column`` (the parts known), as an error's field."""
        return ":".join(str(part) for part in (self.file, self.row, self.column) if part is not None)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}" if self.row is not None else f" {self.column}"
        return f"{where}: {self.reason}"


class RosterFilesError(InputError):
    """Everything wrong in the roster's files at once (``problems``, in file and row order);
    its ``field`` is the first problem's."""

    def __init__(self, problems: Iterable[CsvProblem]):
        self.problems = tuple(problems)
        shown = "; ".join(str(problem) for problem in self.problems[:MOST_SHOWN])
        more = len(self.problems) - MOST_SHOWN
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} in the roster's files"
        super().__init__("", f"{count}: {shown}" + (f"; and {more} more" if more > 0 else ""))
        self.field = self.problems[0].field if self.problems else ""


# --- reading -----------------------------------------------------------------------------------


def read_roster_csv(files: Mapping[str, str], base: Roster | None = None, *, replace: bool = True) -> Roster:
    """The roster the files describe.

    Settings come from settings.json when given, else from ``base`` (else the defaults).
    With ``replace`` the roster's carers and clients are exactly the files'; without, the
    files' carers and clients are added to ``base``'s, replacing those of the same id
    (kept in their place; new ones follow). Raises ``RosterFilesError`` naming every
    problem; nothing is returned half read."""
    problems: list[CsvProblem] = []
    for name in files:
        if name not in ROSTER_FILES:
            known = ", ".join(ROSTER_FILES)
            problems.append(CsvProblem(name, None, None, f"unknown file (the roster's files are {known})"))
    settings = _read_settings(files[SETTINGS], problems) if SETTINGS in files else None
    if settings is None:
        settings = settings_of(base) if base is not None else RosterSettings()
    refused_carers: set[str] = set()
    refused_clients: set[str] = set()
    carers = _read_entities(files, CARERS, _carer, problems, refused_carers)
    absences = _read_entities(files, ABSENCES, _absence, problems)
    clients = _read_entities(files, CLIENTS, _client, problems, refused_clients)
    calls = _read_entities(files, PACKAGE, _call, problems)

    # a file not read at all (a bad header, not CSV, not JSON) is not looked in for references
    unreadable = {problem.file for problem in problems if problem.row in (None, 1)}
    carer_rows = _unique(CARERS, carers, "carer", problems)
    client_rows = _unique(CLIENTS, clients, "client", problems)
    if CARERS not in unreadable:
        _attach(ABSENCES, absences, "carer", carers, carer_rows, refused_carers, "absences", problems)
    if CLIENTS not in unreadable:
        _attach(PACKAGE, calls, "client", clients, client_rows, refused_clients, "package", problems)

    new_carers = [carer for _, carer in carers]
    new_clients = [client for _, client in clients]
    if base is not None and not replace:
        new_carers = _upsert(base.carers, new_carers)
        new_clients = _upsert(base.clients, new_clients)
    if SETTINGS not in unreadable:
        _check_skills(settings, carers, clients, calls, new_carers, new_clients, problems)
    if CARERS not in unreadable:
        _check_carers(clients, {carer.id for carer in new_carers} | refused_carers, problems)
    if problems:
        raise RosterFilesError(sorted(problems, key=_in_file_order))
    try:
        return roster_with(settings, new_carers, new_clients)
    except ValidationError as error:  # a check above missed something: say so plainly still
        raise RosterFilesError(_from_validation("roster", None, error, {}, ())) from None


def _in_file_order(problem: CsvProblem) -> tuple:
    files = {name: i for i, name in enumerate(ROSTER_FILES)}
    columns = COLUMNS.get(problem.file, ())
    column = columns.index(problem.column) if problem.column in columns else -1
    return files.get(problem.file, -1), problem.file, problem.row or 0, column


def _read_settings(text: str, problems: list[CsvProblem]) -> RosterSettings | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(CsvProblem(SETTINGS, None, None, f"not JSON: {error}"))
        return None
    try:
        return RosterSettings.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"]) or None
            problems.append(CsvProblem(SETTINGS, None, field, _message(item["msg"])))
        return None


Row = dict[str, str]
"""A row's non-empty cells by column, stripped."""


def _read_entities(
    files: Mapping[str, str],
    name: str,
    read: Callable[[int, Row, list[CsvProblem]], Any],
    problems: list[CsvProblem],
    refused: set[str] | None = None,
) -> list[tuple[int, Any]]:
    """``(row number, what read made of the row)`` for each row ``read`` could make sense
    of; the ids of rows refused go to ``refused`` (others referring to them are not
    refused for it as well)."""
    out = []
    for number, row in _rows(files, name, problems):
        item = read(number, row, problems)
        if item is not None:
            out.append((number, item))
        elif refused is not None and "id" in row:
            refused.add(row["id"])
    return out


def _rows(files: Mapping[str, str], name: str, problems: list[CsvProblem]) -> list[tuple[int, Row]]:
    text = files.get(name)
    if text is None:
        return []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))  # Excel starts UTF-8 with a BOM
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            return []
        columns = [cell.strip().lower() for cell in header]
        bad = len(problems)
        known = COLUMNS[name]
        for i, column in enumerate(columns):
            if column not in known:
                problems.append(
                    CsvProblem(name, 1, column or f"#{i + 1}", f"unknown column (the columns are {', '.join(known)})")
                )
            elif column in columns[:i]:
                problems.append(CsvProblem(name, 1, column, "the column appears twice"))
        for column in REQUIRED[name]:
            if column not in columns:
                problems.append(CsvProblem(name, 1, column, "a required column is missing"))
        if len(problems) > bad:
            return []
        rows = []
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(columns) and any(cell.strip() for cell in record[len(columns) :]):
                problems.append(CsvProblem(name, number, None, f"{len(record)} cells but {len(columns)} columns"))
                continue
            cells = zip(columns, record, strict=False)  # a short row: its last cells are empty
            rows.append((number, {column: cell.strip() for column, cell in cells if cell.strip()}))
        return rows
    except csv.Error as error:
        problems.append(CsvProblem(name, None, None, f"not CSV: {error} (line {reader.line_num})"))
        return []


# Where a model's field comes from: its location in the model -> the column.
_CARER_FIELDS = {
    ("home", "lat"): "lat",
    ("home", "lon"): "lon",
    ("home", "address"): "address",
    ("break_rule", "after_minutes"): "break_after",
    ("break_rule", "duration"): "break_minutes",
    ("break_rule", "earliest"): "break_earliest",
    ("break_rule", "latest"): "break_latest",
    ("break_rule",): "break_latest",
}
_CLIENT_FIELDS = {("home", "lat"): "lat", ("home", "lon"): "lon", ("home", "address"): "address"}
_CALL_FIELDS = {
    ("id",): "call",
    ("window", "start"): "window_start",
    ("window", "end"): "window_end",
    ("window",): "window_end",
    ("target", "start"): "target_start",
    ("target", "end"): "target_end",
    ("target",): "target_end",
    ("synchronisation", "kind"): "synchronisation",
    ("synchronisation", "min_gap"): "min_gap",
    ("synchronisation", "max_gap"): "max_gap",
    ("synchronisation",): "max_gap",
}
_ABSENCE_FIELDS = {(): "end"}


class _Cells:
    """A row's cells turned into a model's fields, each problem kept with its column."""

    def __init__(self, file: str, number: int, row: Row, problems: list[CsvProblem]):
        self.file, self.number, self.row, self.problems = file, number, row, problems
        self.failed: set[str | None] = set()

    def get(self, column: str, convert: Callable[[str], Any] | None = None) -> Any:
        """The cell converted (None when empty or wrong; a wrong one is a problem)."""
        text = self.row.get(column)
        if text is None or convert is None:
            return text
        try:
            return convert(text)
        except ValueError as error:
            self.fail(column, str(error))
            return None

    def fail(self, column: str | None, reason: str) -> None:
        self.problems.append(CsvProblem(self.file, self.number, column, reason))
        self.failed.add(column)

    def model(self, model: type[BaseModel], data: dict[str, Any], fields: dict[tuple, str]) -> Any:
        """The row's model; None if a cell or the model is wrong (every problem is kept,
        a cell already refused not twice)."""
        try:
            made = model.model_validate({key: value for key, value in data.items() if value is not None})
        except ValidationError as error:
            found = _from_validation(self.file, self.number, error, fields, COLUMNS.get(self.file, ()))
            self.problems.extend(problem for problem in found if problem.column not in self.failed)
            return None
        return None if self.failed else made


def _carer(number: int, row: Row, problems: list[CsvProblem]) -> RosterCarer | None:
    cells = _Cells(CARERS, number, row, problems)
    availability = {day: cells.get(day, _shifts) for day in WEEKDAYS if day in row}
    break_rule = {
        "after_minutes": cells.get("break_after"),
        "duration": cells.get("break_minutes"),
        "earliest": cells.get("break_earliest", _clock),
        "latest": cells.get("break_latest", _clock),
    }
    data = {
        "id": cells.get("id"),
        "name": cells.get("name"),
        "gender": cells.get("gender", str.lower),
        "skills": cells.get("skills", _list),
        "home": {"lat": cells.get("lat"), "lon": cells.get("lon"), "address": cells.get("address")},
        "travel_mode": cells.get("travel_mode", str.lower),
        "contracted_hours": cells.get("contracted_hours"),
        "max_hours": cells.get("max_hours"),
        "max_daily_hours": cells.get("max_daily_hours"),
        "availability": {day: shifts for day, shifts in availability.items() if shifts is not None},
        "works_bank_holidays": cells.get("works_bank_holidays", _yes_no),
        "employed_from": cells.get("employed_from"),
        "employed_to": cells.get("employed_to"),
        "break_rule": {key: value for key, value in break_rule.items() if value is not None} or None,
    }
    data["home"] = {key: value for key, value in data["home"].items() if value is not None}
    return cells.model(RosterCarer, data, _CARER_FIELDS)


def _absence(number: int, row: Row, problems: list[CsvProblem]) -> tuple[str, Absence] | None:
    cells = _Cells(ABSENCES, number, row, problems)
    carer = cells.get("carer")
    data = {"start": cells.get("start"), "end": cells.get("end"), "kind": cells.get("kind", str.lower)}
    data["note"] = cells.get("note")
    if carer is None:
        cells.fail("carer", "the carer's id is missing")
    absence = cells.model(Absence, data, _ABSENCE_FIELDS)
    return (carer, absence) if absence is not None else None


def _client(number: int, row: Row, problems: list[CsvProblem]) -> RosterClient | None:
    cells = _Cells(CLIENTS, number, row, problems)
    home = {"lat": cells.get("lat"), "lon": cells.get("lon"), "address": cells.get("address")}
    data = {
        "id": cells.get("id"),
        "name": cells.get("name"),
        "home": {key: value for key, value in home.items() if value is not None},
        "gender_requirement": cells.get("gender_requirement", str.lower),
        "gender_preference": cells.get("gender_preference", str.lower),
        "preferred_carers": cells.get("preferred_carers", _list),
        "banned_carers": cells.get("banned_carers", _list),
        "phone": cells.get("phone"),
        "access_notes": cells.get("access_notes"),
        "notes": cells.get("notes"),
    }
    return cells.model(RosterClient, data, _CLIENT_FIELDS)


def _call(number: int, row: Row, problems: list[CsvProblem]) -> tuple[str, CarePackageVisit] | None:
    cells = _Cells(PACKAGE, number, row, problems)
    client = cells.get("client")
    if client is None:
        cells.fail("client", "the client's id is missing")
    target = {"start": cells.get("target_start", _clock), "end": cells.get("target_end", _clock)}
    if target["end"] is not None and target["start"] is None:
        cells.fail("target_start", "target_end is given without target_start")
    kind = cells.get("synchronisation", str.lower)
    gaps = {"min_gap": cells.get("min_gap"), "max_gap": cells.get("max_gap")}
    if kind is None and any(gap is not None for gap in gaps.values()):
        cells.fail("synchronisation", "min_gap or max_gap is given without synchronisation (sequential)")
    data = {
        "id": cells.get("call"),
        "weekdays": cells.get("weekdays", _weekdays),
        "window": {"start": cells.get("window_start", _clock), "end": cells.get("window_end", _clock)},
        "target": {key: value for key, value in target.items() if value is not None}
        if target["start"] is not None
        else None,
        "duration": cells.get("duration"),
        "skills": cells.get("skills", _list),
        "carers_needed": cells.get("carers_needed", _whole),
        "synchronisation": (
            {"kind": kind, **{key: value for key, value in gaps.items() if value is not None}} if kind else None
        ),
        "tasks": cells.get("tasks", _list),
        "on_bank_holidays": cells.get("on_bank_holidays", _yes_no),
        "effective_from": cells.get("effective_from"),
        "effective_to": cells.get("effective_to"),
        "mandatory": cells.get("mandatory", _yes_no),
    }
    data["window"] = {key: value for key, value in data["window"].items() if value is not None}
    call = cells.model(CarePackageVisit, data, _CALL_FIELDS)
    return (client, call) if call is not None else None


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _yes_no(text: str) -> bool:
    word = text.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{text!r} is neither yes nor no")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None


def _shifts(text: str) -> list[dict[str, float]]:
    """``07:00-13:00 16:00-22:30`` (spaces, commas or semicolons between shifts); ``off``: none."""
    if text.lower() == _OFF:
        return []
    shifts = []
    for part in text.replace(",", " ").replace(";", " ").split():
        start, dash, end = part.partition("-")
        if not dash or not start or not end:
            raise ValueError(f"{part!r} is not a shift such as 07:00-13:00")
        try:
            shifts.append({"start": _clock(start), "end": _clock(end)})
        except ValueError as error:
            raise ValueError(f"{part!r}: {error}") from None
    return shifts


def _clock(text: str) -> float:
    """A time of day, ``HH:MM`` (``24:00`` and beyond for a shift past midnight; ``07:30.5``
    for fractional minutes, as the export writes them), as minutes after midnight."""
    match = _CLOCK.fullmatch(text)
    if match is None or float(match[2]) >= 60:
        raise ValueError(f"{text!r} is not a time HH:MM")
    return int(match[1]) * 60 + float(match[2])


def _weekdays(text: str) -> list[Weekday]:
    """``daily``, ``weekdays``, ``weekends``, ``mon-fri``, ``mon;wed;fri``, ``sat-sun;wed``."""
    word = text.lower()
    if word in _WEEKDAY_WORDS:
        return list(_WEEKDAY_WORDS[word])
    days: list[Weekday] = []
    for part in (part.strip() for part in word.replace(",", ";").split(";")):
        if not part:
            continue
        first, dash, last = (name.strip() for name in part.partition("-"))
        if first not in _WEEKDAY_NAMES or (dash and last not in _WEEKDAY_NAMES):
            raise ValueError(f"{part!r} is not a weekday (mon..sun) or a range of them (mon-fri)")
        if not dash:
            days.append(_WEEKDAY_NAMES[first])
            continue
        start, end = WEEKDAYS.index(_WEEKDAY_NAMES[first]), WEEKDAYS.index(_WEEKDAY_NAMES[last])
        days.extend(WEEKDAYS[(start + i) % 7] for i in range((end - start) % 7 + 1))  # fri-mon wraps round
    return days


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


def _from_validation(
    file: str, number: int | None, error: ValidationError, fields: Mapping[tuple, str], columns: Iterable[str]
) -> list[CsvProblem]:
    """pydantic's errors as problems in the file's columns."""
    columns = tuple(columns)
    out = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and "[" in part))
        message = _message(item["msg"])
        if not loc and ": " in message and " " not in message.split(": ", 1)[0]:
            # a model's own check names its field first: "availability.mon: shifts overlap"
            head, message = message.split(": ", 1)
            loc = tuple(head.split("."))
        column = None
        for size in (2, 1) if loc else (0,):
            if len(loc) >= size and loc[:size] in fields:
                column = fields[loc[:size]]
                break
        if column is None and loc and loc[0] in columns:
            column = str(loc[0])
        if column is None and len(loc) > 1 and loc[0] == "availability":
            column = str(loc[1])
        if column is None and not loc and message.split(" ", 1)[0] in columns:
            column = message.split(" ", 1)[0]  # "weekdays is empty", "effective_to ... is before ..."
        if column is None and loc:
            message = f"{'.'.join(str(part) for part in loc)}: {message}"
        out.append(CsvProblem(file, number, column, message))
    return out


def _unique(file: str, rows: list[tuple[int, Any]], what: str, problems: list[CsvProblem]) -> dict[str, int]:
    """Each id's row; an id on two rows is a problem at the second."""
    first: dict[str, int] = {}
    for number, item in rows:
        if item.id in first:
            problems.append(CsvProblem(file, number, "id", f"{what} {item.id!r} is also on row {first[item.id]}"))
        else:
            first[item.id] = number
    return first


def _attach(
    file: str,
    rows: list[tuple[int, tuple[str, Any]]],
    key: str,
    owners: list[tuple[int, Any]],
    owner_rows: Mapping[str, int],
    refused: set[str],
    field: str,
    problems: list[CsvProblem],
) -> None:
    """Give each carer their absences (each client their calls) in the file's order."""
    owner_file = CARERS if key == "carer" else CLIENTS
    by_id = {owner.id: owner for number, owner in owners if owner_rows.get(owner.id) == number}
    held: dict[str, list[Any]] = {owner_id: [] for owner_id in by_id}
    seen_calls: dict[tuple[str, str], int] = {}
    for number, (owner_id, item) in rows:
        if owner_id in refused:
            continue
        if owner_id not in by_id:
            problems.append(
                CsvProblem(file, number, key, f"{key} {owner_id!r} is not in {owner_file} (import them together)")
            )
            continue
        if field == "package":
            if (owner_id, item.id) in seen_calls:
                where = seen_calls[owner_id, item.id]
                reason = f"{owner_id!r} has call {item.id!r} on row {where} too"
                problems.append(CsvProblem(file, number, "call", reason))
                continue
            seen_calls[owner_id, item.id] = number
        held[owner_id].append(item)
    for owner_id, owner in by_id.items():
        setattr(owner, field, held[owner_id])


def _upsert(kept: list[Any], new: list[Any]) -> list[Any]:
    incoming = {item.id: item for item in new}
    known = {item.id for item in kept}
    return [incoming.get(item.id, item) for item in kept] + [item for item in new if item.id not in known]


def _check_skills(
    settings: RosterSettings,
    carer_rows: list[tuple[int, RosterCarer]],
    client_rows: list[tuple[int, RosterClient]],
    call_rows: list[tuple[int, tuple[str, CarePackageVisit]]],
    carers: list[RosterCarer],
    clients: list[RosterClient],
    problems: list[CsvProblem],
) -> None:
    """Every skill named is declared in the settings: each named at its row, and those of
    carers and clients kept from the roster by an upsert at settings.json's skills."""
    skills = set(settings.skills)
    declared = f"declare it in {SETTINGS} skills"
    for number, carer in carer_rows:
        for name in carer.skills:
            if name not in skills:
                problems.append(CsvProblem(CARERS, number, "skills", f"unknown skill {name!r} ({declared})"))
    for number, (_, call) in call_rows:
        for name in call.skills:
            if name not in skills:
                problems.append(CsvProblem(PACKAGE, number, "skills", f"unknown skill {name!r} ({declared})"))
    imported = {id(carer) for _, carer in carer_rows} | {id(client) for _, client in client_rows}
    kept = [(f"carer {c.id}", c.skills) for c in carers if id(c) not in imported]
    kept += [(f"client {c.id}", _skills_of(c)) for c in clients if id(c) not in imported]
    for who, names in kept:
        for name in dict.fromkeys(names):
            if name not in skills:
                problems.append(CsvProblem(SETTINGS, None, "skills", f"skill {name!r} is missing but {who} needs it"))


def _check_carers(client_rows: list[tuple[int, RosterClient]], carer_ids: set[str], problems: list[CsvProblem]) -> None:
    """Carers a client prefers or bans are in the roster, each named at the client's row."""
    for number, client in client_rows:
        for field in ("preferred_carers", "banned_carers"):
            for ref in getattr(client, field):
                if ref not in carer_ids:
                    problems.append(CsvProblem(CLIENTS, number, field, f"unknown carer {ref!r}"))


def _skills_of(client: RosterClient) -> list[str]:
    return [name for call in client.package for name in call.skills]


# --- writing -----------------------------------------------------------------------------------


def roster_to_csv(roster: Roster) -> dict[str, str]:
    """The roster as its files (all five): ``read_roster_csv`` of them is the same roster."""
    carers, absences, clients, package = (_writer(name) for name in (CARERS, ABSENCES, CLIENTS, PACKAGE))
    for carer in roster.carers:
        rule = carer.break_rule
        carers[1].writerow(
            {
                "id": carer.id,
                "name": carer.name,
                "gender": carer.gender.value if carer.gender else None,
                "skills": ";".join(carer.skills),
                "lat": _number(carer.home.lat),
                "lon": _number(carer.home.lon),
                "address": carer.home.address,
                "travel_mode": carer.travel_mode.value,
                "contracted_hours": _number(carer.contracted_hours),
                "max_hours": _number(carer.max_hours),
                "max_daily_hours": _number(carer.max_daily_hours),
                **{day: _shifts_text(carer.availability[day]) for day in WEEKDAYS if day in carer.availability},
                "works_bank_holidays": _yes_no_text(carer.works_bank_holidays),
                "employed_from": carer.employed_from,
                "employed_to": carer.employed_to,
                "break_after": _number(rule.after_minutes) if rule else None,
                "break_minutes": _number(rule.duration) if rule else None,
                "break_earliest": _time(rule.earliest) if rule else None,
                "break_latest": _time(rule.latest) if rule else None,
            }
        )
        for absence in carer.absences:
            absences[1].writerow(
                {"carer": carer.id, "start": absence.start, "end": absence.end}
                | {"kind": absence.kind, "note": absence.note}
            )
    for client in roster.clients:
        clients[1].writerow(
            {
                "id": client.id,
                "name": client.name,
                "lat": _number(client.home.lat),
                "lon": _number(client.home.lon),
                "address": client.home.address,
                "gender_requirement": client.gender_requirement.value if client.gender_requirement else None,
                "gender_preference": client.gender_preference.value if client.gender_preference else None,
                "preferred_carers": ";".join(client.preferred_carers),
                "banned_carers": ";".join(client.banned_carers),
                "phone": client.phone,
                "access_notes": client.access_notes,
                "notes": client.notes,
            }
        )
        for call in client.package:
            sync = call.synchronisation
            package[1].writerow(
                {
                    "client": client.id,
                    "call": call.id,
                    "weekdays": _weekdays_text(call.weekdays),
                    "window_start": _time(call.window.start),
                    "window_end": _time(call.window.end),
                    "target_start": _time(call.target.start) if call.target else None,
                    "target_end": _time(call.target.end) if call.target else None,
                    "duration": _number(call.duration),
                    "skills": ";".join(call.skills),
                    "carers_needed": call.carers_needed,
                    "synchronisation": sync.kind if sync else None,
                    "min_gap": _number(sync.min_gap) if sync and sync.kind == "sequential" else None,
                    "max_gap": _number(sync.max_gap) if sync and sync.kind == "sequential" else None,
                    "tasks": ";".join(call.tasks),
                    "on_bank_holidays": _yes_no_text(call.on_bank_holidays),
                    "effective_from": call.effective_from,
                    "effective_to": call.effective_to,
                    "mandatory": _yes_no_text(call.mandatory),
                }
            )
    settings = settings_of(roster).model_dump_json(indent=2) + "\n"
    written = {CARERS: carers, ABSENCES: absences, CLIENTS: clients, PACKAGE: package}
    return {SETTINGS: settings} | {name: out.getvalue() for name, (out, _) in written.items()}


def _writer(name: str) -> tuple[io.StringIO, csv.DictWriter]:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS[name])
    writer.writeheader()
    return out, writer


def _number(value: float | None) -> str | None:
    """A number as written by hand: ``37.5``, ``40`` (not ``40.0``), exact when read back."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _time(minutes: float | None) -> str | None:
    """Minutes after midnight as ``HH:MM`` (``HH:MM.f`` for fractional minutes)."""
    if minutes is None:
        return None
    hours, rest = divmod(float(minutes), 60)
    if rest.is_integer():
        return f"{int(hours):02d}:{int(rest):02d}"
    return f"{int(hours):02d}:{'0' if rest < 10 else ''}{rest!r}"


def _shifts_text(shifts: list) -> str:
    return " ".join(f"{_time(shift.start)}-{_time(shift.end)}" for shift in shifts) or _OFF


def _yes_no_text(value: bool) -> str:
    return "yes" if value else "no"


def _weekdays_text(days: list[Weekday]) -> str:
    for word, named in _WEEKDAY_WORDS.items():
        if tuple(days) == named:
            return word
    start = WEEKDAYS.index(days[0])
    if len(days) > 2 and tuple(days) == WEEKDAYS[start : start + len(days)]:
        return f"{days[0]}-{days[-1]}"
    return ";".join(days)
