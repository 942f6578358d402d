"""Render the page's LaTeX to MathML while the site is built.

pymdownx.arithmatex finds the math (and leaves code alone) but only wraps it
for a JavaScript renderer; MathJax or KaTeX would be a CDN download or a
bundled copy for every reader. Browsers render MathML natively, so each
``\\(...\\)`` / ``\\[...\\]`` that arithmatex emits becomes MathML here, with
latex2mathml, and the page needs no script for math at all.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

INLINE = re.compile(r'<span class="arithmatex">\\\((.+?)\\\)</span>', re.S)
BLOCK = re.compile(r'<div class="arithmatex">\\\[(.+?)\\\]</div>', re.S)


def _render(display: str):
    def replace(match: re.Match) -> str:
        latex = html.unescape(match.group(1)).strip()
        tag = "div" if display == "block" else "span"
        return f'<{tag} class="math">{convert(latex, display=display)}</{tag}>'
    return replace


def on_page_content(content: str, **_) -> str:
    content = BLOCK.sub(_render("block"), content)
    return INLINE.sub(_render("inline"), content)
