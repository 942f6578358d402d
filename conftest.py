"""pytest collects every page under docs/ through the harness in tests/harness.py."""

from tests import harness

pytest_collect_file = harness.sybil.pytest()


def pytest_addoption(parser):
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite the #> output lines of the pages from what the code prints")


def pytest_configure(config):
    harness.Settings.update = config.getoption("--update-outputs")


def pytest_sessionfinish(session):
    if harness.Settings.update:
        for path in harness.write_updates():
            print(f"\nupdated outputs in {path}")


