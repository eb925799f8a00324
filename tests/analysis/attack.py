"""The attacker's last step, shared by the suppression tests: the least and most each hidden count
can be, by integer programming over everything a reader knows."""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


def integer_ranges(rows: list[np.ndarray], low: list[float], high: list[float], small: list[bool],
                   threshold: int) -> list[tuple[int, int]]:
    """For each hidden count (a column of ``rows``): its least and most whole value such that
    ``low <= rows @ x <= high``, a "fewer than" count being 1 to threshold - 1 (``small``) and a
    "not shown" one threshold or more."""
    n = len(small)
    bounds = Bounds([1 if s else threshold for s in small], [threshold - 1 if s else 10**6 for s in small])
    constraints = [LinearConstraint(np.array(rows), low, high)] if rows else []
    ranges = []
    for i in range(n):
        ends = []
        for sign in (1, -1):
            goal = np.zeros(n)
            goal[i] = sign
            result = milp(goal, constraints=constraints, integrality=np.ones(n), bounds=bounds)
            assert result.status == 0, result.message
            ends.append(round(sign * result.fun))
        ranges.append((ends[0], ends[1]))
    return ranges
