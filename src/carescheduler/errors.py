"""Errors a user can act on: each names the offending field and the reason."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["InputError", "describe_validation_error"]


class InputError(ValueError):
    """Bad input (a problem, plan, events or file): ``field`` says where, ``reason`` why."""

    def __init__(self, field: str, reason: str, source: str | None = None):
        self.field = field
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {reason}" if field else f"{where}{reason}")


def describe_validation_error(error: ValidationError, source: str | None = None) -> InputError:
    """Turn pydantic's report into one readable InputError (first problem first)."""
    lines = []
    first_field = ""
    for item in error.errors():
        field = ".".join(str(p) for p in item.get("loc", ()))
        message = item.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if not field and ": " in message and " " not in message.split(": ", 1)[0]:
            # cross-reference errors name their field at the start of the message
            field, message = message.split(": ", 1)
        lines.append(f"{field}: {message}" if field else message)
        first_field = first_field or field
    return InputError(first_field, "; ".join(lines), source)
