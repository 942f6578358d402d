"""Draw the site's figures from the snippets while the site is built.

Each entry of ``snippets.figures.FIGURES`` becomes ``figures/<name>.svg`` in
every language, drawn by the same code with its labels in that language
(snippets/figure_text.py). It is a file of the build (mkdocs' File.generated),
so a page links it as ``figures/<name>.svg`` whatever its language, and
nothing drawn is committed. Each ``<img>`` of a figure is given the figure's
size (``width``, ``height``), so that the browser reserves its place before
it loads: figures load as they near the screen (hooks/phone.py), and one of
no size yet would move what follows it, a heading a link jumped to too.
Drawing means training small models, so the SVGs
are cached under .cache/figures/<lang>, keyed by the snippets' source: a
change to any snippet redraws them all, and an unchanged tree reuses them.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from _shared import ROOT, importable, languages, snippets_key
from mkdocs.structure.files import File

CACHE = ROOT / ".cache" / "figures"
# matplotlib's SVG states its size in points, of which a CSS pixel is 3/4.
SVG_SIZE = re.compile(rb'<svg [^>]*?width="([\d.]+)pt" height="([\d.]+)pt"')
FIGURE_IMAGE = re.compile(r'<img (?=[^>]*\bsrc="(?:\.\./)*figures/([\w-]+)\.svg")')
#: Each figure's <img> size attributes, by (language, name), read once per build of a language.
SIZES: dict[tuple[str, str], str] = {}


def _render_all(language: str) -> dict[str, Path]:
    """Path of each figure's SVG in the cache, drawing them first if needed."""
    key = snippets_key()
    folder = CACHE / language
    cached = sorted(folder.glob(f"*.{key}.svg"))
    if cached:
        return {p.name.split(".")[0]: p for p in cached}
    import matplotlib.pyplot as plt
    importable()
    from snippets.figures import FIGURES, draw

    # Text stays text in the SVG ("none"): the reader's browser draws it with
    # its own fonts, Chinese included.
    plt.rcParams.update({"svg.hashsalt": "figures", "svg.fonttype": "none"})
    rendered = {}
    for name in FIGURES:
        fig = draw(name, language)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
        rendered[name] = buffer.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.svg"):
        old.unlink()
    paths = {}
    for name, svg in rendered.items():
        paths[name] = folder / f"{name}.{key}.svg"
        paths[name].write_bytes(svg)
    return paths


def on_files(files, config):
    # The files live outside docs_dir, which mkdocs-static-i18n passes through
    # untouched to each language's build (a File with no source path breaks it).
    language, default = languages(config)
    prefix = "" if language == default else f"{language}/"
    for name, path in _render_all(language).items():
        src_uri = f"{prefix}figures/{name}.svg"
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
        width, height = SVG_SIZE.search(path.read_bytes()[:2000]).groups()
        # unrounded: a rounded width and height would change the figure's shape by a fraction of a pixel
        SIZES[language, name] = f'width="{float(width) * 4 / 3:g}" height="{float(height) * 4 / 3:g}" '
    return files


def on_page_content(html, page, config, files):
    language, _ = languages(config)
    return FIGURE_IMAGE.sub(lambda m: "<img " + SIZES[language, m[1]], html)
