"""One figure of `make bench` in a process of its own: ``python -m bench.child NAME [--quick]``.

Prints the figure's result as one JSON line (bench.core.RESULT) with this process's peak memory;
bench/__main__.py runs each figure so, and reads the child's CPU time and peak memory from the
kernel as well.
"""

from __future__ import annotations

import argparse
import os
import sys

from bench import core


def figures() -> dict:
    from bench import coldstart, dashboard, drawn, pack, returns

    return {
        "check": returns.check_figure,
        "import": returns.import_figure,
        "rerun": dashboard.rerun_figure,
        "fresh": dashboard.fresh_figure,
        "fresh_large": dashboard.fresh_large_figure,
        "peak": dashboard.peak_figure,
        "rerun_postgres": dashboard.rerun_postgres_figure,
        "fresh_postgres": dashboard.fresh_postgres_figure,
        "coldstart": coldstart.figure,
        "drawn": drawn.figure,
        "pack": pack.figure,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("name")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = figures()[args.name](args.quick, os.environ.get("BENCH_DATABASE_URL") or None)
    result.self_peak_mb, result.children_peak_mb = core.peaks()
    print(core.RESULT + result.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
