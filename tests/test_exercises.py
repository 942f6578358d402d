"""Every chapter ends with exercises whose solutions are folded away and run.

A chapter is every page but the home page, the glossary, the contributor
guide and the notebooks. Its last section is "Exercises" ("练习"): two to four
exercises, each a bold numbered paragraph followed by a closed
``??? success "Solution"`` block (pymdownx.details) that holds the solution's
code. The harness runs that code like any block; this file checks the shape.
"""

import re

import pytest

from tests.pages import DOCS, LANGUAGES, blocks, pages

NOT_CHAPTERS = {"index.md", "glossary.md", "contributing.md"}
CHAPTERS = [p for p in pages() if str(p) not in NOT_CHAPTERS and p.parts[0] != "notebooks"]
HEADING = {"en": "## Exercises", "zh": "## 练习"}
SOLUTION = {"en": '??? success "Solution"', "zh": '??? success "参考答案"'}
EXERCISE = re.compile(r"^\*\*(\d+)\. ", re.M)


def exercises_section(lang: str, page) -> str:
    text = (DOCS / lang / page).read_text(encoding="utf-8")
    heading = HEADING[lang]
    assert text.count(f"\n{heading}\n") == 1, f"docs/{lang}/{page} has no '{heading}' section"
    section = text.split(f"\n{heading}\n", 1)[1]
    assert not re.search(r"^## ", section, re.M), f"docs/{lang}/{page}: exercises are not last"
    return section


def solutions(section: str) -> list[str]:
    """The bodies of the solution blocks: their lines indented under the opener."""
    bodies = []
    for part in re.split(r"^\?\?\?\+? success .*$", section, flags=re.M)[1:]:
        lines = []
        for line in part.splitlines()[1:]:
            if line.strip() and not line.startswith("    "):
                break
            lines.append(line)
        bodies.append("\n".join(lines))
    return bodies


def python_blocks_in(body: str) -> int:
    return len(re.findall(r"^ {4}```python$", body, re.M))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", CHAPTERS, ids=str)
def test_chapter_ends_with_two_to_four_exercises_with_folded_solutions(lang, page):
    section = exercises_section(lang, page)
    numbers = [int(n) for n in EXERCISE.findall(section)]
    assert 2 <= len(numbers) <= 4 and numbers == list(range(1, len(numbers) + 1)), numbers
    assert not re.search(r"^\?\?\?\+", section, re.M), "a solution is open by default"
    assert section.count(SOLUTION[lang]) == len(numbers), "one solution per exercise"
    assert all(python_blocks_in(body) >= 1 for body in solutions(section)), (
        "every solution holds code that the harness runs")


@pytest.mark.parametrize("page", CHAPTERS, ids=str)
def test_solution_code_is_run_by_the_harness(page):
    """The harness collects the solutions' blocks: they are among the page's blocks."""
    for lang in LANGUAGES:
        section = exercises_section(lang, page)
        collected = [src for info, src in blocks(DOCS / lang / page) if info == "python"]
        for body in solutions(section):
            for code in re.findall(r"^ {4}```python\n(.*?)^ {4}```$", body, re.M | re.S):
                dedented = "\n".join(line[4:] for line in code.splitlines()) + "\n"
                assert dedented in collected, f"docs/{lang}/{page}: a solution block is not run"
