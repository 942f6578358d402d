"""Every notebook the site offers for download runs for a reader who has no clone.

Each notebook is executed once, by the build (hooks/notebooks.py): written
alone into an empty folder and run there by a real Jupyter kernel whose
environment names nothing of this repository; any error fails the build. The
executed notebook is what the page renders and what its download button
gives; these tests read that file from the built site.
"""

import json
from pathlib import PurePosixPath

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
