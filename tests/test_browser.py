"""What a reader sees: every page of both languages in Debian's Chromium.

Playwright drives /usr/bin/chromium (installed with apt-get by .ci/run; the
tests never download a browser). The site is the strict build, served on
127.0.0.1: nothing may come from anywhere else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.harness import expand_includes, parse_page
from tests.pages import DEFAULT, DOCS, LANGUAGES, opening_fences, pages
from tests.test_site import url_of

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
EVERY_PAGE = [(lang, page) for lang in LANGUAGES for page in pages(DEFAULT)]
ids = str


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed: apt-get install chromium fonts-noto-cjk"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Tab:
    """A tab that records everything its page asks for and says."""

    def __init__(self, context, base: str):
        self.base = base
        self.page = context.new_page()
        self.requests, self.failed, self.errors = [], [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        # A request the tab itself cancels by moving to the next page is no failure.
        self.page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
                     and self.failed.append(f"{r.failure} {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"{r.status} {r.url}"))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str):
        self.page.goto(f"{self.base}/{path}", wait_until="load")
        return self.page

    def drain(self) -> dict:
        """What was recorded since the last drain."""
        seen = {"requests": self.requests[:], "failed": self.failed[:], "errors": self.errors[:]}
        self.requests.clear(), self.failed.clear(), self.errors.clear()
        return seen


class Visit(Tab):
    """A tab in a fresh browser context of its own."""

    def __init__(self, browser, base: str, width: int = 1280, **context):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **context)
        super().__init__(self.context, base)


TEXT_OUTSIDE_CODE = """() => {
  const body = document.querySelector("article").cloneNode(true);
  body.querySelectorAll("pre, code, .jp-InputArea, .jp-OutputArea").forEach(e => e.remove());
  return body.innerText;
}"""


def look_at(tab) -> dict:
    """Everything the page tests check, from one visit of the page."""
    seen = {
        "lang": tab.get_attribute("html", "lang"),
        "h1": tab.locator("article h1").count(),
        "no_alt": tab.eval_on_selector_all("img", "els => els.filter(e => !e.alt.trim()).length"),
        "broken": tab.eval_on_selector_all(
            "img", "els => els.filter(e => !e.complete || e.naturalWidth === 0).map(e => e.src)"),
        "text": tab.evaluate(TEXT_OUTSIDE_CODE),
        "math": tab.eval_on_selector_all(
            "math", "els => els.map(e => e.getBoundingClientRect().width)"),
        "svg": tab.eval_on_selector_all("img[src$='.svg']", "els => els.map(e => e.naturalWidth)"),
        "switch_links": tab.eval_on_selector_all(
            "a.md-select__link", "els => Object.fromEntries(els.map(e => [e.hreflang, e.href]))"),
    }
    tab.set_viewport_size({"width": 375, "height": 800})
    seen["phone_width"] = tab.evaluate("document.documentElement.scrollWidth")
    return seen


#: Pages loaded side by side in a batch of tabs: the browser loads them while
#: the test waits, and one wait covers the late requests of the whole batch.
BATCH = 10


@pytest.fixture(scope="module")
def tour(browser, served_site) -> dict:
    """Every page of both languages, each visited once, in a tab of its own."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = {}
    for start in range(0, len(EVERY_PAGE), BATCH):
        batch = [(key, Tab(context, served_site)) for key in EVERY_PAGE[start:start + BATCH]]
        for (lang, page), tab in batch:
            tab.page.goto(f"{served_site}/{url_of(lang, page)}", wait_until="commit")
        for _, tab in batch:
            tab.page.wait_for_load_state("load")
        batch[-1][1].page.wait_for_timeout(200)  # the search worker and any late request
        for key, tab in batch:
            seen[key] = {**look_at(tab.page), **tab.drain()}
            tab.page.close()
    context.close()
    return seen


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_asks_nothing_of_other_hosts(tour, served_site, lang, page):
    seen = tour[lang, page]
    assert [url for url in seen["requests"] if not url.startswith((served_site, "data:"))] == []


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_has_no_failed_request_console_error_or_broken_image(tour, lang, page):
    seen = tour[lang, page]
    assert (seen["failed"], seen["errors"], seen["broken"]) == ([], [], [])


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_has_its_language_one_title_and_described_figures(tour, lang, page):
    seen = tour[lang, page]
    assert (seen["lang"], seen["h1"], seen["no_alt"]) == (lang, 1, 0)


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_math_and_diagrams_render(tour, lang, page):
    seen = tour[lang, page]
    assert not re.search(r"\$[^$\s][^$\n]*\$|\\\(|\\\[", seen["text"]), "raw TeX left"
    assert all(width > 0 for width in seen["math"] + seen["svg"])


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_language_switch_links_the_same_page(tour, served_site, lang, page):
    assert tour[lang, page]["switch_links"] == {
        code: f"{served_site}/{url_of(code, page)}" for code in LANGUAGES}


