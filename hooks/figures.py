"""Draw the site's figures from the snippets while the site is built.

Each entry of ``snippets.figures.FIGURES`` becomes ``figures/<name>.svg``, a
file of the build (mkdocs' File.generated), so pages link it like any image
and nothing drawn is committed. Drawing means training small models, so the
SVGs are cached under .cache/figures, keyed by the snippets' source: a change
to any snippet redraws them all, and an unchanged tree reuses them.
"""

from __future__ import annotations

import io
from pathlib import Path

from _shared import ROOT, importable, snippets_key
from mkdocs.structure.files import File

CACHE = ROOT / ".cache" / "figures"


def _render_all() -> dict[str, Path]:
    """Path of each figure's SVG in the cache, drawing them first if needed."""
    key = snippets_key()
    cached = sorted(CACHE.glob(f"*.{key}.svg"))
    if cached:
        return {p.name.split(".")[0]: p for p in cached}
    import matplotlib.pyplot as plt
    importable()
    from snippets.figures import FIGURES

    plt.rcParams.update({"svg.hashsalt": "figures", "svg.fonttype": "none"})
    rendered = {}
    for name, draw in FIGURES.items():
        fig = draw()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
        rendered[name] = buffer.getvalue()
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("*.svg"):
        old.unlink()
    paths = {}
    for name, svg in rendered.items():
        paths[name] = CACHE / f"{name}.{key}.svg"
        paths[name].write_bytes(svg)
    return paths


def on_files(files, config):
    # The files live outside docs_dir, which mkdocs-static-i18n passes through
    # untouched to each language's build (a File with no source path breaks it).
    for name, path in _render_all().items():
        src_uri = f"figures/{name}.svg"
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, abs_src_path=str(path)))
    return files
