"""Keep what a page costs a phone's browser small (README, "Pages on a phone").

Material's script measures the page several times while it starts (each code
block's width, the header's size, the colour scheme), and each measurement
makes the browser recompute the style and layout of every element. On a
chapter most elements are the spans Pygments wraps around tokens, so the
cost of loading a page grows with them. What is done here, none of which
the plugins have a setting for:

* Names (``n``) and whitespace (``w``) in code blocks lose their spans.
  Material colours ``.highlight .n`` with the code's own text colour, in both
  colour schemes; in notebook cells (``.highlight-ipynb``, mkdocs-jupyter's
  theme) ``.n`` has no rule. A ``.w`` span holds only whitespace, and neither
  theme gives it a background or a line. The page looks the same, with a
  third fewer elements (tests/test_browser.py checks both themes).
* Each code block carries its number of lines (``style="--lines: N"``), so
  that the browser can skip the style and layout of blocks off screen
  (``content-visibility``, overrides/main.html) and still reserve their
  height, which is the number of lines times the line height
  (tests/test_browser.py checks that it is).
* Each table Material's script will put in a scrolling box (``<table>``
  without a class) is first put in a box of its own, which makes no box on
  screen (``display: contents``, overrides/main.html). Material's script
  replaces the table by its box as the page starts, and a change to the
  article's own children makes the browser restyle the whole article
  (Material's rules on the article's children); inside this box, only the
  table is restyled.
* Every image in a page's content loads when it nears the screen
  (``loading="lazy"``): an image is drawn as the page loads, wherever it
  stands, and a figure is an SVG document the browser styles and lays out
  (the descent path's, whose 1,001 markers are ``<use>`` elements, was one
  restyle of 2,243 elements in Chromium's trace). Each keeps its place
  before it loads: a figure's size is written by hooks/figures.py, and a
  notebook's PNG output is given the size its header states.
* mkdocs-jupyter inlines JupyterLab's whole style sheet (about 570 KB) into
  every notebook page. Only the rules whose classes the page uses, and the
  custom properties those rules read, are kept.
* Material's script starts after the browser's first frame of the parsed
  page (at once in a background tab), not while the browser parses the
  page's end (overrides/main.html).
  The template names the script by ``material_bundle``, found here among
  the theme's files; ``extra_javascript``, which Material's template runs
  after its script, is refused.
"""

from __future__ import annotations

import base64
import functools
import re
import struct

import tinycss2
from mkdocs.exceptions import PluginError

# A code block: Material's (pymdownx.highlight) or a notebook cell's (mkdocs-jupyter).
CODE_BLOCK = re.compile(r'(<div class="(?:language-[\w-]+ highlight|highlight-ipynb[^"]*)"><pre>)'
                        r'(.*?)(</pre>)', re.S)
PLAIN_SPAN = re.compile(r'<span class="[nw]">([^<]*)</span>')
# An image of a page's content (Markdown's, a notebook's output) that says nothing of loading.
IMAGE = re.compile(r"<img (?![^>]*\bloading=)")
# A PNG given inline without a size (a notebook's output): its header's first 24 bytes hold it.
SIZELESS_PNG = re.compile(r'<img (?![^>]*\bwidth=)(?=[^>]*\bsrc="data:image/png;base64,([\w+/]{32}))')
# Material's script, among the theme's files (its name carries a hash of its content).
BUNDLE = re.compile(r"assets/javascripts/bundle\.\w+\.min\.js")
# A table as Material's script finds it (table:not([class])), whole: tables do not nest here.
PLAIN_TABLE = re.compile(r"<table>.*?</table>", re.S)

STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S)
CLASS_ATTRIBUTE = re.compile(r'class="([^"]*)"')
CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
VAR = re.compile(r"var\(\s*(--[\w-]+)")


def plain_code(html: str) -> str:
    """The site's code blocks without spans that change nothing on screen, each
    telling the style sheet its number of lines (overrides/main.html)."""
    def block(match: re.Match) -> str:
        opening, body, closing = match[1], PLAIN_SPAN.sub(r"\1", match[2]), match[3]
        count = body.removesuffix("</code>").rstrip("\n").count("\n") + 1
        lines = f' style="--lines: {count}"'
        if body.startswith("<span></span><code>"):  # Material's: the lines are in <code>
            return opening + body.replace("<code>", f"<code{lines}>", 1) + closing
        return opening.removesuffix("<pre>") + f"<pre{lines}>" + body + closing  # a notebook cell's
    return CODE_BLOCK.sub(block, html)


class Rule:
    """A style rule, parsed once: its selectors, each with the classes it
    names, and its declarations, each with the custom properties it reads."""

    def __init__(self, rule):
        # Commas inside :is(...) and the like are inside function tokens: the
        # top-level ones separate the selectors.
        selectors, current = [], []
        for token in rule.prelude + [None]:
            if token is None or (token.type == "literal" and token.value == ","):
                text = tinycss2.serialize(current).strip()
                if text:
                    selectors.append((text, frozenset(CLASS_IN_SELECTOR.findall(text))))
                current = []
            else:
                current.append(token)
        self.selectors = selectors
        self.declarations = []
        for d in tinycss2.parse_blocks_contents(rule.content, True, True):
            text = d.serialize()
            name = d.name if d.type == "declaration" and d.name.startswith("--") else None
            self.declarations.append((name, text, frozenset(VAR.findall(text))))


