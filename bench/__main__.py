"""`make bench`: how fast the product is where people wait, each figure against its goal.

Prints, from one run, each with its goal and "ok" or "OVER GOAL":
- the median time to check one return, against the raw parse of the same file (goal: within 3x);
- what reading every place a workbook can hide a child's details adds to a clean return's check
  (.xlsx, .ods, .xls), alternating with the check of the cells alone, wall and CPU time
  (goal: under 100 ms added);
- the time to import 1,000 returns into SQLite (goal: under 15 s);
- the median rerun of the Overview page in Streamlit's AppTest, on the sample trust, on a made-up
  trust of 150 schools over 9 terms (goal: under 100 ms) and of 1,500 schools (goal: within 4x
  of the 150-school figure), with each first run and how the trusts' databases were made;
- the time to make the sample trust's board pack as PDF, short and with its appendix, alternating
  in one process as the Board pack page makes them (min / median / max, with CPU time and peak
  memory, and each part's time; goal: the short PDF under 5 s), then each format by the command
  line (goals: the short PDF under 5 s, the PDF with its appendix under 10 s).

The made-up trusts' databases are kept under data/bench/ and reused by the next run.
"""

from __future__ import annotations

import os
import sys

from bench import dashboard, pack, returns


def main() -> int:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Machine: {os.cpu_count()} CPUs, load average {load} (other work running slows every figure)")
    for line in returns.lines():
        print(line, flush=True)
    for line in dashboard.lines():
        print(line, flush=True)
    for line in pack.lines():
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
