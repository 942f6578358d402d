"""A Chinese notebook, run where matplotlib finds no Chinese font (Colab's
Python, say), still draws readable labels.

It runs the notebook's code as ``python -c`` runs it
(tests/harness.run_python); it needs no built site, so it is a unit of work
of its own.
"""

from pathlib import Path

from tests.harness import console_environment, run_python
from tests.pages import notebook_of
from tests.test_notebooks import code

# What a reader's Python (Colab's) has: no Chinese font that matplotlib finds.
NO_CJK_FONT = ("from matplotlib import font_manager\n"
               "font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist\n"
               "    if not any(k in f.name for k in ('CJK', 'Han Sans', 'PingFang', 'YaHei', 'SimHei'))]\n")
DRAW_ALL = ("import io, matplotlib.pyplot as plt\n"
            "for number in plt.get_fignums():\n"
            "    plt.figure(number).savefig(io.BytesIO(), format='png')\n")


def test_chinese_notebook_without_a_chinese_font_draws_readable_labels(tmp_path):
    """No "Glyph ... missing" (empty boxes): English labels, and one line that
    says how to install a font."""
    _, notebook = notebook_of("zh", Path("notebooks/linear-regression.md"), "https://example.org/")
    source = "\n".join(cell["source"] for cell in code(notebook))
    # A fresh shell's environment, which names nothing of this repository.
    done = run_python(["-c", NO_CJK_FONT + source + "\n" + DRAW_ALL], cwd=tmp_path,
                      env={**console_environment(), "MPLBACKEND": "Agg"}, stderr_apart=True)
    assert done.returncode == 0, done.stderr
    assert "Glyph" not in done.stderr, done.stderr
    hints = [line for line in done.stdout.splitlines() if "fonts-noto-cjk" in line]
    assert len(hints) == 1
