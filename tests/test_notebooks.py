"""Every notebook the site offers for download runs for a reader who has no clone.

Each notebook is executed once, by the build (hooks/notebooks.py): written
alone into an empty folder and run there by a real Jupyter kernel whose
environment names nothing of this repository; any error fails the build. The
executed notebook is what the page renders and what its download button
gives; these tests read that file from the built site.
"""

import json
import re
from pathlib import Path, PurePosixPath

import pytest

from tests.harness import _diff, output_comments, outputs_match
from tests.pages import DOCS, LANGUAGES, _notebook_hook, blocks, notebook_of, pages
from tests.test_site import tags_of, url_of

NOTEBOOKS = [(lang, page) for lang in LANGUAGES for page in pages()
             if str(page).startswith("notebooks/")]


def downloaded(site, lang, page) -> tuple[str, dict]:
    """The file name and contents of the notebook the page's download button gives."""
    links = [attrs["href"] for tag, attrs in tags_of(site, lang, page)
             if tag == "a" and "download" in attrs]
    assert len(links) == 1, links
    path = site / url_of(lang, page) / PurePosixPath(links[0]).name
    return path.name, json.loads(path.read_text(encoding="utf-8"))


def printed(cell) -> list[str]:
    """What a code cell printed on stdout."""
    return _notebook_hook().stream_lines(cell)


def code(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=str)
def test_notebook_ran_alone_in_an_empty_folder(site, lang, page):
    name, notebook = downloaded(site, lang, page)
    # What the kernel saw, recorded by the build: no `snippets` to import,
    # and no file in its folder but the notebook.
    assert notebook["metadata"]["ran_alone"] == [f"None [{name!r}]"]


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=str)
def test_notebook_is_the_page(site, lang, page):
    """The download is the notebook of the page: its cells, executed."""
    name, notebook = downloaded(site, lang, page)
    canonical = [attrs["href"] for tag, attrs in tags_of(site, lang, page)
                 if tag == "link" and attrs.get("rel") == "canonical"]
    address = canonical[0].removesuffix(url_of("en", page))  # the site of the page's language
    expected_name, expected = notebook_of(lang, page, address)
    assert name == expected_name
    strip = lambda cells: [{k: v for k, v in cell.items() if k not in ("outputs", "execution_count")}
                           for cell in cells]
    assert strip(notebook["cells"]) == strip(expected["cells"])
    assert all(cell["execution_count"] for cell in code(notebook))
    source = "".join("".join(cell["source"]) for cell in code(notebook))
    assert "--8<--" not in source and "def " in source  # the includes, expanded


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=str)
def test_each_cell_printed_what_the_page_shows(site, lang, page):
    """Cell by cell, what the page shows under a block (its #> lines) is what
    the kernel printed for that cell, compared as the harness compares."""
    _, notebook = downloaded(site, lang, page)
    shown = [output_comments(source.splitlines(), 0, len(source.splitlines()))
             for info, source in blocks(DOCS / lang / page) if info == "python"]
    cells = code(notebook)
    assert len(shown) == len(cells) and any(shown)
    for number, (expected, cell) in enumerate(zip(shown, cells), start=1):
        assert outputs_match(expected, printed(cell)), f"cell {number}\n" + _diff(
            expected, printed(cell))
        assert not [o for o in cell["outputs"] if o["output_type"] == "stream"
                    and o["name"] == "stderr"], f"cell {number} wrote to stderr"


# Every chapter is a notebook too, written beside its page by the build
# (hooks/notebooks.py) and offered at the top of the page.
CHAPTERS = [(lang, page) for lang in LANGUAGES for page in pages()
            if _notebook_hook().chapter_of(type("File", (), {"src_uri": str(page)})) is not None]


def chapter_notebook(site, lang, page) -> dict:
    path = site / url_of(lang, page) / Path(page).with_suffix(".ipynb").name
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_chapter_has_a_notebook():
    assert len(CHAPTERS) == 2 * 17


@pytest.mark.parametrize("lang, page", CHAPTERS, ids=str)
def test_chapter_notebook_is_the_pages_code_in_page_order(site, lang, page):
    """The notebook's code cells are the page's python blocks, includes
    expanded and #> lines dropped, in the same order. That order is the one in
    which the suite runs the page without the clone, in an empty folder (the
    English page; test_parity holds its twin to the same code), which is what
    running the notebook top to bottom does: that run is the proof that it runs."""
    hook = _notebook_hook()
    notebook = chapter_notebook(site, lang, page)
    sources = [source for info, source in blocks(DOCS / lang / page) if info == "python"]
    cells = code(notebook)
    assert [cell["source"] for cell in cells] == [hook._code_cell(s)["source"] for s in sources]
    tagged = ["raises-exception" in cell["metadata"].get("tags", []) for cell in cells]
    assert tagged == [hook.raises(source) for source in sources]
    text = "\n".join(cell["source"] for cell in notebook["cells"])
    assert "--8<--" not in text and not re.search(r"^(\?\?\?|!!!) ", text, re.M)


@pytest.mark.parametrize("lang, page", CHAPTERS, ids=str)
def test_chapter_notebook_keeps_the_solutions_for_the_end(site, lang, page):
    exercises, solutions = _notebook_hook().EXERCISES[lang]
    lines = [line for cell in chapter_notebook(site, lang, page)["cells"]
             if cell["cell_type"] == "markdown" for line in cell["source"].splitlines()]
    assert lines.count(exercises) == 1 and lines.count(solutions) == 1
    first, last = lines.index(exercises), lines.index(solutions)
    numbered = lambda part: [line for line in part if re.match(r"^\*\*\d+\. ", line)]
    # the questions, then the solutions, in the same number
    assert first < last and len(numbered(lines[first:last])) == len(numbered(lines[last:])) >= 2


@pytest.mark.parametrize("lang, page", CHAPTERS, ids=str)
def test_chapter_offers_its_notebook_for_download_and_in_colab(site, lang, page):
    name = Path(page).with_suffix(".ipynb").name
    links = [attrs for tag, attrs in tags_of(site, lang, page) if tag == "a"]
    assert [a["href"] for a in links if "download" in a] == [name]
    repository = [a["href"] for a in links if "md-source" in a.get("class", "")][0]
    owner, repo = re.match(r"https://github\.com/([^/]+)/([^/]+?)/?$", repository).groups()
    colab = [a for a in links if a.get("href", "").startswith("https://colab.research.google.com/")]
    assert [a["href"] for a in colab] == [
        f"https://colab.research.google.com/github/{owner}/{repo}/blob/gh-pages/"
        f"{url_of(lang, page)}{name}"]
    assert ("Colab" in colab[0]["title"]) and (bool(re.search(r"[\u4e00-\u9fff]", colab[0]["title"]))
                                               == (lang == "zh"))
