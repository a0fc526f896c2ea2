"""Mankowska, Meisel & Bierwirth (2014) HHCRSP text instances (``.txt``, ``.txt.gz``).

The file is a sequence of blocks, a keyword on its own line followed by whitespace
separated numbers: ``nbNodes nbVehi nbServi r DS a x y d p mind maxd e l``. With N nodes,
V caregivers and S services: node 0 is the depot, nodes 1..N-2 are patients and node
N-1 is an end depot that duplicates node 0 (dropped here).

Mapping to a :class:`Problem`:

* skills ``s1..sS``; locations ``depot`` plus ``p1..pn`` (planar x, y); clients ``p1..pn``;
* one visit per patient (id = client id = ``p<i>``). A single service ``s`` gives
  ``skills=[s]`` and duration ``p[i][0][s]``; a double service gives two parts, part 0 the
  lower service index, synchronised simultaneously when ``mind = maxd = 0`` and otherwise
  sequentially with ``min_gap = mind``, ``max_gap = maxd`` (part 1 after part 0);
* ``window = [e, open)`` (starting early is forbidden) and ``target = [e, l]`` (lateness is
  soft, the published objective's tardiness);
* caregivers ``c1..cV`` with the skills of ``a``, starting and ending at ``depot``, one
  0–1440 shift (no shift end in the benchmark), driving;
* travel: the ``d`` matrix without the end depot; weights: :meth:`ObjectiveWeights.hhcrsp`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..domain import ObjectiveWeights, Problem
from ..errors import InputError
from ._io import PathLike, read_text, stem_of, text_number, validate_problem

__all__ = ["BLOCKS", "problem_from_mankowska", "read_mankowska"]

BLOCKS = ("nbNodes", "nbVehi", "nbServi", "r", "DS", "a", "x", "y", "d", "p", "mind", "maxd", "e", "l")
_KEYWORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class _Block:
    name: str
    line: int
    values: list[float] = field(default_factory=list)


def read_mankowska(path: PathLike) -> Problem:
    """Read a Mankowska instance file; the problem is named after the file stem."""
    return problem_from_mankowska(read_text(path), name=stem_of(path), source=str(path))


def problem_from_mankowska(text: str, name: str = "mankowska", source: str | None = None) -> Problem:
    """Build a Problem from the text of a Mankowska instance."""
    blocks = _split_blocks(text, source)

    def block(key: str, count: int | None = None, what: str = "") -> list[float]:
        if key not in blocks:
            raise InputError(key, "missing block (expected a line with the keyword followed by its numbers)", source)
        values = blocks[key].values
        if count is not None and len(values) != count:
            shape = f" ({what})" if what else ""
            raise InputError(key, f"expected {count} numbers{shape}, found {len(values)}", source)
        return values

    def scalar(key: str, minimum: int) -> int:
        value = block(key, 1)[0]
        if value != int(value) or value < minimum:
            raise InputError(key, f"expected an integer >= {minimum}, found {value:g}", source)
        return int(value)

    n_nodes = scalar("nbNodes", 2)
    n_carers = scalar("nbVehi", 1)
    n_services = scalar("nbServi", 1)
    N, V, S = n_nodes, n_carers, n_services
    patients = range(1, N - 1)

    r = _rows(block("r", N * S, f"nbNodes x nbServi = {N} x {S}"), S)
    a = _rows(block("a", V * S, f"nbVehi x nbServi = {V} x {S}"), S)
    xs = block("x", N, f"one per node, nbNodes = {N}")
    ys = block("y", N, f"one per node, nbNodes = {N}")
    d = _rows(block("d", N * N, f"nbNodes x nbNodes = {N} x {N}"), N)
    p = _rows(block("p", N * V * S, f"nbNodes * nbVehi lines of nbServi = {N}*{V} x {S}"), S)
    mind = block("mind", N, f"one per node, nbNodes = {N}")
    maxd = block("maxd", N, f"one per node, nbNodes = {N}")
    e = block("e", N, f"one per node, nbNodes = {N}")
    l = block("l", N, f"one per node, nbNodes = {N}")  # noqa: E741 (the paper's name)
    ds = block("DS")

    for key, rows in (("r", r), ("a", a)):
        for i, row in enumerate(rows):
            for s, value in enumerate(row):
                if value not in (0.0, 1.0):
                    raise InputError(f"{key}[{i}][{s}]", f"expected 0 or 1, found {value:g}", source)

    services: dict[int, list[int]] = {}
    for i in patients:
        required = [s for s in range(S) if r[i][s] == 1.0]
        if len(required) not in (1, 2):
            raise InputError(f"r[{i}]", f"patient p{i} requires {len(required)} services; expected 1 or 2", source)
        services[i] = required
    doubles = {i for i, required in services.items() if len(required) == 2}
    listed: set[int] = set()
    for k, value in enumerate(ds):
        if value != int(value) or not 2 <= value <= N - 1:
            raise InputError(
                f"DS[{k}]", f"expected a 1-based patient node number in 2..{N - 1}, found {value:g}", source
            )
        listed.add(int(value) - 1)
    if listed != doubles:
        missing = sorted(f"p{i}" for i in doubles - listed)
        extra = sorted(f"p{i}" for i in listed - doubles)
        detail = "; ".join(
            x
            for x in (
                f"not listed but requiring two services in r: {', '.join(missing)}" if missing else "",
                f"listed but requiring one service in r: {', '.join(extra)}" if extra else "",
            )
            if x
        )
        raise InputError("DS", f"does not match the double-service patients of r ({detail})", source)

    skills = [f"s{s + 1}" for s in range(S)]
    locations = [{"id": "depot", "x": xs[0], "y": ys[0]}]
    clients, visits = [], []
    for i in patients:
        pid = f"p{i}"
        locations.append({"id": pid, "x": xs[i], "y": ys[i]})
        clients.append({"id": pid, "location": pid})
        durations = [p[i * V][s] for s in services[i]]
        for s, duration in zip(services[i], durations, strict=True):
            if duration < 0:
                raise InputError(f"p[{i * V}][{s}]", f"negative processing time {duration:g} for patient {pid}", source)
        visit: dict[str, Any] = {
            "id": pid,
            "client": pid,
            "window": {"start": e[i], "end": None},
            "target": {"start": e[i], "end": l[i]},
        }
        if len(services[i]) == 1:
            visit.update(duration=durations[0], skills=[skills[services[i][0]]])
        else:
            if mind[i] == 0 and maxd[i] == 0:
                sync: dict[str, Any] = {"kind": "simultaneous"}
            else:
                sync = {"kind": "sequential", "min_gap": mind[i], "max_gap": maxd[i]}
            visit.update(
                duration=max(durations),
                carers_needed=2,
                skills=[],
                parts=[{"skills": [skills[s]], "duration": dur} for s, dur in zip(services[i], durations, strict=True)],
                synchronisation=sync,
            )
        visits.append(visit)

    carers = [
        {
            "id": f"c{v + 1}",
            "skills": [skills[s] for s in range(S) if a[v][s] == 1.0],
            "start_location": "depot",
            "shifts": [{"start": 0, "end": 1440}],
            "travel_mode": "drive",
        }
        for v in range(V)
    ]
    travel = [{"mode": "drive", "minutes": [row[: N - 1] for row in d[: N - 1]]}]
    data = {
        "name": name,
        "skills": skills,
        "locations": locations,
        "carers": carers,
        "clients": clients,
        "visits": visits,
        "travel": travel,
        "weights": ObjectiveWeights.hhcrsp().model_dump(),
    }
    return validate_problem(data, source)


def _split_blocks(text: str, source: str | None) -> dict[str, _Block]:
    blocks: dict[str, _Block] = {}
    current: _Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) == 1 and _KEYWORD.match(tokens[0]):
            keyword = tokens[0]
            if keyword not in BLOCKS:
                where = f"{current.name}" if current else "file"
                raise InputError(
                    where,
                    f"line {number}: unexpected text {keyword!r} (neither a number nor a known block keyword)",
                    source,
                )
            if keyword in blocks:
                raise InputError(
                    keyword, f"line {number}: block given twice (first at line {blocks[keyword].line})", source
                )
            current = blocks[keyword] = _Block(keyword, number)
            continue
        if current is None:
            raise InputError("file", f"line {number}: numbers before the first block keyword", source)
        for token in tokens:
            current.values.append(text_number(token, current.name, source, where=f"line {number}: "))
    return blocks


def _rows(values: list[float], width: int) -> list[list[float]]:
    return [values[k : k + width] for k in range(0, len(values), width)]
