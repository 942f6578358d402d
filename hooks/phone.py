"""Keep what a page costs a phone's browser small (README, "Pages on a phone").

Material's script measures the page several times while it starts (each code
block's width, the header's size, the colour scheme), and each measurement
makes the browser recompute the style and layout of every element. On a
chapter most elements are the spans Pygments wraps around tokens, so the
cost of loading a page grows with them. Two things here cut them, and
neither plugin has a setting for either:

* Names (``n``) and whitespace (``w``) in code blocks lose their spans.
  Material colours ``.highlight .n`` with the code's own text colour, in both
  colour schemes, and gives ``.w`` no style; in notebook cells
  (``.highlight-ipynb``, mkdocs-jupyter's theme) ``.n`` has no rule and
  ``.w`` the cell's own colour. The page looks the same, with a third fewer
  elements (tests/test_site.py checks both themes still read so).
* mkdocs-jupyter inlines JupyterLab's whole style sheet (about 570 KB) into
  every notebook page. Only the rules whose classes the page uses, and the
  custom properties those rules read, are kept.
"""

from __future__ import annotations

import re

import tinycss2

# A code block: Material's (pymdownx.highlight) or a notebook cell's (mkdocs-jupyter).
CODE_BLOCK = re.compile(r'(<div class="(?:language-[\w-]+ highlight|highlight-ipynb[^"]*)"><pre>)'
                        r'(.*?)(</pre>)', re.S)
PLAIN_SPAN = re.compile(r'<span class="[nw]">([^<]*)</span>')

STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')
CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
VAR = re.compile(r"var\(\s*(--[\w-]+)")


def plain_code(html: str) -> str:
    """The site's code blocks without spans that change nothing on screen."""
    return CODE_BLOCK.sub(lambda m: m[1] + PLAIN_SPAN.sub(r"\1", m[2]) + m[3], html)


def _selectors(prelude) -> list[str]:
    """A rule's selector list, split at its top-level commas."""
    parts, depth, current = [], 0, []
    for token in prelude:
        if token.type == "literal" and token.value == "," and depth == 0:
            parts.append(tinycss2.serialize(current).strip())
            current = []
            continue
        current.append(token)
    parts.append(tinycss2.serialize(current).strip())
    return [p for p in parts if p]


def _used_rules(rules, classes: set[str], read: set[str] | None) -> str:
    """The rules whose selectors name only classes in ``classes``, and of their
    custom properties (``--x: ...``) those in ``read`` (all, if it is None)."""
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s for s in _selectors(rule.prelude)
                         if set(CLASS_IN_SELECTOR.findall(s)) <= classes]
            declarations = [d.serialize() for d in tinycss2.parse_blocks_contents(rule.content, True, True)
                            if d.type != "declaration" or not d.name.startswith("--")
                            or read is None or d.name in read]
            if selectors and declarations:
                kept.append(f"{','.join(selectors)}{{{';'.join(declarations)}}}")
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            inner = _used_rules(tinycss2.parse_rule_list(rule.content, True, True), classes, read)
            if inner:
                kept.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{inner}}}")
        elif rule.type == "at-rule" and rule.lower_at_keyword != "charset":
            kept.append(rule.serialize())
    return "".join(kept)


def slim_styles(html: str) -> str:
    """A notebook page's inline style sheets, cut to what the page uses."""
    outside = STYLE.sub("", html)
    classes = {name for value in CLASS_ATTRIBUTE.findall(outside) for name in value.split()}
    # The page around the content is Material's, whose classes all start with md-.
    classes |= {name for name in CLASS_IN_SELECTOR.findall(html) if name.startswith("md-")}
    sheets = [tinycss2.parse_stylesheet(m[2], True, True) for m in STYLE.finditer(html)]
    # Then drop the custom properties nothing reads, until none is left: a
    # property may be read only by one that was dropped. Sheets read each
    # other's properties, so all are cut together.
    read, cut = None, None
    while True:
        slimmer = [_used_rules(rules, classes, read) for rules in sheets]
        if slimmer == cut:
            break
        cut, read = slimmer, set(VAR.findall("".join(slimmer) + outside))
    rest = iter(cut)
    return STYLE.sub(lambda m: m[1] + next(rest) + m[3], html)


def on_page_content(html: str, page, **_) -> str:
    if "jupyter-wrapper" in html:
        html = slim_styles(html)
    return plain_code(html)
