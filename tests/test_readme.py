"""The README's examples run as written: every Python block, every block of ``carescheduler``
commands, and the example events it prints are the file the examples use.

Each block runs in a fresh folder that holds a link to ``fixtures/`` (so the relative paths
are the README's own and what the examples write stays out of the repository); Python
blocks run in a fresh interpreter, command blocks in order, through ``python -m
carescheduler``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from carescheduler.formats import read_plan, read_problem
from carescheduler.validator import validate
from conftest import EXAMPLES, FIXTURES, ROOT, SCENARIOS

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(language, text) for language, text in BLOCK.findall(README)]
PYTHON = [text for language, text in BLOCKS if language == "python"]


def _commands(text: str) -> list[str] | None:
    """The lines of a block made only of ``carescheduler`` commands (None otherwise)."""
    lines = [line for line in text.replace("\\\n", " ").splitlines() if line.strip()]
    commands = [line.split("  #")[0].strip() for line in lines]
    return commands if commands and all(c.startswith("carescheduler ") for c in commands) else None


COMMANDS = [commands for language, text in BLOCKS if language == "bash" and (commands := _commands(text))]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "fixtures").symlink_to(FIXTURES, target_is_directory=True)
    return tmp_path


def test_the_readme_has_examples_to_run():
    assert len(PYTHON) >= 4 and len(COMMANDS) >= 2


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_examples_run_as_written(code: str, folder: Path):
    result = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("commands", COMMANDS, ids=[f"commands-{i}" for i in range(len(COMMANDS))])
def test_command_examples_run_as_written(commands: list[str], folder: Path):
    for command in commands:
        args = shlex.split(command)[1:]
        result = subprocess.run(
            [sys.executable, "-m", "carescheduler", *args], cwd=folder, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"


def test_the_events_shown_are_the_example_file():
    shown = [json.loads(text) for language, text in BLOCKS if language == "json" and "client_added" in text]
    assert shown == [json.loads((EXAMPLES / "small-events.json").read_text())]


def test_the_example_plan_fits_the_example_day():
    problem = read_problem(SCENARIOS / "small.json.gz")
    plan = read_plan(problem, EXAMPLES / "small-plan.json")
    assert validate(problem, plan).valid
    assert plan.solver.max_iterations == 300 and plan.solver.seed == 0  # as the README's command makes it
