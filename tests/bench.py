"""Time the whole suite against `import torch` on this machine (run: make bench).

The suite's goal is at most 40 times the torch import. The install step is
not timed: .venv exists when this runs. Each command runs `--runs` times and
the median is reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snippets.cli import ArgumentParser, positive_int  # noqa: E402

GOAL = 40


def median_seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = ArgumentParser(prog="tests/bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=3,
                        help="runs of each command (default 3)")
    args = parser.parse_args()
    torch_import = median_seconds([sys.executable, "-c", "import torch"], args.runs)
    suite = median_seconds(["make", "--no-print-directory", "test"], args.runs)
    ratio = suite / torch_import
    print(f"import torch:          {torch_import:6.2f} s")
    print(f"test suite (make test): {suite:5.2f} s")
    print(f"ratio:                 {ratio:6.1f}x  (goal: at most {GOAL}x)")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
