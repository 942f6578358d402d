"""Serve the pages under docs/<lang>/notebooks/ as executed Jupyter notebooks.

A notebook is written as an ordinary page, so the doc-test harness runs it
and the parity test holds its two languages to the same code. While the site
builds, each such page becomes a notebook: its prose becomes Markdown cells
and its python blocks code cells, with the ``--8<--`` includes expanded (the
code comes from snippets/, never a copy) and the ``#>`` lines dropped, since
Jupyter shows the real outputs. A ``#| fig-alt: ...`` line in a block becomes
the alt text of the figure that block draws.

Each notebook is executed once, here, as a reader who downloaded it runs it:
alone in an empty folder, by a fresh Jupyter kernel (nbclient) whose
environment names nothing of this repository. The executed notebook is what
the page renders, what its download button gives, and what
tests/test_notebooks.py checks: one execution for all three. It is cached in
.cache/notebooks/<lang>/executed/<key>/, keyed by the notebook, the torch
release and the environment variables that change float results.

mkdocs-jupyter renders the executed notebook in place of the page
(``execute: false``). One thing it cannot do alone, because
mkdocs-static-i18n rebuilds every File and runs one build per language:
render a page whose File i18n created. Here the page keeps its i18n File (its
URL, nav entry and language switch) and only its source becomes the
notebook, which mkdocs-jupyter recognises by the .ipynb source path.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import posixpath
import re
import tempfile
from html import escape
from importlib.metadata import version
from pathlib import Path

from _shared import ROOT, importable, languages
from mkdocs.plugins import event_priority

OUT = ROOT / ".cache" / "notebooks"
FOLDER = "notebooks"
# A notebook page's src_uri, with or without i18n's language folder in front.
NOTEBOOK_PAGE = re.compile(r"^(?:[a-z]{2}/)?notebooks/[^/]+\.md$")
ALT = re.compile(r"^#\|\s*fig-alt:\s*(.*)$")
# nbconvert's lab template writes no alt text; its exporter then puts this one.
NO_ALT = 'alt="No description has been provided for this image"'
# The template always loads MathJax; notebook pages have no TeX to typeset.
MATHJAX = re.compile(r'<!-- Load mathjax -->\s*<script src="[^"]*">\s*</script>\s*'
                     r'<!-- MathJax configuration -->\s*<script type="text/x-mathjax-config">'
                     r'.*?</script>', re.S)
# ... and a loader that imports mermaid from a CDN when a notebook has diagrams.
MERMAID = re.compile(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded",'
                     r'[^<]*?\.jp-Mermaid.*?</script>', re.S)


def _harness():
    importable()
    from tests import harness
    return harness


LINK = re.compile(r"\]\((?!https?:)([^)\s#]+)\.md(#[^)\s]*)?\)")


# A figure the site draws while it builds: in a notebook, the site's copy.
FIGURE = re.compile(r"\]\((figures/[\w-]+\.svg)\)")


def _absolute_links(text: str, site: str, folder: str = FOLDER) -> str:
    """Links to other pages and the site's figures, as URLs of the site: mkdocs
    does not rewrite the links of a notebook, and a downloaded notebook has no
    pages beside it. ``folder``: where the page lies, under the language's root."""
    def url(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(folder, match.group(1)))
        path = "" if target == "index" else target.removesuffix("/index") + "/"
        return f"]({site}{path}{match.group(2) or ''})"
    return FIGURE.sub(lambda m: f"]({site}{m.group(1)})", LINK.sub(url, text))


def _markdown_cell(text: str, math: bool = False) -> dict | None:
    text = text.strip("\n")
    if not text.strip():
        return None
    if not math and re.search(r"(?<!\\)\$", text):
        raise ValueError("math ($...$) in a notebook page: its HTML would need MathJax")
    # mkdocs-jupyter's table of contents drops code spans from headings.
    text = re.sub(r"^(#+ .*)$", lambda m: m.group(1).replace("`", ""), text, flags=re.M)
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code_cell(source: str) -> dict:
    harness = _harness()
    lines, metadata = [], {}
    for line in harness.expand_includes(source).splitlines():
        if line.strip().startswith(harness.OUTPUT_MARK):
            continue
        alt = ALT.match(line.strip())
        if alt:
            metadata["alt"] = alt.group(1)
            continue
        lines.append(line)
    return {"cell_type": "code", "metadata": metadata, "execution_count": None,
            "outputs": [], "source": "\n".join(lines).strip("\n")}


