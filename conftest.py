"""pytest collects every page under docs/ through the harness in tests/harness.py."""

import collections
import json
from pathlib import Path

import pytest
from xdist.scheduler import LoadFileScheduling

from tests import harness

# Each page's code once, as a reader without a clone runs it (harness.runs_python).
pytest_collect_file = harness.sybil.pytest()


def pytest_addoption(parser):
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite the #> output lines of the pages from what the code prints")
    parser.addoption("--notebook-pages", action="store_true",
                     help="run the notebook pages' python blocks too (make versions)")


def pytest_configure(config):
    harness.Settings.update = config.getoption("--update-outputs")
    harness.Settings.notebook_pages = config.getoption("--notebook-pages")


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to, which one worker runs whole.

    A page's blocks share one namespace, so a page may not be split between
    workers. Twins go to the same worker too: their console blocks run the
    same commands, and harness.run_command runs each once per worker.
    """
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if parts[0] == "docs":
        return "/".join(["docs", *parts[2:]])
    return TOGETHER.get(path, path)


#: Test files that run with another unit, on its worker:
TOGETHER = {
    # it checks the output of the page's console command (harness.run_command),
    # which has already run there;
    "tests/test_distributed.py": "docs/distributed.md",
    # they read the site the site tests build (the browser visits it, the
    # notebook tests read the notebooks it executed): the worker that builds
    # it uses it, and the other worker runs pages meanwhile.
    "tests/test_browser.py": "tests/test_site.py",
    "tests/test_notebooks.py": "tests/test_site.py",
}

#: Seconds each unit took in the last run, for the order of the next one;
#: before a clone's first run, those of a run on a 2-core machine (committed:
#: it decides only the order, so an old one costs a few seconds at most).
DURATIONS = Path(__file__).parent / ".cache" / "test-durations.json"
FIRST_DURATIONS = Path(__file__).parent / "tests" / "durations.json"


def recorded_durations(path: Path) -> dict[str, float]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def longest_first(units: dict[str, dict], seconds: dict[str, float]) -> list[tuple[str, dict]]:
    """The (unit, tests) pairs of ``units``, longest first by ``seconds``; a unit
    it does not name counts a tenth of a second per test."""
    return sorted(units.items(), key=lambda unit: seconds.get(unit[0], len(unit[1]) * 0.1),
                  reverse=True)


class TwinsTogether(LoadFileScheduling):
    """--dist loadfile, by the units of scope_of, longest first.

    The units are handed out longest first, by the durations of the last run
    (DURATIONS, or FIRST_DURATIONS), so that no worker is left with a long
    unit at the end while the other one has nothing to do.
    (xdist's own --dist loadgroup would group with marks, but it renames items
    through an attribute pytest 9 no longer reads.)
    """

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)

    def _assign_work_unit(self, node) -> None:
        if not getattr(self, "ordered", False):
            last = recorded_durations(DURATIONS) or recorded_durations(FIRST_DURATIONS)
            units = longest_first(self.workqueue, last)
            self.workqueue.clear()
            self.workqueue.update(units)
            self.ordered = True
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist knows no such hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return TwinsTogether(config, log)
    return None


_seconds = collections.Counter()


def pytest_runtest_logreport(report):
    _seconds[scope_of(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    if _seconds and not hasattr(session.config, "workerinput"):  # not in an xdist worker
        last = recorded_durations(DURATIONS)
        DURATIONS.parent.mkdir(exist_ok=True)
        DURATIONS.write_text(json.dumps({**last, **_seconds}, indent=1, sort_keys=True),
                             encoding="utf-8")
    if harness.Settings.update:
        for path in harness.write_updates():
            print(f"\nupdated outputs in {path}")