class Group:
    """An @media or @supports rule and the rules inside it."""

    def __init__(self, rule):
        self.prelude = f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}"
        self.rules = _parse(tinycss2.parse_rule_list(rule.content, True, True))


def _parse(rules) -> list:
    parsed = []
    for rule in rules:
        if rule.type == "qualified-rule":
            parsed.append(Rule(rule))
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content:
            parsed.append(Group(rule))
        elif rule.type == "at-rule" and rule.lower_at_keyword != "charset":
            parsed.append(rule.serialize())
    return parsed


@functools.lru_cache(maxsize=16)  # every notebook page inlines the same sheets
def parsed_sheet(css: str) -> list:
    return _parse(tinycss2.parse_stylesheet(css, True, True))


def _used(rules: list, classes: set[str]) -> list[tuple]:
    """The rules with only their selectors that name classes in ``classes``, as
    ("rule", selectors, declarations), ("group", prelude, rules) or ("raw", text, None)."""
    used = []
    for rule in rules:
        if isinstance(rule, Rule):
            selectors = [text for text, named in rule.selectors if named <= classes]
            if selectors:
                used.append(("rule", ",".join(selectors), rule.declarations))
        elif isinstance(rule, Group):
            inner = _used(rule.rules, classes)
            if inner:
                used.append(("group", rule.prelude, inner))
        else:
            used.append(("raw", rule, None))
    return used


def _declarations(used: list[tuple]):
    for kind, _, body in used:
        if kind == "rule":
            yield from body
        elif kind == "group":
            yield from _declarations(body)


def _serialize(used: list[tuple], read: set[str]) -> str:
    """The used rules as CSS, with only the custom properties in ``read``."""
    out = []
    for kind, head, body in used:
        if kind == "raw":
            out.append(head)
            continue
        if kind == "rule":
            inner = ";".join(text for name, text, _ in body if name is None or name in read)
        else:
            inner = _serialize(body, read)
        if inner:
            out.append(f"{head}{{{inner}}}")
    return "".join(out)


def slim_styles(html: str) -> str:
    """A notebook page's inline style sheets, cut to what the page uses."""
    outside = STYLE.sub("", html)
    classes = {name for value in CLASS_ATTRIBUTE.findall(outside) for name in value.split()}
    # The page around the content is Material's, whose classes all start with md-.
    classes |= {name for name in CLASS_IN_SELECTOR.findall(html) if name.startswith("md-")}
    sheets = [_used(parsed_sheet(m[2]), classes) for m in STYLE.finditer(html)]
    # A custom property (--x: ...) is kept when something kept reads it: the
    # page itself, a declaration of another property, or a custom property
    # that is kept. Sheets read each other's properties, so all count.
    declarations = [d for used in sheets for d in _declarations(used)]
    read = set(VAR.findall(outside))
    for name, _, reads in declarations:
        if name is None:
            read |= reads
    while True:
        more = {var for name, _, reads in declarations if name in read for var in reads} - read
        if not more:
            break
        read |= more
    rest = iter([_serialize(used, read) for used in sheets])
    return STYLE.sub(lambda m: m[1] + next(rest) + m[3], html)


def boxed_tables(html: str) -> str:
    """Each table Material's script will wrap, in a box of its own."""
    return PLAIN_TABLE.sub(lambda m: f'<div class="table-box">{m[0]}</div>', html)


def png_size(match: re.Match) -> str:
    header = base64.b64decode(match[1])  # signature, IHDR's length and name, width, height
    width, height = struct.unpack(">II", header[16:24])
    return f'<img width="{width}" height="{height}" '


def lazy_images(html: str) -> str:
    """Each image of the content, loaded when it nears the screen, in a
    place of its size."""
    return IMAGE.sub('<img loading="lazy" ', SIZELESS_PNG.sub(png_size, html))


def on_page_content(html: str, page, **_) -> str:
    if "jupyter-wrapper" in html:
        html = slim_styles(html)
    return lazy_images(boxed_tables(plain_code(html)))


def on_env(env, config, files, **_):
    # Material's template runs extra_javascript after its script, which such
    # scripts rely on (its document$); overrides/main.html starts Material's
    # script later, and does not run them.
    if config.extra_javascript:
        raise PluginError("hooks/phone.py: extra_javascript is not run: overrides/main.html"
                          " replaces the template block that runs it, to start Material's script"
                          " after the first frame; start such a script from that block, after"
                          " Material's")
    bundles = [file.src_uri for file in files if BUNDLE.fullmatch(file.src_uri)]
    if len(bundles) != 1:
        raise PluginError(f"hooks/phone.py: expected one Material bundle among the theme's files,"
                          f" found {bundles or 'none'}")
    env.globals["material_bundle"] = bundles[0]
    return env
