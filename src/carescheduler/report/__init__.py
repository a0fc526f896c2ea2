"""The coordinator's report of a plan: one self-contained HTML page (``render``), its
style sheet and script kept beside it as package files."""

from .render import carer_colour, render_report, write_report

__all__ = ["carer_colour", "render_report", "write_report"]
