"""The pages of the site, as the parity and site tests see them."""

from __future__ import annotations

import functools
import importlib.util
import io
import re
import sys
import tokenize
from html import unescape
from collections.abc import Iterator
from pathlib import Path

from tests.harness import ROOT, expand_includes, output_comments, parse_page

DOCS = ROOT / "docs"
LANGUAGES = ("en", "zh")
DEFAULT = "en"
# Any fence at all, wherever it is indented or quoted: what the harness must see.
FENCE = re.compile(r"^[ \t>]*(?:[-*+][ \t]+|\d+[.)][ \t]+)?(`{3,}|~{3,})(.*)$")


def pages(language: str = DEFAULT) -> list[Path]:
    """Paths of the pages of one language, relative to its folder."""
    folder = DOCS / language
    return sorted(p.relative_to(folder) for p in folder.rglob("*.md"))


def blocks(path: Path) -> list[tuple[str, str]]:
    """(info string, source) of every block the harness runs or refuses, in page order."""
    document = parse_page(path)
    return [(region.lexemes["info"].strip(), str(region.parsed)) for _, region in document.regions]


# A figure's labels are text, translated like a comment: each page includes
# the labels of its own language (snippets/figure_text.py), and the twins may
# differ in that one include line and nothing else of their code.
FIGURE_TEXT = re.compile(r'^([ \t]*)--8<-- "snippets/figure_text\.py:(\w+)"$', re.M)


def shown_outputs(lang: str, page: Path) -> list[str]:
    """The text of every ``#>`` line the page shows."""
    lines = (DOCS / lang / page).read_text(encoding="utf-8").splitlines()
    return output_comments(lines, 0, len(lines))


def code_without_comments(info: str, source: str) -> list[str]:
    """The lines of a block with ordinary comments removed; ``#>`` output lines stay."""
    if info != "python":
        return source.splitlines()
    source = expand_includes(FIGURE_TEXT.sub(r"\1# the figure labels of the page's language",
                                             source))
    cuts: dict[int, int] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.string.startswith("#>"):
            cuts[token.start[0]] = token.start[1]
    kept = []
    for number, line in enumerate(source.splitlines(), start=1):
        if number in cuts:
            line = line[:cuts[number]].rstrip()
            if not line:
                continue
        kept.append(line)
    return kept


def fence_scan(path: Path) -> Iterator[tuple[str, str, str]]:
    """(line, kind, info) for each line of a page, by a plain line scan: kind is
    "open" (info is the fence's info string), "code", "close" or "prose"."""
    open_fence = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = FENCE.match(line)
        if match and open_fence is None:
            open_fence, info = match.groups()
            yield line, "open", info.strip()
        elif (match and match.group(1)[0] == open_fence[0]
              and len(match.group(1)) >= len(open_fence) and not match.group(2).strip()):
            open_fence = None
            yield line, "close", ""
        else:
            yield line, "prose" if open_fence is None else "code", ""


def opening_fences(path: Path) -> list[str]:
    """Info strings of the opening fences of a page."""
    return [info for _, kind, info in fence_scan(path) if kind == "open"]


def glossary() -> list[tuple[str, list[str], list[str]]]:
    """(English, the Chinese terms, the translations not used) of each row of
    the Chinese glossary's table."""
    split = lambda cell: [word for word in re.split("[、,，]", cell) if word]
    rows = []
    for line in (DOCS / "zh" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not set(cells[0]) <= set("- ") and cells[0] != "英文":
            rows.append((cells[0], split(cells[1]), split(cells[2])))
    return rows


@functools.cache
def _notebook_hook():
    """hooks/notebooks.py, loaded as mkdocs loads it: with hooks/ on sys.path."""
    if str(ROOT / "hooks") not in sys.path:
        sys.path.append(str(ROOT / "hooks"))
    spec = importlib.util.spec_from_file_location("hooks_notebooks", ROOT / "hooks" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_of(lang: str, page: Path, address: str) -> tuple[str, dict]:
    """The file name and contents of the notebook the build makes of a page,
    its links pointing at ``address``, the site of the page's language."""
    return (Path(page).with_suffix(".ipynb").name,
            _notebook_hook().page_to_notebook(DOCS / lang / page, address))


# A notebook's printed output as nbconvert renders it: the text of each
# stdout output area, whose stream is text/plain (stderr has its own type).
RENDERED_TEXT = re.compile(r'<div class="jp-RenderedText jp-OutputArea-output" '
                           r'data-mime-type="text/plain"[^>]*>\s*<pre>(.*?)</pre>', re.S)


def rendered_outputs(html: str) -> list[str]:
    """The lines a notebook page shows as its cells' printed output, in order."""
    return [line for area in RENDERED_TEXT.findall(html)
            for line in unescape(re.sub(r"<[^>]+>", "", area)).splitlines()]
