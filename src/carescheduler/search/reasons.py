"""Why a visit is unassigned, in words a coordinator can act on."""

from __future__ import annotations

import numpy as np

from ..domain import Carer, Client, Problem, Visit
from ..plan import format_minutes
from .instance import INF, Instance, TaskLookups, fits_a_shift

__all__ = ["CarerObstacles", "Reasons", "window_text"]


def window_text(visit: Visit) -> str:
    start = format_minutes(visit.window.start)
    if visit.window.end is None:
        return f"from {start}"
    return f"between {start} and {format_minutes(visit.window.end + visit.duration)}"


class Reasons:
    """The reasons for one day's unassigned visits, with the look-ups they need built
    once: a day cut short by its time limit can leave tens of thousands unassigned."""

    def __init__(self, inst: Instance, time_limit: float | None = None) -> None:
        self.inst = inst
        problem: Problem = inst.problem
        self._clients = {c.id: c for c in problem.clients}
        self._skilled: dict[tuple[str, ...], list[Carer]] = {}
        self._lookups: TaskLookups | None = None  # built for the first pinned visit
        limit = f" ({time_limit:g} s)" if time_limit is not None else ""
        self._untried = (
            f"not tried: the time limit{limit} ran out before the solver reached this visit; "
            "a longer time limit would try it"
        )
        self._open: np.ndarray = np.asarray(np.asarray(inst.eligible).any(axis=1), dtype=bool)  # tasks anyone may do

    def unassigned(self, v: int, penalty_beaten: bool = False, untried: bool = False) -> str:
        """Why visit ``v`` is unassigned. ``untried``: the search ran out of time before
        it tried to place it."""
        inst = self.inst
        problem: Problem = inst.problem
        visit = problem.visits[v]
        needed = visit.carers_needed
        structural = self.structural(v)
        if structural is not None:
            return structural
        if untried:
            return self._untried
        if not visit.mandatory and penalty_beaten:
            return f"optional visit left out: fitting it in would cost more than its value ({visit.value:g})"
        if visit.pinned_carers:
            names = ", ".join(visit.pinned_carers)
            return f"pinned to {names}, who cannot fit it in {window_text(visit)}"
        tasks = [int(t) for t in inst.visit_tasks[v] if t >= 0]
        eligible = np.flatnonzero(np.asarray(inst.eligible[tasks].any(axis=0)))
        listed = [problem.carers[int(k)].id for k in eligible[:5]]
        shown = ", ".join(listed) + (f" and {len(eligible) - 5} more" if len(eligible) > 5 else "")
        together = "together " if needed == 2 else ""
        return (
            f"every eligible carer ({shown}) is fully booked {window_text(visit)}: no one can {together}fit "
            "it in without breaking a window, shift, break or working-time limit"
        )

    def structural(self, v: int) -> str | None:
        """A rule that rules the visit out whatever the rest of the plan looks like."""
        inst = self.inst
        problem: Problem = inst.problem
        visit = problem.visits[v]
        needed = visit.carers_needed
        tasks = inst.visit_tasks[v, :needed]
        if not visit.pinned_carers and self._open[tasks].all() and needed == 1:
            return None  # eligibility already holds skills, gender, bans and shifts
        client = self._clients[visit.client]
        if visit.pinned_carers:
            lookups = self._lookups = self._lookups or TaskLookups.of(problem)
            obstacle_of = CarerObstacles(visit, client, lookups)
        for name in visit.pinned_carers:
            obstacle = obstacle_of(lookups.carer_index[name])
            if obstacle:
                return f"pinned to {name}, who {obstacle[1]}"
        for part in range(needed):
            skills = visit.part_skills(part)
            with_skills = self._with_skills(skills)
            quoted = [repr(s) for s in skills]
            label = " and ".join(quoted) if len(quoted) <= 2 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
            if not with_skills:
                return f"no carer has skill {label}" if len(skills) == 1 else f"no carer has all of the skills {label}"
            pool = with_skills
            if client.gender_requirement is not None:
                pool = [c for c in pool if c.gender == client.gender_requirement]
                if not pool:
                    return (
                        f"no {client.gender_requirement.value} carer has the skills {label}"
                        if skills
                        else f"no {client.gender_requirement.value} carer is available"
                    )
            banned = set(client.banned_carers)
            if banned and pool and all(c.id in banned for c in pool):
                return f"every carer who could do it is banned by client {client.id}"
            t = int(inst.visit_tasks[v, part])
            if not inst.eligible[t].any():
                what = (
                    (f"with skill {label}" if len(skills) == 1 else f"with skills {label}")
                    if skills
                    else "allowed for this client"
                )
                return f"no carer {what} is on shift {window_text(visit)}"
        if needed == 2:
            t0, t1 = inst.visit_tasks[v]
            either = inst.eligible[t0] | inst.eligible[t1]
            if either.sum() < 2:
                return f"needs two carers at once but only one eligible carer is on shift {window_text(visit)}"
        return None

    def _with_skills(self, skills: list[str]) -> list[Carer]:
        key = tuple(sorted(set(skills)))
        if key not in self._skilled:
            need = set(key)
            self._skilled[key] = [c for c in self.inst.problem.carers if need <= set(c.skills)]
        return self._skilled[key]


class CarerObstacles:
    """The first rule that stops each carer doing one visit at all, as (code, words):
    code is ``skill``, ``gender``, ``banned`` or ``shift``; None if nothing does. The
    rules are checked for every carer at once: a recommendation on a council day gives
    each of hundreds of carers a reason."""

    def __init__(self, visit: Visit, client: Client, lookups: TaskLookups) -> None:
        self.visit, self.client, self.lookups = visit, client, lookups
        self.needs = [set(visit.part_skills(p)) for p in range(visit.carers_needed)]
        # Python lists, not arrays: they are read one carer at a time.
        self.skilled = [any(need <= skills for need in self.needs) for skills in lookups.carer_skills]
        gender = client.gender_requirement
        self.right_gender = (
            [True] * len(self.skilled) if gender is None else (lookups.carer_gender == gender.value).tolist()
        )
        self.wrong_gender = "" if gender is None else f"is not {gender.value} as client {client.id} requires"
        self.banned = {lookups.carer_index[c] for c in client.banned_carers if c in lookups.carer_index}
        latest = INF if visit.window.end is None else visit.window.end
        self.on_shift = fits_a_shift(
            lookups.shift_start,
            lookups.shift_end,
            np.array([visit.window.start]),
            np.array([latest]),
            np.array([visit.duration]),
        )[0].tolist()

    def __call__(self, k: int) -> tuple[str, str] | None:
        """The obstacle for carer number ``k``."""
        client = self.client
        if not self.skilled[k]:
            missing = sorted(self.needs[0] - self.lookups.carer_skills[k])
            return "skill", f"lacks skill {', '.join(repr(m) for m in missing)}"
        if not self.right_gender[k]:
            return "gender", self.wrong_gender
        if k in self.banned:
            return "banned", f"is banned by client {client.id}"
        if not self.on_shift[k]:
            return "shift", f"is not on shift {window_text(self.visit)}"
        return None
