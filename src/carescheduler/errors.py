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

    def __reduce__(self):
        # Pickled as it is, not re-made from its message (which ``__init__`` cannot take):
        # raised in another process, a Ray task's, it comes back as itself, field and all.
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[InputError], args: tuple, state: dict) -> InputError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def describe_validation_error(error: ValidationError, source: str | None = None) -> InputError:
    """Turn pydantic's report into one readable InputError (first problem first; its
    field is the error's field, the others are named in the reason)."""
    problems = []
    for item in error.errors():
        # (pydantic names the validator wrapper of a union member: "function-after[...]")
        field = ".".join(str(p) for p in item.get("loc", ()) if not (isinstance(p, str) and "[" in p))
        message = item.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if not field and ": " in message and " " not in message.split(": ", 1)[0]:
            # cross-reference errors name their field at the start of the message
            field, message = message.split(": ", 1)
        problems.append((field, message))
    if not problems:
        return InputError("", "invalid input", source)
    lines = [problems[0][1]] + [f"{field}: {message}" if field else message for field, message in problems[1:]]
    return InputError(problems[0][0], "; ".join(lines), source)
