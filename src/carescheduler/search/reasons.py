"""Why a visit is unassigned, in words a coordinator can act on."""

from __future__ import annotations

import numpy as np

from ..domain import Problem, Visit
from ..plan import format_minutes
from .instance import Instance

__all__ = ["carer_obstacle", "structural_reason", "unassigned_reason", "window_text"]


def window_text(visit: Visit) -> str:
    start = format_minutes(visit.window.start)
    if visit.window.end is None:
        return f"from {start}"
    return f"between {start} and {format_minutes(visit.window.end + visit.duration)}"


def unassigned_reason(inst: Instance, v: int, penalty_beaten: bool = False) -> str:
    """Name the first rule that rules the visit out, narrowing from skills to time."""
    problem: Problem = inst.problem
    visit = problem.visits[v]
    needed = visit.carers_needed
    structural = structural_reason(inst, v)
    if structural is not None:
        return structural
    if not visit.mandatory and penalty_beaten:
        return f"optional visit left out: fitting it in would cost more than its value ({visit.value:g})"
    if visit.pinned_carers:
        names = ", ".join(visit.pinned_carers)
        return f"pinned to {names}, who cannot fit it in {window_text(visit)}"
    tasks = [int(t) for t in inst.visit_tasks[v] if t >= 0]
    eligible = np.asarray(inst.eligible[tasks].any(axis=0))
    listed = [problem.carers[k].id for k in range(inst.n_carers) if eligible[k]]
    shown = ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")
    together = "together " if needed == 2 else ""
    return (
        f"every eligible carer ({shown}) is fully booked {window_text(visit)}: no one can {together}fit "
        "it in without breaking a window, shift, break or working-time limit"
    )


def structural_reason(inst: Instance, v: int) -> str | None:
    """A rule that rules the visit out whatever the rest of the plan looks like."""
    problem: Problem = inst.problem
    visit = problem.visits[v]
    client = problem.client(visit.client)
    needed = visit.carers_needed
    for name in visit.pinned_carers:
        obstacle = carer_obstacle(problem, visit, client, problem.carer(name))
        if obstacle:
            return f"pinned to {name}, who {obstacle[1]}"
    for part in range(needed):
        skills = visit.part_skills(part)
        with_skills = [c for c in problem.carers if set(skills) <= set(c.skills)]
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
        if pool and all(c.id in banned for c in pool):
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


def carer_obstacle(problem: Problem, visit: Visit, client, carer) -> tuple[str, str] | None:
    """The first rule that stops ``carer`` doing ``visit`` at all, as (code, words):
    code is ``skill``, ``gender``, ``banned`` or ``shift``; None if nothing does."""
    parts = range(visit.carers_needed)
    if not any(set(visit.part_skills(p)) <= set(carer.skills) for p in parts):
        missing = sorted(set(visit.part_skills(0)) - set(carer.skills))
        return "skill", f"lacks skill {', '.join(repr(m) for m in missing)}"
    if client.gender_requirement is not None and carer.gender != client.gender_requirement:
        return "gender", f"is not {client.gender_requirement.value} as client {client.id} requires"
    if carer.id in client.banned_carers:
        return "banned", f"is banned by client {client.id}"
    end = visit.window.end if visit.window.end is not None else float("inf")
    if not any(
        max(visit.window.start, s.start) <= end and max(visit.window.start, s.start) + visit.duration <= s.end
        for s in carer.shifts
    ):
        return "shift", f"is not on shift {window_text(visit)}"
    return None
