"""What a carer does on a generated call: by kind of call and by the client's needs.

A morning call gets the client up, washed, dressed and fed; lunch and tea are meals and
drinks; a bed call gets them washed and into bed. A need that takes a skill adds its task
(medication from the blister pack, the hoist, catheter or stoma care, a PEG feed), and a
15-minute check is only the medication prompt and a look at how the client is. A few
household tasks come with some calls. The tasks are for the carer's phone; they change
no plan (the call's duration and skills already say what the planner needs).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHECK_TASKS", "NEED_TASKS", "ROUND_EXTRAS", "ROUND_TASKS", "call_tasks"]

ROUND_TASKS: dict[str, tuple[str, ...]] = {
    "morning": ("Help to get up", "Wash or shower", "Dress", "Breakfast and a hot drink"),
    "lunch": ("Heat and serve lunch", "Hot drink; leave a cold drink to hand"),
    "tea": ("Prepare tea", "Leave a snack and a drink for the evening"),
    "bed": ("Help to undress", "Wash and night clothes", "Help into bed"),
    "bath": ("Bath or shower (bath seat or shower chair)", "Wash hair", "Dry, cream and dress"),
}
"""What every call of a round involves (a round not listed gets ``OTHER_ROUND``)."""
OTHER_ROUND = ("Personal care as in the care plan",)

ROUND_EXTRAS: dict[str, tuple[tuple[str, float], ...]] = {
    "morning": (("Make the bed", 0.30), ("Empty and clean the commode", 0.20), ("Cream to pressure areas", 0.15)),
    "lunch": (("Help to the toilet", 0.40), ("Wash up", 0.30)),
    "tea": (("Help to the toilet", 0.40), ("Close the curtains", 0.30)),
    "bed": (("Supper drink", 0.40), ("Lock up and check the heating", 0.50), ("Empty the commode", 0.20)),
    "bath": (("Change the bed linen", 0.30), ("Check the skin and report any marks", 0.25)),
}
"""Household tasks some calls of a round have, each with its probability."""

NEED_TASKS: dict[str, str] = {
    "medication": "Medication from the blister pack; sign the MAR chart",
    "hoist": "Hoist transfers (both carers)",
    "catheter_stoma": "Catheter or stoma care",
    "peg_feeding": "PEG feed and flush",
    "dementia": "Prompt each step and reassure",
}
"""The task a skill on the call stands for."""

CHECK_TASKS = ("Medication prompt; sign the MAR chart", "Check all is well; leave a drink to hand")
"""A 15-minute check (a medication prompt) does this instead of the round's tasks and the
medication round, plus what its other needs take."""


def call_tasks(round_name: str, skills: list[str], check: bool, rng: np.random.Generator) -> list[str]:
    """The tasks of one call of ``round_name`` with these ``skills`` (extras drawn from ``rng``)."""
    needs = [task for skill, task in NEED_TASKS.items() if skill in skills]
    if check:
        return [*CHECK_TASKS, *(task for task in needs if task != NEED_TASKS["medication"])]
    extras = [task for task, p in ROUND_EXTRAS.get(round_name, ()) if rng.random() < p]
    return [*ROUND_TASKS.get(round_name, OTHER_ROUND), *needs, *extras]
