"""The project's own JSON files: a :class:`Problem`, a :class:`Plan`, a batch of events or
a visit to recommend carers for (``.json`` or ``.json.gz``)."""

from __future__ import annotations

from pydantic import ValidationError

from ..day.events import EventBatch
from ..domain import Problem
from ..errors import InputError, describe_validation_error
from ..plan import Plan
from ._io import PathLike, parse_json, read_text, write_text

__all__ = [
    "events_from_json",
    "plan_from_json",
    "plan_to_json",
    "problem_from_json",
    "problem_to_json",
    "read_events",
    "read_native_plan",
    "read_native_problem",
    "write_plan",
    "write_problem",
]


def problem_from_json(text: str | bytes, source: str | None = None) -> Problem:
    """Parse a Problem from JSON text; errors name the field (``InputError``)."""
    try:
        return Problem.model_validate_json(text)
    except ValidationError as err:
        raise _describe(err, source) from None


def plan_from_json(text: str | bytes, source: str | None = None) -> Plan:
    """Parse a Plan from JSON text; errors name the field (``InputError``)."""
    try:
        return Plan.model_validate_json(text)
    except ValidationError as err:
        raise _describe(err, source) from None


def events_from_json(text: str, source: str | None = None) -> EventBatch:
    """Parse events: a batch (``{"now": "09:10", "events": [...]}``) or a bare list of events."""
    data = parse_json(text, source)
    if isinstance(data, list):
        data = {"events": data}
    try:
        return EventBatch.model_validate(data)
    except ValidationError as err:
        raise _describe(err, source) from None


def read_events(path: PathLike) -> EventBatch:
    return events_from_json(read_text(path), source=str(path))


def problem_to_json(problem: Problem, indent: int | None = 2) -> str:
    return problem.model_dump_json(indent=indent, exclude_none=False) + "\n"


def plan_to_json(plan: Plan, indent: int | None = 2) -> str:
    return plan.model_dump_json(indent=indent) + "\n"


def read_native_problem(path: PathLike) -> Problem:
    return problem_from_json(read_text(path), source=str(path))


def read_native_plan(path: PathLike) -> Plan:
    return plan_from_json(read_text(path), source=str(path))


def write_problem(problem: Problem, path: PathLike) -> None:
    """Write a Problem as JSON (gzip-compressed when the name ends in ``.gz``)."""
    write_text(path, problem_to_json(problem))


def write_plan(plan: Plan, path: PathLike) -> None:
    """Write a Plan as JSON (gzip-compressed when the name ends in ``.gz``)."""
    write_text(path, plan_to_json(plan))


def _describe(err: ValidationError, source: str | None) -> InputError:
    # pydantic reports unparsable JSON as a single "json_invalid" error without a location.
    for item in err.errors():
        if item.get("type") == "json_invalid":
            return InputError("json", f"not valid JSON: {item.get('msg', 'invalid')}", source=source)
    return describe_validation_error(err, source=source)