def raises(source: str) -> bool:
    """Whether a block ends in an error: its last statement's #> lines show one."""
    harness = _harness()
    expanded = harness.expand_includes(source)
    statements = ast.parse(expanded).body
    if not statements:
        return False
    lines = expanded.splitlines()
    shown = harness.output_comments(lines, statements[-1].end_lineno, len(lines))
    return any(ERROR.match(line) for group in harness.for_release(shown) for line in group)


# The first line of an error as the harness shows it: "RuntimeError: ...".
ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")
ADMONITION = re.compile(r'^(\?\?\?\+?|!!!) (\w+)(?: "([^"]*)")?[ \t]*$')
HEADING_ID = re.compile(r"^(#+ .*?)\s*\{#[\w-]+\}\s*$", re.M)
EXERCISES = {"en": ("## Exercises", "## Solutions"), "zh": ("## 练习", "## 参考答案")}


def _admonitions(lines: list[str]) -> list[tuple[int, int, str, str]]:
    """(first line, end, kind, title) of each top-level admonition: its header
    and the lines indented under it (blank lines inside included)."""
    found, i = [], 0
    while i < len(lines):
        match = ADMONITION.match(lines[i])
        if not match:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (not lines[end].strip() or lines[end].startswith("    ")):
            end += 1
        while end > i + 1 and not lines[end - 1].strip():
            end -= 1
        found.append((i, end, match.group(2), match.group(3) or match.group(2).title()))
        i = end
    return found


def _unfolded(lines: list[str], start: int, end: int, title: str) -> list[str]:
    """An admonition as Jupyter's Markdown can show it: its title in bold, then
    its content, no longer indented."""
    return [f"**{title}**", ""] + [line[4:] for line in lines[start + 1:end]]


def chapter_text(path: Path, language: str) -> str:
    """A chapter's page as its notebook tells it: folded notes unfolded, and the
    exercises' solutions moved from under each exercise to a section at the
    end, so that a reader can try first. The code keeps its order: the
    solutions are the last code of the page."""
    lines = path.read_text(encoding="utf-8").splitlines()
    exercises, solutions_heading = EXERCISES[language]
    cut = lines.index(exercises) if exercises in lines else len(lines)
    body, solutions, number = [], [], 0
    position = 0
    for start, end, kind, title in _admonitions(lines):
        body += lines[position:start]
        if start > cut and kind == "success":
            number += 1
            solutions += [""] + _unfolded(lines, start, end, f"{number}. {title}")
        else:
            body += _unfolded(lines, start, end, title)
        position = end
    body += lines[position:]
    if solutions:
        body += ["", solutions_heading] + solutions
    return HEADING_ID.sub(r"\1", "\n".join(body) + "\n")


