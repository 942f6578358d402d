"""pytest collects every page under docs/ through the harness in tests/harness.py."""

from tests import harness

# Each page twice: from the repository, and as a reader without a clone.
pytest_collect_file = (harness.sybil + harness.sybil_outside).pytest()


def pytest_addoption(parser):
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite the #> output lines of the pages from what the code prints")


def pytest_configure(config):
    harness.Settings.update = config.getoption("--update-outputs")


def pytest_sessionfinish(session):
    if harness.Settings.update:
        for path in harness.write_updates():
            print(f"\nupdated outputs in {path}")


