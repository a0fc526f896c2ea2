"""A day's travel matrices, stored apart from the rest of its problem, once per content.

On a council day the matrices are most of the problem (two modes over a thousand places:
tens of megabytes as JSON) and events almost never change them, yet every published
replan is a new version of the day. So a problem is stored as its JSON without
``travel`` plus the key of its matrices (a hash of their content), and the matrices as
compressed float64 arrays under that key, written once: a replan writes a few megabytes
instead of tens, and a process reading the day's new version parses only that, taking
the matrices it already holds. Rows written before this (travel inside the JSON, no
key) are read as they are.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from carescheduler import Problem
from carescheduler.domain import TravelMatrix

from .models import TravelRow


def key_of(travel: list[TravelMatrix]) -> str:
    """What identifies the matrices' content: the same for equal matrices, whatever their form."""
    digest = hashlib.blake2b(digest_size=20)
    for matrix in travel:
        array = np.ascontiguousarray(matrix.minutes, dtype=np.float64)
        digest.update(f"{matrix.mode.value}:{matrix.estimated}:{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def store(session: Session, problem: Problem) -> tuple[str, str]:
    """The problem's JSON without its travel, and the key its matrices are stored under
    (stored now unless they already are)."""
    key = key_of(problem.travel)
    if session.get(TravelRow, key) is None:
        session.add(TravelRow(key=key, matrices=_pack(problem.travel)))
        session.flush()
    return problem.model_dump_json(exclude={"travel"}), key


def load(session: Session, text: str, key: str | None, travel: list[TravelMatrix] | None = None) -> Problem:
    """The problem stored as ``text`` (and ``key``); ``travel`` when the caller already
    holds the matrices of ``key``."""
    if key is None:
        return Problem.model_validate_json(text)
    data = json.loads(text)
    data["travel"] = travel if travel is not None else matrices(session, key)
    return Problem.model_validate(data)


def matrices(session: Session, key: str) -> list[TravelMatrix]:
    packed = session.scalar(select(TravelRow.matrices).where(TravelRow.key == key))
    if packed is None:
        raise LookupError(f"no travel matrices under {key}")
    return _unpack(packed)


def _pack(travel: list[TravelMatrix]) -> bytes:
    meta = json.dumps([{"mode": m.mode.value, "estimated": m.estimated} for m in travel])
    arrays: dict[str, np.ndarray] = {"meta": np.frombuffer(meta.encode(), dtype=np.uint8)}
    arrays.update({f"m{i}": np.asarray(m.minutes, dtype=np.float64) for i, m in enumerate(travel)})
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _unpack(packed: bytes) -> list[TravelMatrix]:
    with np.load(io.BytesIO(packed), allow_pickle=False) as files:
        meta = json.loads(files["meta"].tobytes())
        return [
            TravelMatrix(mode=m["mode"], minutes=files[f"m{i}"], estimated=m["estimated"]) for i, m in enumerate(meta)
        ]
