"""Where care days come from without a council's data.

generator   realistic council days on real roads (towns, rounds, doubles, skills)
roster      realistic council rosters over weeks (care packages, contracts, availability)
demo        a small synthetic town day, built without any file
"""

from .demo import demo_problem
from .generator import generate_day, generate_from_roads
from .roster import generate_roster

__all__ = ["demo_problem", "generate_day", "generate_from_roads", "generate_roster"]
