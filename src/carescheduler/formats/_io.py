"""Shared helpers of the file readers: reading (gzip-aware), JSON, and error wrapping."""

from __future__ import annotations

import gzip
import json
import math
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..domain import Problem
from ..errors import InputError, describe_validation_error

PathLike = str | os.PathLike[str]

SUFFIXES = (".json.gz", ".txt.gz", ".json", ".txt")


def suffix_of(path: PathLike) -> str:
    """The recognised suffix of ``path`` (``.json``, ``.json.gz``, ``.txt``, ``.txt.gz``) or ``""``."""
    name = Path(path).name.lower()
    return next((s for s in SUFFIXES if name.endswith(s)), "")


def stem_of(path: PathLike) -> str:
    """The file name without its recognised suffix (``a/b/x.txt.gz`` gives ``x``)."""
    name = Path(path).name
    suffix = suffix_of(path)
    if suffix:
        return name[: -len(suffix)]
    return Path(path).stem


def read_text(path: PathLike) -> str:
    """The text of a file, transparently un-gzipping names that end in ``.gz``."""
    source = str(path)
    try:
        if source.lower().endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return handle.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputError("path", "file not found", source=source) from None
    except IsADirectoryError:
        raise InputError("path", "is a directory, not a file", source=source) from None
    except PermissionError:
        raise InputError("path", "permission denied", source=source) from None
    except (gzip.BadGzipFile, EOFError, OSError) as err:
        # EOFError: a truncated gzip stream; BadGzipFile: not gzip at all.
        raise InputError("file", f"cannot read the file ({err.__class__.__name__}: {err})", source=source) from None
    except UnicodeDecodeError as err:
        raise InputError("file", f"not UTF-8 text ({err.reason} at byte {err.start})", source=source) from None


def write_text(path: PathLike, text: str) -> None:
    """Write text, gzip-compressing when the name ends in ``.gz``."""
    if str(path).lower().endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def parse_json(text: str, source: str | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            "json", f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}", source=source
        ) from None


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def validate_model(model: type[BaseModel], data: Any, source: str | None = None) -> Any:
    """``model.model_validate(data)``, with pydantic's error turned into an InputError."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise describe_validation_error(err, source=source) from None


def validate_problem(data: dict[str, Any], source: str | None = None) -> Problem:
    return validate_model(Problem, data, source)


def number(value: Any, field: str, source: str | None = None, *, integer: bool = False) -> float:
    """A finite JSON number (bools rejected), else an InputError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, f"expected a number, found {value!r}", source=source)
    if not math.isfinite(value):
        raise InputError(field, f"expected a finite number, found {value!r}", source=source)
    if integer and value != int(value):
        raise InputError(field, f"expected an integer, found {value!r}", source=source)
    return float(value)


def text_number(token: str, field: str, source: str | None = None, where: str = "") -> float:
    """A number token of a text format, else an InputError naming ``field`` (``where`` prefixes the reason)."""
    try:
        value = float(token)
    except ValueError:
        raise InputError(field, f"{where}{token!r} is not a number", source=source) from None
    if not math.isfinite(value):
        raise InputError(field, f"{where}{token!r} is not a finite number", source=source)
    return value