def page_to_notebook(path: Path, site: str, text: str | None = None,
                     folder: str = FOLDER) -> dict:
    """The notebook of a page: prose as Markdown cells, blocks as cells; links to
    other pages point at ``site``, the address of the page's language.
    ``text``: the page's text as the notebook tells it, if not the file's
    (a chapter's, from chapter_text); then math stays, for Jupyter to render."""
    from sybil import Document

    harness = _harness()
    math = text is not None
    if text is None:
        document = harness.parse_page(path)
    else:
        document = Document(text, str(path))
        for region in harness.parse_blocks(document):
            document.add(region)
    cells, position = [], 0
    for _, region in document.regions:
        cells.append(_markdown_cell(_absolute_links(document.text[position:region.start], site,
                                                    folder), math))
        info = region.lexemes["info"].strip()
        if info == "python":
            # Expanded once here; _code_cell and raises find nothing left to expand.
            source = harness.expand_includes(str(region.parsed))
            cells.append(_code_cell(source))
            if raises(source):
                # nbclient and Jupyter run on past a cell with this tag; the
                # page shows the error, and the notebook shows it too.
                cells[-1]["metadata"]["tags"] = ["raises-exception"]
        else:  # a console block: shown, as on the page (the harness ran it)
            cells.append(_markdown_cell(document.text[region.start:region.end], math))
        position = region.end
    cells.append(_markdown_cell(_absolute_links(document.text[position:], site, folder), math))
    cells = [cell for cell in cells if cell]
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{number}"
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# Appended to the notebook while it runs, then removed: what the kernel saw of
# its folder and of this repository, kept in the notebook's metadata.
PROBE = ("import importlib.util, os\n"
         "print(importlib.util.find_spec('snippets'), sorted(os.listdir('.')))")
# The variables that change what a kernel's float arithmetic gives (make test
# sets them to check the pages as another CPU computes them).
FLOAT_ENVIRONMENT = ("ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS")


def stream_lines(cell: dict, name: str = "stdout") -> list[str]:
    """The lines a code cell printed on one stream."""
    return "".join("".join(output["text"]) for output in cell.get("outputs", [])
                   if output["output_type"] == "stream" and output["name"] == name).splitlines()


def execute(notebook: dict, name: str) -> dict:
    """The notebook executed as a reader who downloaded it runs it: written
    alone as ``name`` into an empty folder, run there top to bottom by a fresh
    kernel without PYTHONPATH. Any error raises (nbclient's CellExecutionError).
    Its metadata "ran_alone" records what PROBE printed there."""
    import nbformat
    from nbclient import NotebookClient

    executed = nbformat.from_dict(copy.deepcopy(notebook))
    executed.cells.append(nbformat.v4.new_code_cell(PROBE, id="probe"))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="notebook-") as folder:
        (Path(folder) / name).write_text(json.dumps(notebook), encoding="utf-8")
        # coalesce_streams: what a cell printed in several messages becomes one
        # output, as Jupyter shows it (a print's line and its newline can
        # arrive apart).
        client = NotebookClient(executed, kernel_name="python3", timeout=300, allow_errors=False,
                                record_timing=False, coalesce_streams=True,
                                resources={"metadata": {"path": folder}})
        client.execute(env=env, cwd=folder)
    probe = executed.cells.pop()
    executed.metadata["ran_alone"] = stream_lines(probe)
    return executed


