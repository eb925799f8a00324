"""Running a command line as a data officer would: ``python -m PACKAGE ARGS`` from the project's
folder, in a process of its own, with its output kept; what it prints is never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NO_DATABASE = "sqlite:////nonexistent/none.db"  # a configured database the command must not fall back on


def sample_db(folder: Path) -> str:
    """A copy in ``folder`` of the sample trust's database (imported once for the whole run), for a
    command to read and change; its URL."""
    from tests.conftest import copy_sample

    return f"sqlite:///{copy_sample(folder / 'sample.db')}"


def run_module(package: str, *args: str, env: dict | None = None, stdin: str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m package args``; ``env`` on top of this process's environment, ``stdin`` as its
    input (none: no input at all, as from a script)."""
    done = subprocess.run([sys.executable, "-m", package, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in done.stderr + done.stdout
    return done
