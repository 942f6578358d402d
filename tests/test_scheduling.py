"""How make test shares the work between its workers (the root conftest.py)."""

import json

from conftest import FIRST_DURATIONS, longest_first, scope_of
from tests.pages import pages


def test_a_page_its_twin_and_both_runs_are_one_unit():
    units = {scope_of(nodeid) for nodeid in [
        "docs/en/optimizers.md::line:12,column:1",
        "docs/en/optimizers.md::sybil:outside,line:12,column:1",
        "docs/zh/optimizers.md::line:14,column:1",
        "docs/zh/optimizers.md::sybil:outside,line:14,column:1",
    ]}
    assert units == {"docs/optimizers.md"}


def test_tests_that_need_another_units_work_run_with_it():
    assert scope_of("tests/test_browser.py::test_tour[en-index.md]") == "tests/test_site.py"
    assert scope_of("tests/test_distributed.py::test_x") == "docs/distributed.md"
    assert scope_of("tests/test_cli.py::test_x") == "tests/test_cli.py"


def test_units_are_handed_out_longest_first():
    units = {"a": {"a::1": False}, "b": {"b::1": False, "b::2": False}, "c": {"c::1": False}}
    order = [unit for unit, _ in longest_first(units, {"a": 3.0, "c": 10.0})]
    assert order == ["c", "a", "b"]  # b, unknown, counts 0.1 s per test


def test_first_durations_name_units_that_exist():
    """The committed durations order a clone's first run: a renamed page or
    test file would silently lose its place."""
    recorded = json.loads(FIRST_DURATIONS.read_text(encoding="utf-8"))
    units = {f"docs/{page}" for page in pages()} | {
        f"tests/{path.name}" for path in FIRST_DURATIONS.parent.glob("test_*.py")}
    assert set(recorded) <= units