def executed_notebook(notebook: dict, folder: Path, name: str) -> Path:
    """The executed notebook, as ``folder/<key>/name``: one execution per key,
    the notebook, torch and the float environment together, so that builds
    with plain kernels (make test) and with the machine's best (make serve)
    keep one each."""
    key = hashlib.sha256(json.dumps(
        [notebook, version("torch"), [os.environ.get(v) for v in FLOAT_ENVIRONMENT]],
        sort_keys=True).encode()).hexdigest()[:16]
    target = folder / key / name
    if not target.exists():
        executed = execute(notebook, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(executed, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    return target


@event_priority(-200)  # after mkdocs-static-i18n's on_files (-100), which makes the Files
def on_files(files, config):
    language, default = languages(config)
    site = config.site_url or "/"
    site += "" if language == default else f"{language}/"
    for file in list(files):
        if NOTEBOOK_PAGE.match(file.src_uri):
            notebook = page_to_notebook(Path(file.abs_src_path), site)
            name = Path(file.src_uri).with_suffix(".ipynb").name
            target = executed_notebook(notebook, OUT / language / "executed", name)
            # i18n hands the same File objects to every language's build, so
            # the page gets a copy whose source is the executed notebook.
            notebook_file = copy.copy(file)
            notebook_file.abs_src_path = str(target)
            files.remove(file)
            files.append(notebook_file)
    return files


# Pages that are not chapters: they get no notebook.
NOT_CHAPTERS = {"index.md", "glossary.md", "contributing.md"}
GITHUB = re.compile(r"^https://github\.com/([^/]+)/([^/]+?)/?$")
# The branch the site is published on (.github/workflows/site.yml): Colab
# opens a notebook from a GitHub branch.
PUBLISHED_BRANCH = "gh-pages"


def chapter_of(file) -> str | None:
    """The chapter's path under its language folder (``autograd.md``), or None."""
    path = re.sub(r"^[a-z]{2}/", "", file.src_uri)
    return None if path in NOT_CHAPTERS or NOTEBOOK_PAGE.match(path) else path


def colab_url(repo_url: str | None, path: str) -> str | None:
    """Where Colab opens the published file ``path`` (relative to the site's
    root), or None when the site's repository is not on GitHub."""
    match = GITHUB.match(repo_url or "")
    if not match:
        return None
    owner, repo = match.groups()
    return (f"https://colab.research.google.com/github/{owner}/{repo.removesuffix('.git')}"
            f"/blob/{PUBLISHED_BRANCH}/{path}")


def on_page_markdown(markdown: str, page, config, files, **_) -> str:
    """Write a chapter's notebook beside its page in the site, and give the page
    its download and Colab links (overrides/main.html shows them)."""
    chapter = chapter_of(page.file)
    if chapter is None:
        return markdown
    language, default = languages(config)
    site = (config.site_url or "/") + ("" if language == default else f"{language}/")
    notebook = page_to_notebook(Path(page.file.abs_src_path), site,
                                text=chapter_text(Path(page.file.abs_src_path), language),
                                folder=posixpath.dirname(chapter))
    name = Path(chapter).with_suffix(".ipynb").name
    target = Path(config.site_dir) / page.file.dest_uri
    target = target.parent / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    published = posixpath.join(posixpath.dirname(page.file.dest_uri), name)
    page.chapter_notebook = {"download": name, "colab": colab_url(config.repo_url, published)}
    return markdown


HEADING = re.compile(r'<h([1-6]) id="([^"]*)"(.*?)</h\1>', re.S)


def _toc_ids(items):
    for item in items:
        yield item.id
        yield from _toc_ids(item.children)


def _match_toc(html: str, page) -> str:
    """Give each heading the id its table-of-contents entry links to.

    nbconvert makes ids from ASCII only (Chinese headings all get ""), while
    mkdocs-jupyter builds the table of contents with Python-Markdown's ids.
    Both come from the same cells, in the same order.
    """
    ids = list(_toc_ids(page.toc))
    headings = HEADING.findall(html)
    if len(ids) != len(headings):
        raise ValueError(f"{page.file.src_uri}: {len(headings)} headings, {len(ids)} TOC entries")
    new_ids = iter(ids)

    def replace(match: re.Match) -> str:
        level, old, rest = match.groups()
        new = next(new_ids)
        rest = rest.replace(f'href="#{old}"', f'href="#{new}"')
        return f'<h{level} id="{new}"{rest}</h{level}>'
    return HEADING.sub(replace, html)


def on_page_content(html: str, page, **_) -> str:
    if not str(page.file.abs_src_path).endswith(".ipynb"):
        return html
    for loader in (MATHJAX, MERMAID):
        html, found = loader.subn("", html)
        if found != 1:
            raise ValueError(f"{page.file.src_uri}: expected one {loader.pattern[:30]}...")
    notebook = json.loads(Path(page.file.abs_src_path).read_text(encoding="utf-8"))
    alts = [cell["metadata"]["alt"] for cell in notebook["cells"] if "alt" in cell["metadata"]]
    if html.count(NO_ALT) != len(alts):
        raise ValueError(f"{page.file.src_uri}: {html.count(NO_ALT)} figures, but {len(alts)}"
                         " '#| fig-alt:' lines; each figure's cell needs exactly one")
    for alt in alts:
        html = html.replace(NO_ALT, f'alt="{escape(alt)}"', 1)
    return _match_toc(html, page)
