"""pytest collects every page under docs/ through the harness in tests/harness.py."""

import pytest
from xdist.scheduler import LoadFileScheduling

from tests import harness

# Each page twice: from the repository, and as a reader without a clone.
pytest_collect_file = (harness.sybil + harness.sybil_outside).pytest()


def pytest_addoption(parser):
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite the #> output lines of the pages from what the code prints")


def pytest_configure(config):
    harness.Settings.update = config.getoption("--update-outputs")


class TwinsTogether(LoadFileScheduling):
    """--dist loadfile, with a page and its twin in the other language as one file.

    A page's blocks share one namespace, so a page may not be split between
    workers. Twins go to the same worker too: their console blocks run the
    same commands, and harness.run_command runs each once per worker.
    (xdist's own --dist loadgroup would do this with marks, but it renames
    items through an attribute pytest 9 no longer reads.)
    """

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        parts = path.split("/")
        if parts[0] == "docs":
            return "/".join(["docs", *parts[2:]])
        return RUNS_A_PAGES_COMMAND.get(path, path)


#: Test files that check the output of a page's console command (through
#: harness.run_command) run on that page's worker, where it has already run.
RUNS_A_PAGES_COMMAND = {"tests/test_distributed.py": "docs/distributed.md"}


@pytest.hookimpl(optionalhook=True)  # pytest -p no:xdist knows no such hook
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return TwinsTogether(config, log)
    return None


def pytest_sessionfinish(session):
    if harness.Settings.update:
        for path in harness.write_updates():
            print(f"\nupdated outputs in {path}")

