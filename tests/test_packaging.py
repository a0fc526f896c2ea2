"""The distribution: the wheel built from this checkout, installed in a fresh virtual
environment in a folder outside it, gives the library, its command and the service.

This is what ``pip install "carescheduler[api]"`` gives a council's IT team: the test builds
the wheel, installs it with the ``api`` extra (dependencies from the package index or
pip's cache), starts ``carescheduler-service`` from an empty folder and calls it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from live_server import listening_socket

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the virtual environment layout is POSIX")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtual environment outside the checkout with the wheel and its api extra."""
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"  # built from a copy: setuptools writes build/ beside the sources
    for part in ("src", "api"):
        shutil.copytree(ROOT / part, source / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], check=True)
    wheel = next(dist.glob("carescheduler-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[api]"], check=True, env=_outside_env()
    )
    return venv


def _outside_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points back into the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, **extra}


def _get(url: str, token: str | None = None) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_the_installed_packages_come_from_the_environment_not_the_checkout(installed, tmp_path):
    python = installed / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", "import api, carescheduler; print(api.__file__, carescheduler.__file__)"],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    for path in out.stdout.split():
        assert Path(path).is_relative_to(installed), path
    # the report's style sheet and script, and the service's migrations, came along
    files = subprocess.run(
        [
            str(python),
            "-c",
            "from carescheduler.report import render_report; "
            "from api.migrate import HERE; import sys; "
            "print((HERE / 'migrations' / 'versions').is_dir())",
        ],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert files.stdout.strip() == "True"
    help_text = subprocess.run(
        [str(installed / "bin" / "carescheduler"), "--help"],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "replan" in help_text and "recommend" in help_text


def test_the_installed_service_starts_and_answers(installed, tmp_path):
    held = listening_socket()  # handed to the service: no other program can take the port meanwhile
    port = held.getsockname()[1]
    env = _outside_env(
        CARESCHEDULER_JWT_SECRET=secrets.token_urlsafe(48), DATABASE_URL=f"sqlite:///{tmp_path / 'service.db'}"
    )
    service = installed / "bin" / "carescheduler-service"
    server = subprocess.Popen(
        [str(service), "serve", "--fd", str(held.fileno())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=[held.fileno()],
    )
    try:
        deadline = time.monotonic() + 120  # a cold start migrates the database first
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/health")
                break
            except OSError:  # not listening yet (URLError), or not answering yet (a timeout)
                time.sleep(0.2)  # polling until it answers, not waiting a guessed time
        assert status == 200, server.stderr.read().decode() if server.poll() is not None else "no answer"
        assert body == {"status": "ok"}
        token = subprocess.run(
            [str(service), "token", "--org", "council", "--role", "coordinator", "--subject", "amy"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert _get(f"http://127.0.0.1:{port}/v1/days", token) == (200, [])
        assert _get(f"http://127.0.0.1:{port}/v1/days")[0] == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs/assets/swagger-ui-bundle.js", timeout=5) as js:
            assert js.status == 200 and b"SwaggerUIBundle" in js.read()  # /docs' files came with the api extra
    finally:
        server.terminate()
        server.wait(timeout=30)
        held.close()
