"""The coordinator's report of a plan: one self-contained HTML page (``render``), its
style sheet and script kept beside it as package files."""

from .render import carer_colour, render_report, write_report
from .road_runs import road_runs

__all__ = ["carer_colour", "render_report", "road_runs", "write_report"]
