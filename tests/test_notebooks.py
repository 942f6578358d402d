"""Every notebook the site offers for download runs for a reader who has no clone.

The notebook is the one the build makes of the page, which the page's download
button gives (tests/test_site.py checks that it is the same file). It is
written alone into an empty folder and executed there by nbclient with a real
Jupyter kernel, whose environment names nothing of this repository.
"""

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.harness import _diff, outputs_match
from tests.pages import LANGUAGES, notebook_of, pages, shown_outputs

NOTEBOOKS = [(lang, page) for lang in LANGUAGES for page in pages()
             if str(page).startswith("notebooks/")]
# Appended after the notebook's own cells: proof that nothing of ours was there.
NO_CLONE = ("import importlib.util, os\n"
            "print(importlib.util.find_spec('snippets'), sorted(os.listdir('.')))")
# Where the notebooks' links to other pages point. They are prose, in Markdown
# cells, and change nothing that runs.
ADDRESS = "https://example.org/"


def printed(cell) -> list[str]:
    return [line for output in cell.get("outputs", []) if output["output_type"] == "stream"
            for line in output["text"].splitlines()]


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=str)
def test_downloaded_notebook_runs_in_an_empty_folder(lang, page, tmp_path):
    name, contents = notebook_of(lang, page, ADDRESS)
    notebook = nbformat.from_dict(contents)
    (tmp_path / name).write_text(json.dumps(contents), encoding="utf-8")
    notebook.cells.append(nbformat.v4.new_code_cell(NO_CLONE))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    client = NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env, cwd=str(tmp_path))  # raises CellExecutionError on any error

    assert printed(notebook.cells[-1]) == [f"None [{name!r}]"]
    # What the page shows under its statements, the downloaded notebook
    # prints, in the same order, compared as the harness compares.
    shown = shown_outputs(lang, page)
    output = [line for cell in notebook.cells[:-1] for line in printed(cell)]
    assert shown and outputs_match(shown, output), _diff(shown, output)
