"""The embedded demo day: a small market town with its surrounding villages.

Deterministic for a given seed, so the README's demo command always solves the same
day. It exercises what a real council day has: morning/lunch/tea/bed rounds, skills of
different rarity, double-handed hoist calls, clients who need a female carer, banned and
preferred carers, a continuity history, split shifts, walkers in the town centre and
break rules. Travel is estimated from coordinates (no road file is needed).
"""

from __future__ import annotations

import numpy as np

from ..domain import (
    BreakRule,
    Carer,
    Client,
    Gender,
    Location,
    ObjectiveWeights,
    Problem,
    Shift,
    TimeWindow,
    Visit,
)

__all__ = ["demo_problem"]

SKILLS = ["medication", "hoist", "catheter", "dementia", "peg"]
ROUNDS = [  # name, window start, window end (latest start), share of clients having it
    ("morning", 7 * 60, 10 * 60, 1.0),
    ("lunch", 12 * 60, 13 * 60 + 30, 0.55),
    ("tea", 16 * 60 + 30, 18 * 60, 0.45),
    ("bed", 19 * 60, 21 * 60 + 30, 0.6),
]
CENTRE = (52.629, -1.132)  # a generic English market town latitude/longitude


def demo_problem(clients: int = 40, carers: int = 18, seed: int = 7) -> Problem:
    """A care day for ``clients`` clients (about 2.6 visits each) and ``carers`` carers."""
    rng = np.random.default_rng(seed)
    locations = [Location(id="office", lat=CENTRE[0], lon=CENTRE[1])]

    def place(prefix: str, i: int, town: bool) -> str:
        spread = 0.008 if town else 0.05
        lat = CENTRE[0] + rng.normal(0, spread)
        lon = CENTRE[1] + rng.normal(0, spread * 1.6)
        locations.append(Location(id=f"{prefix}{i}", lat=round(float(lat), 6), lon=round(float(lon), 6)))
        return locations[-1].id

    carer_list = []
    for i in range(carers):
        walker = i < carers // 4
        skills = ["medication"] if rng.random() < 0.8 else []
        if rng.random() < 0.5:
            skills.append("hoist")
        for rare in ("catheter", "dementia", "peg"):
            if rng.random() < 0.25:
                skills.append(rare)
        if i % 3 == 0:
            shifts = [Shift(start=7 * 60, end=13 * 60), Shift(start=16 * 60, end=22 * 60)]
        elif i % 3 == 1:
            shifts = [Shift(start=7 * 60, end=15 * 60)]
        else:
            shifts = [Shift(start=12 * 60, end=22 * 60 + 30)]
        carer_list.append(
            Carer(
                id=f"carer{i + 1:02d}",
                gender=Gender.female if rng.random() < 0.8 else Gender.male,
                skills=skills,
                start_location=place("home", i, town=walker),
                shifts=shifts,
                travel_mode="walk" if walker else "drive",
                max_working_minutes=9 * 60,
                contracted_minutes=float(rng.choice([300, 360, 420])),
                break_rule=BreakRule(after_minutes=360, duration=30),
            )
        )
    carer_ids = [c.id for c in carer_list]

    client_list, visits = [], []
    for i in range(clients):
        cid = f"client{i + 1:03d}"
        loc = place("addr", i, town=rng.random() < 0.6)
        needs = [
            s
            for s, p in (("medication", 0.5), ("dementia", 0.1), ("catheter", 0.06), ("peg", 0.03))
            if rng.random() < p
        ]
        hoist = rng.random() < 0.12
        history = list(rng.choice(carer_ids, size=int(rng.integers(0, 3)), replace=False))
        client_list.append(
            Client(
                id=cid,
                location=loc,
                gender_requirement=Gender.female if rng.random() < 0.25 else None,
                preferred_carers=history[:1] if rng.random() < 0.3 else [],
                banned_carers=[str(rng.choice(carer_ids))] if rng.random() < 0.05 else [],
                historical_carers=[str(h) for h in history],
            )
        )
        for name, start, end, share in ROUNDS:
            if rng.random() > share:
                continue
            duration = float(rng.choice([30, 30, 45, 60])) if name != "lunch" else float(rng.choice([15, 30]))
            skills = ["medication"] if needs and "medication" in needs and name != "bed" else []
            skills += [s for s in needs if s != "medication"]
            double = hoist and name in ("morning", "bed")
            if double:
                skills = sorted(set([*skills, "hoist"]))
            target_start = start + float(rng.integers(0, 4)) * 15
            visits.append(
                Visit(
                    id=f"{cid}-{name}",
                    client=cid,
                    duration=duration,
                    window=TimeWindow(start=start, end=end),
                    target=TimeWindow(start=target_start, end=min(end, target_start + 60)),
                    skills=skills,
                    carers_needed=2 if double else 1,
                    mandatory=name != "tea" or rng.random() < 0.7,
                    value=300.0,
                )
            )
    return Problem(
        name=f"demo-town-{clients}-clients",
        skills=SKILLS,
        locations=locations,
        carers=carer_list,
        clients=client_list,
        visits=visits,
        weights=ObjectiveWeights(),
    )
