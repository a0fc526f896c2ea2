"""The coordinator's report of a plan: one self-contained HTML page (``render``), its
style sheet and script kept beside it as package files; and the carers' run sheets
(``run_sheet``): one printable page per carer's day."""

from .render import carer_colour, render_report, write_report
from .road_runs import road_runs
from .run_sheet import render_run_sheet, render_run_sheets

__all__ = ["carer_colour", "render_report", "render_run_sheet", "render_run_sheets", "road_runs", "write_report"]
