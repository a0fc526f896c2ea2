"""What the service leaves on disk: the database file and the demo's tokens and sign-in
link, private to the user who runs it."""

from __future__ import annotations

import secrets

from api.migrate import upgrade


def test_the_database_file_is_readable_by_its_owner_only(tmp_path):
    """It holds clients' names, addresses and door codes."""
    import stat

    from api.db import make_engine

    path = tmp_path / "private.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(f"sqlite:///{path}")
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_demo_tokens_stay_out_of_a_log(tmp_path, monkeypatch, capsys):
    """``serve --demo`` with its output going to a file (a log) writes the tokens and the
    sign-in link to a file of the user's own instead."""
    import stat

    from api.cli import DEMO_TOKENS, load_demo
    from api.config import Settings

    monkeypatch.chdir(tmp_path)
    load_demo(Settings(jwt_secret=secrets.token_urlsafe(48), database_url=f"sqlite:///{tmp_path / 'demo.db'}"))
    shown = capsys.readouterr().out
    assert "token:" not in shown and "eyJ" not in shown and "/sign-in/" not in shown and DEMO_TOKENS in shown
    written = tmp_path / DEMO_TOKENS
    assert "coordinator token: eyJ" in written.read_text()
    assert "http://127.0.0.1:8000/sign-in/" in written.read_text()  # the board's one-time sign-in link
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
