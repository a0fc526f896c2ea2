"""Random small care days for property tests (hypothesis strategies).

2-4 carers, 3-8 visits, split shifts (some ending soft), breaks, working-time limits, gender
rules, bans and wishes, double-handed visits (simultaneous and sequential, with parts), optional visits,
pins, integer or fractional travel; ``tiny`` days stay within reach of an exhaustive
search.
"""

from __future__ import annotations

from hypothesis import strategies as st

from carescheduler.domain import ObjectiveWeights, Problem
from problem_factory import SKILLS, matrix_from_coords, problem_dict


def _subset(draw, pool: list[str], max_size: int) -> list[str]:
    return draw(st.lists(st.sampled_from(pool), max_size=max_size, unique=True)) if pool else []


def _chance(draw, tenths: int) -> bool:
    """True with probability about ``tenths`` / 10."""
    return draw(st.integers(0, 9)) < tenths


@st.composite
def _shifts(draw, split: bool = True) -> list[dict]:
    start = draw(st.sampled_from([420, 450, 480, 510, 540]))
    if split and _chance(draw, 3):  # split shift
        first = draw(st.sampled_from([150, 180, 240]))
        gap = draw(st.sampled_from([30, 60, 120]))
        second = draw(st.sampled_from([150, 180, 240]))
        return [
            {"start": start, "end": start + first},
            {"start": start + first + gap, "end": start + first + gap + second},
        ]
    return [{"start": start, "end": start + draw(st.sampled_from([300, 360, 480, 600]))}]


@st.composite
def _break_rule(draw) -> dict | None:
    if not _chance(draw, 4):
        return None
    rule: dict = {
        "after_minutes": draw(st.sampled_from([90, 120, 180])),
        "duration": draw(st.sampled_from([15, 20, 30])),
    }
    earliest = draw(st.one_of(st.none(), st.sampled_from([540, 600, 660])))
    latest = draw(st.one_of(st.none(), st.sampled_from([660, 720, 780])))
    if earliest is not None:
        rule["earliest"] = earliest
    if latest is not None and (earliest is None or latest >= earliest):
        rule["latest"] = latest
    return rule


