"""The real `claimdesk` in a real terminal: tmux at 80x24, press `a`, read the A/R total.

This is what a biller over SSH gets: the installed console script, a demo ledger, TERM set
to plain xterm or xterm-256color. The total on screen must be the one
`claimdesk report aging --json` prints, to the cent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.money import Cents, format_usd

CLAIMDESK = Path(sys.executable).with_name("claimdesk")
# Generous deadlines: under `pytest -n 8` on a small machine the demo build and the
# workstation's first catch-up of the read models take many times what they take alone.
# The screen is polled until the text appears, so a fast machine never waits for them.
BUILD_SECONDS = 1800
SCREEN_SECONDS = 300
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not CLAIMDESK.exists(), reason=f"no claimdesk script at {CLAIMDESK}"),
]


def run(*args: str, timeout: int = BUILD_SECONDS) -> str:
    done = subprocess.run([str(CLAIMDESK), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    run("--db", str(db), "demo", "--patients", "12", "--json")
    return db


class Tmux:
    """A tmux server of our own (its own socket), so no one else's sessions are touched."""

    def __init__(self) -> None:
        self.socket = f"claimdesk-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, check=False)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "desk")

    def wait_for(self, text: str, seconds: float = SCREEN_SECONDS) -> str:
        """Poll the pane until `text` is on it; fail with what it shows at the deadline."""
        deadline = time.monotonic() + seconds
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{text!r} not on screen after {seconds:.0f} s; it shows:\n{shown}")
            time.sleep(0.25)   # between polls of the pane, not a wait for the app


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server("kill-server")


@pytest.mark.parametrize("term", ["xterm-256color", "xterm"])
def test_a_shows_the_aging_total_of_the_report_at_80x24(
    demo_db: Path, tmux: Tmux, term: str,
) -> None:
    report = json.loads(run("--db", str(demo_db), "report", "aging", "--json"))
    total = format_usd(Cents(report["total_cents"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    command = f"env TERM={term} {CLAIMDESK} --db {demo_db}"
    subprocess.run(["tmux", "-L", tmux.socket, "new-session", "-d", "-s", "desk",
                    "-x", "80", "-y", "24", command], env=env, check=True, timeout=30)
    tmux.wait_for("find an account")
    tmux("send-keys", "-t", "desk", "a")
    shown = tmux.wait_for(f"A/R total {total}")
    lines = shown.splitlines()
    assert len(lines) <= 24
    assert all(len(line) <= 80 for line in lines)
    assert "Insurance" in shown
    assert "121+" in shown
    tmux("send-keys", "-t", "desk", "q")
