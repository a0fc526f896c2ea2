"""``python -m carescheduler`` runs the command-line tool."""

from .cli import app

app()
