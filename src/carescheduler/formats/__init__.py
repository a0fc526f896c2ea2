"""Reading and writing problems and plans: the native JSON and the benchmark formats.

    from carescheduler.formats import read_problem, read_plan, write_plan
    problem = read_problem("InstanzCPLEX_HCSRP_10_1.txt")       # format detected
    plan = read_plan(problem, "sol-InstanzCPLEX_HCSRP_10_1.json.gz")

Formats: ``native`` (Problem/Plan JSON), ``mankowska`` (Mankowska 2014 text),
``iolab`` (Ceschia et al. 2024 JSON instances and solutions), ``extended`` (the unified
formulation of Ceschia, Di Gaspero and Schaerf 2025: instances and solutions), ``solomon``
(Solomon/Homberger VRPTW text). Files may be gzip-compressed (``.gz``). Every malformed
input raises :class:`~carescheduler.errors.InputError` naming the field and the reason.
"""

from __future__ import annotations

import re
from typing import Any

from ..domain import Problem
from ..errors import InputError
from ..plan import Plan
from ._io import PathLike, parse_json, read_text, stem_of, suffix_of
from .extended import (
    ExtendedComponents,
    extended_components,
    is_extended_instance,
    problem_from_extended,
    read_extended,
    read_extended_solution,
    to_extended_solution,
    uses_problem_ids,
    write_extended_solution,
)
from .iolab import (
    is_iolab_solution,
    problem_from_iolab,
    read_iolab,
    read_iolab_solution,
    to_iolab_solution,
    write_iolab_solution,
)
from .mankowska import problem_from_mankowska, read_mankowska
from .native import (
    events_from_json,
    plan_from_json,
    plan_to_json,
    problem_from_json,
    problem_to_json,
    read_events,
    read_native_plan,
    read_native_problem,
    write_plan,
    write_problem,
)
from .solomon import problem_from_solomon, read_solomon, solomon_weights

__all__ = [
    "FORMATS",
    "ExtendedComponents",
    "detect_format",
    "events_from_json",
    "extended_components",
    "is_extended_instance",
    "is_iolab_solution",
    "plan_from_json",
    "plan_to_json",
    "problem_from_extended",
    "problem_from_iolab",
    "problem_from_json",
    "problem_from_mankowska",
    "problem_from_solomon",
    "problem_from_text",
    "problem_to_json",
    "read_events",
    "read_extended",
    "read_extended_solution",
    "read_iolab",
    "read_iolab_solution",
    "read_mankowska",
    "read_native_plan",
    "read_native_problem",
    "read_plan",
    "read_problem",
    "read_solomon",
    "solomon_weights",
    "to_extended_solution",
    "to_iolab_solution",
    "uses_problem_ids",
    "write_extended_solution",
    "write_iolab_solution",
    "write_plan",
    "write_problem",
]

FORMATS = ("auto", "native", "mankowska", "iolab", "extended", "solomon")
_MANKOWSKA = re.compile(r"^\s*nbNodes\s*$", re.MULTILINE)
_SOLOMON = (re.compile(r"^\s*VEHICLE\s*$", re.MULTILINE), re.compile(r"^\s*CUSTOMER\s*$", re.MULTILINE))


def detect_format(path: PathLike) -> str:
    """``native``, ``iolab``, ``extended``, ``mankowska`` or ``solomon``, by file extension and content."""
    return _detect(path, read_text(path))[0]


def read_problem(path: PathLike, format: str = "auto", *, integer_travel: bool = False) -> Problem:
    """Read a problem file in any supported format (``format="auto"`` detects it).

    ``integer_travel`` (Solomon/Homberger only) rounds the Euclidean travel times.
    """
    source = str(path)
    if format not in FORMATS:
        raise InputError("format", f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", source)
    text = read_text(path)
    if format == "auto":
        format, data = _detect(path, text)
        if format in ("iolab", "extended"):  # already parsed while detecting
            _check_integer_travel(integer_travel, format, source)
            read = problem_from_iolab if format == "iolab" else problem_from_extended
            return read(data, name=stem_of(path), source=source)
    return problem_from_text(text, format, name=stem_of(path), source=source, integer_travel=integer_travel)


def problem_from_text(
    text: str,
    format: str,
    name: str | None = None,
    source: str | None = None,
    *,
    integer_travel: bool = False,
) -> Problem:
    """Parse a problem from the text of a file of a known format (not ``auto``)."""
    _check_integer_travel(integer_travel, format, source)
    if format == "native":
        return problem_from_json(text, source=source)
    if format == "mankowska":
        return problem_from_mankowska(text, name=name or "mankowska", source=source)
    if format == "solomon":
        return problem_from_solomon(text, name=name, source=source, integer_travel=integer_travel)
    if format == "iolab":
        return problem_from_iolab(parse_json(text, source), name=name, source=source)
    if format == "extended":
        return problem_from_extended(parse_json(text, source), name=name, source=source)
    raise InputError("format", f"unknown format {format!r}; expected one of {', '.join(FORMATS[1:])}", source)


def read_plan(problem: Problem, path: PathLike) -> Plan:
    """Read a plan: a native Plan JSON or an iolab solution (a route with ``caregiver_id``).

    An iolab solution names carers and patients by the problem's own ids (the 2025 format)
    when :func:`uses_problem_ids` says so, else by the 2024 numbering ``c<k>``/``p<k>``.
    """
    source = str(path)
    if not suffix_of(path).startswith(".json"):
        raise InputError("path", "unknown plan file extension; expected .json or .json.gz", source)
    text = read_text(path)
    data = parse_json(text, source)
    if is_iolab_solution(data):
        if uses_problem_ids(problem, data):
            return read_extended_solution(problem, data, source=source)
        return read_iolab_solution(problem, data, source=source)
    return plan_from_json(text, source=source)


def _check_integer_travel(integer_travel: bool, format: str, source: str | None) -> None:
    if integer_travel and format != "solomon":
        raise InputError("integer_travel", f"only applies to Solomon/Homberger files, not {format!r}", source)


def _detect(path: PathLike, text: str) -> tuple[str, Any]:
    """The format and, for JSON files, the parsed data."""
    source = str(path)
    suffix = suffix_of(path)
    if not suffix:
        raise InputError("path", "unknown file extension; expected .json, .json.gz, .txt or .txt.gz", source)
    if suffix.startswith(".json"):
        data: Any = parse_json(text, source)
        if isinstance(data, dict):
            if is_extended_instance(data):  # before iolab: both have patients
                return "extended", data
            if "patients" in data:
                return "iolab", data
            if "visits" in data:
                return "native", data
        raise InputError("format", "a JSON file with neither 'patients' (iolab) nor 'visits' (native problem)", source)
    if _MANKOWSKA.search(text):
        return "mankowska", None
    if all(pattern.search(text) for pattern in _SOLOMON):
        return "solomon", None
    raise InputError(
        "format", "a text file with neither 'nbNodes' (Mankowska) nor 'VEHICLE'/'CUSTOMER' (Solomon)", source
    )