SWITCHED = ["index.md", "computational-graph.md", "notebooks/crop-yield.md"]


@pytest.mark.parametrize("page", SWITCHED)
def test_clicking_the_language_switch_goes_there_and_back(visit, served_site, page):
    v = visit(url_of(DEFAULT, page))
    for target in ("zh", DEFAULT):
        v.page.hover(".md-header__option .md-select")
        with v.page.expect_navigation():
            v.page.click(f'a.md-select__link[hreflang="{target}"]')
        assert v.page.url == f"{served_site}/{url_of(target, page)}"
    assert v.drain()["failed"] == []


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_phone_width_does_not_scroll_sideways(tour, lang, page):
    assert tour[lang, page]["phone_width"] <= 375


@pytest.fixture
def visit(browser, served_site):
    opened = []

    def open_page(path: str, **context) -> Visit:
        opened.append(Visit(browser, served_site, **context))
        opened[-1].go(path)
        return opened[-1]
    yield open_page
    for v in opened:
        v.context.close()


COPY_CASES = [
    ("a plain block", "computational-graph.md", 2),
    ("an embedded snippet block", "linear-regression-numpy.md", 2),
    ("a block that shows output", "index.md", 1),
]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("what, page, number", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copy_button_copies_exactly_the_code_that_runs(visit, lang, what, page, number):
    """The Nth python block's copy button gives the code the harness ran."""
    path = DOCS / lang / page
    python_blocks = [str(region.parsed) for _, region in parse_page(path).regions
                     if region.lexemes["info"].strip() == "python"]
    expected = expand_includes(python_blocks[number - 1]).rstrip("\n")
    fence_index = [i for i, info in enumerate(opening_fences(path)) if info == "python"][number - 1]
    v = visit(url_of(lang, page), permissions=["clipboard-read", "clipboard-write"])
    block = v.page.locator("article div.highlight").nth(fence_index)
    block.hover()
    block.locator('button[data-md-type="copy"]').click()
    copied = v.page.evaluate("navigator.clipboard.readText()")
    assert copied.rstrip("\n") == expected
    assert ">>>" not in copied


SEARCHES = [
    ("en", "requires_grad", "autograd/"),
    ("en", "optimizer", "optimizers/"),
    ("en", "DataLoader", "data-loading/"),
    ("zh", "计算图", "zh/computational-graph/"),
    ("zh", "优化器", "zh/optimizers/"),
    ("zh", "反向传播", "zh/autograd-hooks-and-memory/"),
]


@pytest.mark.parametrize("lang, query, first", SEARCHES, ids=[s[1] for s in SEARCHES])
def test_search_finds_the_right_page_first(visit, served_site, lang, query, first):
    v = visit("" if lang == DEFAULT else f"{lang}/")
    v.page.click(".md-search__input")
    # The whole query at once, then a key press for Material to act on: typed
    # letter by letter, results for a partial query could be read first.
    v.page.fill(".md-search__input", query)
    v.page.keyboard.press("End")
    results = v.page.locator(".md-search-result__item > a")
    results.first.wait_for(timeout=10_000)
    top = results.first.get_attribute("href").split("?")[0].split("#")[0]
    assert top == f"{served_site}/{first}"