@st.composite
def problems(draw, tiny: bool = False, split_shifts: bool = True) -> Problem:
    """A random small day; ``tiny`` keeps it within reach of the exhaustive search."""
    n_client_locs = draw(st.integers(2, 3 if tiny else 4))
    loc_ids = ["office", "home1"] + [f"L{i}" for i in range(n_client_locs)]
    coords = [(draw(st.integers(0, 20)), draw(st.integers(0, 20))) for _ in loc_ids]
    n = len(loc_ids)
    asym = [[draw(st.integers(0, 4)) if draw(st.booleans()) else 0 for _ in range(n)] for _ in range(n)]
    locations = [{"id": i, "x": x, "y": y} for i, (x, y) in zip(loc_ids, coords, strict=False)]
    travel = matrix_from_coords(coords, asym)
    if not tiny and _chance(draw, 2):
        # benchmark-style fractional minutes (the CP-SAT model then works in 1/100 minutes)
        travel = [
            [0 if i == j else value + draw(st.sampled_from([0.25, 0.5, 1 / 3])) for j, value in enumerate(row)]
            for i, row in enumerate(travel)
        ]

    n_carers = 2 if tiny else draw(st.integers(2, 4))
    carer_ids = [f"c{k}" for k in range(n_carers)]
    carers = []
    for cid in carer_ids:
        c: dict = {
            "id": cid,
            "gender": draw(st.sampled_from(["female", "female", "male", None])),
            "skills": [skill for skill in SKILLS if _chance(draw, 8 if tiny else 7)],
            "start_location": draw(st.sampled_from(["office", "home1"])),
            "shifts": draw(_shifts(split_shifts)),
        }
        if (not tiny or len(c["shifts"]) == 1) and _chance(draw, 2):
            # soft ends: the carer may finish a little after a shift's end, at a cost (the
            # first of a split shift no later than the next begins: gaps are 30 min or more;
            # a tiny day's exhaustive search times visits earliest, exact with one shift)
            for shift in c["shifts"]:
                if _chance(draw, 6):
                    shift["latest_end"] = shift["end"] + draw(st.sampled_from([15, 30]))
        if draw(st.booleans()):
            c["end_location"] = draw(st.sampled_from(["office", "home1"]))
        if not tiny:
            rule = draw(_break_rule())
            if rule is not None:
                c["break_rule"] = rule
        if _chance(draw, 3):
            c["max_working_minutes"] = draw(st.sampled_from([60, 90, 120, 180, 240]))
        if _chance(draw, 3):
            c["contracted_minutes"] = draw(st.sampled_from([30, 60, 120, 240]))
        carers.append(c)

    clients = []
    for i in range(n_client_locs):
        cl: dict = {"id": f"p{i}", "location": f"L{i}"}
        if _chance(draw, 1):
            cl["gender_requirement"] = draw(st.sampled_from(["female", "female", "male"]))
        elif _chance(draw, 2):
            cl["gender_preference"] = draw(st.sampled_from(["female", "male"]))
        if _chance(draw, 2):
            cl["banned_carers"] = _subset(draw, carer_ids, 1)
        if _chance(draw, 3):
            cl["preferred_carers"] = _subset(draw, carer_ids, 2)
        if _chance(draw, 3):
            cl["historical_carers"] = _subset(draw, carer_ids, 2)
        clients.append(cl)

    visits = []
    parts_budget = 4 if tiny else 8
    n_visits = draw(st.integers(2 if tiny else 3, 4 if tiny else 8))
    parts_used = 0
    for i in range(n_visits):
        if parts_used >= parts_budget:
            break
        double = parts_budget - parts_used >= 2 and _chance(draw, 2)
        needed = 2 if double else 1
        parts_used += needed
        ws = draw(st.sampled_from(list(range(480, 781, 15))))
        wend = draw(st.one_of(st.none(), st.sampled_from([0, 15, 30, 60, 90, 120, 180])))
        window: dict = {"start": ws, "end": None if wend is None else ws + wend}
        v: dict = {
            "id": f"v{i}",
            "client": f"p{draw(st.integers(0, n_client_locs - 1))}",
            "duration": draw(st.sampled_from([10, 15, 20, 30, 45, 60])),
            "window": window,
        }
        if draw(st.booleans()):
            ts = ws + draw(st.sampled_from([-30, 0, 15, 30, 60]))
            v["target"] = {"start": ts, "end": ts + draw(st.sampled_from([0, 15, 30, 60]))}
        if _chance(draw, 3):
            v["skills"] = _subset(draw, SKILLS, 1)
        if double:
            v["carers_needed"] = 2
            if draw(st.booleans()):
                gmin = draw(st.sampled_from([0, 10, 30]))
                v["synchronisation"] = {
                    "kind": "sequential",
                    "min_gap": gmin,
                    "max_gap": gmin + draw(st.sampled_from([0, 15, 30, 60])),
                }
            else:
                v["synchronisation"] = {"kind": "simultaneous"}
            if _chance(draw, 2):
                v["parts"] = [
                    {
                        "skills": _subset(draw, SKILLS, 1),
                        "duration": draw(st.one_of(st.none(), st.sampled_from([15, 30, 45]))),
                    }
                    for _ in range(2)
                ]
        if _chance(draw, 2):  # every visit may be optional (a day with nothing to pay for too)
            v["mandatory"] = False
            v["value"] = draw(st.sampled_from([0, 100, 500, 2000]))
        if _chance(draw, 1):
            v["pinned_carers"] = _subset(draw, carer_ids, needed)
        if _chance(draw, 1):
            span = 120 if wend is None else wend
            v["pinned_start"] = ws + draw(st.integers(0, span // 15)) * 15
        visits.append(v)

    weights: dict = {}
    if not tiny and _chance(draw, 2):
        # the published HHCRSP objective: thirds, max lateness, no soft wishes
        weights = ObjectiveWeights.hhcrsp().model_dump()
    if not tiny and _chance(draw, 3):
        # waiting priced more: the unpaid gaps between visits and the longest one
        weights["waiting"] = draw(st.sampled_from([0.5, 3.0]))
        weights["max_waiting"] = draw(st.sampled_from([0.0, 5.0]))
    if tiny:
        # Earliness and waiting are left out of the optimality property: with earliness the
        # cheapest schedule of a sequence is not the earliest one (see the reproducers
        # below); the CP-SAT model counts waiting at its own times, so it proves nothing.
        weights["earliness"] = 0.0
        weights["waiting"] = 0.0
        if draw(st.booleans()):
            weights["max_lateness"] = 5.0
    data = problem_dict(
        locations,
        carers,
        clients,
        visits,
        travel=travel,
        weights=weights,
        name="random-tiny" if tiny else "random-small",
    )
    return Problem.model_validate(data)
