"""`make test` runs on pytest-xdist with --dist loadgroup: a file's tests, and files that name one
group, stay on one worker, so what they start once (a Streamlit server, Chromium, a trust's reading
by the adversary) is started once. That rests on pytest and pytest-xdist agreeing on how a test's
group is named; an upgrade of either that breaks it sends a group's tests to every worker, each
starting the same servers, without failing a test. This test fails instead."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_a_groups_tests_run_on_one_worker(tmp_path):
    for name in ("test_one.py", "test_two.py"):
        (tmp_path / name).write_text(textwrap.dedent("""
            import os
            import pytest

            pytestmark = pytest.mark.xdist_group("together")

            @pytest.mark.parametrize("n", range(4))
            def test_where(n, tmp_path_factory):
                out = tmp_path_factory.getbasetemp().parent.parent / "workers.txt"
                with open(out, "a") as f:
                    f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
            """), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                          "--dist", "loadgroup", f"--basetemp={tmp_path / 'run'}", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"})  # this run's options only
    assert run.returncode == 0, run.stdout + run.stderr
    workers = (tmp_path / "workers.txt").read_text().split()
    assert len(workers) == 8
    assert len(set(workers)) == 1, f"one group's tests ran on {sorted(set(workers))}"
