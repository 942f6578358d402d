"""What a reader sees: every page of both languages in Debian's Chromium.

Playwright drives /usr/bin/chromium (installed with apt-get by .ci/run; the
tests never download a browser). The site is the strict build, served on
127.0.0.1: nothing may come from anywhere else.
"""

from __future__ import annotations

import functools
import gzip
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


#: True once Material's script has started the page's components: its
#: document$ (a replaying subject) has emitted. overrides/main.html runs the
#: script after the page's first frame, which may come after the load event.
STARTED = """() => {
  let started = false;
  window.document$?.subscribe(() => { started = true; }).unsubscribe();
  return started;
}"""


def wait_for_start(page) -> None:
    page.wait_for_function(STARTED)


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
        wait_for_start(self.page)
        return self.page

    def drain(self) -> dict:
        """What was recorded since the last drain."""
        seen = {"requests": self.requests[:], "failed": self.failed[:], "errors": self.errors[:]}
        self.requests.clear(), self.failed.clear(), self.errors.clear()
        return seen


TEXT_OUTSIDE_CODE = """() => {
  const body = document.querySelector("article").cloneNode(true);
  body.querySelectorAll("pre, code, .jp-InputArea, .jp-OutputArea").forEach(e => e.remove());
  return body.innerText;
}"""


#: How each image of the article is to load; then each is loaded, as if the
#: reader had scrolled to it (hooks/phone.py makes them load lazily).
LOAD_IMAGES = """async () => {
  const images = [...document.querySelectorAll("img")];
  const loading = images.filter(i => i.closest("article")).map(i => i.loading);
  images.forEach(i => { i.loading = "eager"; });
  await Promise.all(images.map(i => i.complete ? null : new Promise(done => {
    i.addEventListener("load", done); i.addEventListener("error", done);
  })));
  return loading;
}"""


#: A phone's screen: the tour loads pages at this size, as a phone does.
PHONE = {"width": 375, "height": 800}


def phone_width(tab) -> int:
    """How wide the page is laid out on a phone's 375 px screen."""
    if tab.viewport_size != PHONE:  # after a language switch, made at desktop width
        tab.set_viewport_size(PHONE)
    return tab.evaluate("document.documentElement.scrollWidth")


COPY_CASES = [
    ("a plain block", "computational-graph.md", 2),
    ("an embedded snippet block", "linear-regression-numpy.md", 2),
    ("a block that shows output", "index.md", 1),
]


def press_copy(tab, lang: str, page: Path) -> dict:
    """What each tested copy button on the page puts on the clipboard, by block number."""
    copied = {}
    for _, case_page, number in COPY_CASES:
        if Path(case_page) != page:
            continue
        fence_index = [i for i, info in enumerate(opening_fences(DOCS / lang / page))
                       if info == "python"][number - 1]
        block = tab.locator("article div.highlight").nth(fence_index)
        block.hover()
        block.locator('button[data-md-type="copy"]').click()
        copied[number] = tab.evaluate("navigator.clipboard.readText()")
    return copied


SEARCHES = [
    ("en", "requires_grad", "autograd/"),
    ("en", "optimizer", "optimizers/"),
    ("en", "DataLoader", "data-loading/"),
    ("zh", "计算图", "zh/computational-graph/"),
    ("zh", "优化器", "zh/optimizers/"),
    ("zh", "反向传播", "zh/autograd-hooks-and-memory/"),
]


def first_result(tab, query: str):
    """The first result of ``query``, typed into the open search box."""
    results = tab.locator(".md-search-result__item > a")
    # The results of the last query go first, so none of them can be read as this one's.
    tab.fill(".md-search__input", "")
    tab.keyboard.press("End")
    results.first.wait_for(state="detached", timeout=10_000)
    # The whole query at once, then a key press for Material to act on: typed
    # letter by letter, results for a partial query could be read first.
    tab.fill(".md-search__input", query)
    tab.keyboard.press("End")
    results.first.wait_for(timeout=10_000)
    return results.first


def search(tab, lang: str) -> dict:
    """The first result's address for each query of SEARCHES, typed on the home page."""
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.click(".md-search__input")
    found = {query: first_result(tab, query).get_attribute("href")
             for _, query, _ in [s for s in SEARCHES if s[0] == lang]}
    tab.keyboard.press("Escape")
    return found


#: A query per language whose first result opens with the query's terms marked.
#: (Material puts no Chinese term into the result's ?h=, so the Chinese
#: pages are searched for a name in their code.)
HIGHLIGHTED = {"en": "DataLoader", "zh": "requires_grad"}


def highlighted_after_search(tab, lang: str) -> dict:
    """On the home page, open the first result of a search: the page it opens,
    and the terms marked there (the page loads the search index to mark them)."""
    query = HIGHLIGHTED[lang]
    tab.click(".md-search__input")
    with tab.expect_navigation(wait_until="load"):
        first_result(tab, query).click()
    wait_for_start(tab)
    marks = tab.locator("mark[data-md-highlight]")
    marks.first.wait_for(state="attached", timeout=10_000)
    return {"query": query, "url": tab.url, "marked": marks.all_inner_texts()}


#: Pages whose code blocks are checked to look the same without the spans
#: hooks/phone.py removes, and to reserve their height while off screen: a
#: chapter (Material's theme) and a notebook (mkdocs-jupyter's).
PLAIN_SPAN_PAGES = [Path("autograd.md"), Path("notebooks/crop-yield.md")]
PLAIN_SPANS_LOOK_THE_SAME = """() => {
  // A name span (n) must look like the text around it; a whitespace span (w)
  // holds no glyph, so it must only draw nothing: no background, no line.
  const differ = [], body = document.body, scheme = body.getAttribute("data-md-color-scheme");
  const blocks = [...document.querySelectorAll(".highlight code, .highlight-ipynb pre")];
  // Colours as they are once Material's 125 ms colour transitions have ended.
  const still = document.head.appendChild(document.createElement("style"));
  still.textContent = "* { transition: none !important; }";
  for (const name of ["default", "slate"]) {
    body.setAttribute("data-md-color-scheme", name);
    for (const block of [blocks.find(b => b.closest(".highlight")),
                         blocks.find(b => b.closest(".highlight-ipynb"))].filter(Boolean)) {
      for (const cls of ["n", "w"]) {
        // Compared with plain text beside it: a span without a class.
        const [span, plain] = [document.createElement("span"), document.createElement("span")];
        span.className = cls;
        span.textContent = plain.textContent = cls == "n" ? "x" : " ";
        block.append(span, plain);
        const [a, b] = [getComputedStyle(span), getComputedStyle(plain)];
        const same = cls == "n" ? ["color", "font-weight", "font-style", "text-decoration-line"]
                                : ["text-decoration-line"];
        for (const property of same)
          if (a[property] !== b[property])
            differ.push(`${name} .${cls} ${property}: ${a[property]} vs ${b[property]}`);
        if (a["background-color"] !== "rgba(0, 0, 0, 0)" || a["border-style"] !== "none")
          differ.push(`${name} .${cls} draws a background or border`);
        span.remove(), plain.remove();
      }
    }
  }
  body.setAttribute("data-md-color-scheme", scheme);
  still.remove();
  return blocks.length ? differ : ["no code block"];
}"""

#: How far, in pixels, the height each code block reserves while off screen
#: (contain-intrinsic-height: its lines times 1.4em, overrides/main.html) is
#: from its height on screen.
RESERVED_HEIGHT_ERROR = """() => {
  const shown = document.head.appendChild(document.createElement("style"));
  shown.textContent = "code[style], pre[style] { content-visibility: visible !important; }";
  const errors = [...document.querySelectorAll(".md-typeset .highlight code[style], .highlight-ipynb pre[style]")]
    .filter(e => e.getClientRects().length)  // not inside a closed <details>
    .map(e => {
      const s = getComputedStyle(e);
      const content = e.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
      const reserved = parseFloat(s.containIntrinsicHeight.replace("auto", ""));
      return [Math.abs(content - reserved), reserved];
    });
  shown.remove();
  return errors;
}"""

#: What the page itself loaded: the resources the browser fetched, as paths of the site.
LOADED = "() => performance.getEntriesByType('resource').map(e => e.name)"


#: The colour scheme as the page states it: the body's palette, the
#: color-scheme meta tags, and whether the body is still marked as switching.
COLOURS = """() => ({
  scheme: document.body.getAttribute("data-md-color-scheme"),
  header: getComputedStyle(document.querySelector("[data-md-component=header]")).colorScheme,
  metas: [...document.querySelectorAll("meta[name=color-scheme]")].map(m => m.content),
  switching: document.body.hasAttribute("data-md-color-switching"),
})"""


#: Recorded from the first moment of each page (an init script): every
#: change of value of <html>'s and <body>'s attributes that Material's start
#: writes, and every write of a color-scheme meta tag (one restyles the page
#: even when it writes the same scheme), each with whether the article had
#: begun to be parsed. Those made before it restyle little;
#: overrides/main.html makes them there.
START_UP_MARKS = ["class", "data-js-focus-visible", "data-md-color-media", "data-md-color-scheme",
                  "data-md-color-primary", "data-md-color-accent", "data-md-color-switching",
                  "content"]
RECORD_START_UP = """window.startUp = [];
new MutationObserver(records => {
  const late = document.querySelector("article") !== null;
  for (const r of records) {
    const now = r.target.getAttribute(r.attributeName), name = r.target.localName;
    if (name === "meta" ? r.target.name === "color-scheme" :
        now !== r.oldValue && (name === "html" || name === "body"))
      window.startUp.push([name, r.attributeName, r.oldValue, now, late]);
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: %s});""" % START_UP_MARKS

#: Recorded from the first moment of each page (an init script): whether the
#: page was still being parsed, and whether the browser had run a frame since
#: the page's content up to Material's settings (#__config, the last thing
#: before the scripts) was parsed, when Material's script ran (it sets
#: window.document$ as its evaluation ends).
RECORD_SCRIPT_START = """const watch = new MutationObserver(() => {
  if (!document.getElementById("__config")) return;
  watch.disconnect();
  requestAnimationFrame(() => { window.framed = true; });
});
watch.observe(document, {childList: true, subtree: true});
Object.defineProperty(window, "document$", {configurable: true, set(value) {
  window.scriptStart = {parsing: document.readyState === "loading", framed: window.framed === true};
  Object.defineProperty(window, "document$", {value, writable: true, configurable: true});
}});"""

#: Material's scrolling box of each table, and the box around it (hooks/phone.py).
TABLE_BOXES = """() => [...document.querySelectorAll(".md-typeset__scrollwrap")].map(wrap =>
  [wrap.parentElement.className, getComputedStyle(wrap.parentElement).display])"""


#: Each time the body is marked as switching colours (no transitions) or unmarked.
RECORD_MARKS = """() => {
  window.marks = [];
  new MutationObserver(records => records.forEach(r =>
    window.marks.push(r.oldValue === null ? "marked" : "unmarked")
  )).observe(document.body, {attributes: true, attributeOldValue: true,
                             attributeFilter: ["data-md-color-switching"]});
}"""


def switch_colours(tab) -> list[dict]:
    """The colours as loaded, after a click on the palette's toggle, and after a
    click back, each with the switching marks the click made
    (overrides/main.html leaves out only the palette's start-up mark)."""
    seen = [tab.evaluate(COLOURS)]
    tab.evaluate(RECORD_MARKS)
    for _ in range(2):
        tab.click("form[data-md-component=palette] label:not([hidden])")
        tab.wait_for_function("() => !document.body.hasAttribute('data-md-color-switching')")
        seen.append({**tab.evaluate(COLOURS), "marks": tab.evaluate("window.marks.splice(0)")})
    return seen


#: The first section heading after the page's first image, or null.
FIRST_AFTER_IMAGE = """() => {
  const image = document.querySelector("article img");
  return image && [...document.querySelectorAll("article :is(h2, h3)[id]")].find(h =>
    image.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING) || null;
}"""


#: The sections that follow a table the browser skips until it nears the
#: screen (the selector is overrides/main.html's), and the first that follows
#: the first image, which loads as it nears the screen (hooks/phone.py).
AFTER_SKIPPED = """() => {
  const skipped = [...document.querySelectorAll(".md-typeset h2 ~ h2 ~ .table-box > :is(table, .md-typeset__scrollwrap)")];
  const names = [...document.querySelectorAll("h2[id]")].filter(h => skipped.some(t =>
    t.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING));
  const next = (%s)();
  return [...names, ...(next && !names.includes(next) ? [next] : [])].map(h => h.id);
}""" % FIRST_AFTER_IMAGE


#: Where each of those sections lands when a link to it is followed (the
#: table of contents'): its heading's distance from the top of the window,
#: and, where the page is then scrolled as far as it goes (a heading near the
#: end cannot come to the top), the distance it has once the whole page is
#: laid out and scrolled to its end; by the section's id.
#: Skipped tables that near the screen are laid out some frames later, and
#: the heading can hold still a few frames before they are: its place is read
#: once 300 ms have passed and it has held for four frames (or after two
#: seconds, where it never holds still).
JUMP = """async () => {
  // Where the heading stands with the page scrolled to its end and all of
  // it laid out, or null if the page is not scrolled to its end.
  const atEnd = heading => {
    if (scrollY < document.documentElement.scrollHeight - innerHeight - 1) return null;
    const shown = document.head.appendChild(document.createElement("style"));
    shown.textContent = "* { content-visibility: visible !important; }";
    scrollTo(0, document.documentElement.scrollHeight);
    const top = heading.getBoundingClientRect().top;
    shown.remove();
    return top;
  };
  const landed = {};
  for (const name of (%s)()) landed[name] = await new Promise(done => {
    location.hash = name;
    const heading = document.getElementById(name), start = performance.now();
    let last = NaN, held = 0;
    (function frame() {
      const top = heading.getBoundingClientRect().top, now = performance.now() - start;
      held = top === last ? held + 1 : 0;
      last = top;
      if ((held >= 4 && now >= 300) || now >= 2000) done([top, atEnd(heading)]); else requestAnimationFrame(frame);
    })();
  });
  history.replaceState(null, "", location.pathname);
  scrollTo(0, 0);
  return landed;
}""" % AFTER_SKIPPED


def start_jumps(tab) -> None:
    """Follow the links of JUMP in the page, without waiting: the tabs of a
    batch wait out their frames side by side (finish_jumps collects them)."""
    tab.evaluate("() => { window.jumped = (%s)(); }" % JUMP)


def finish_jumps(tab) -> dict[str, tuple[float, float | None]]:
    return tab.evaluate("() => window.jumped")


#: What the page tests check on a page, at whatever width it was loaded, in
#: one call: first its images are loaded (LOAD_IMAGES), then the rest is read.
LOOK = """async () => {
  const loading = await (%s)();
  const images = [...document.querySelectorAll("img")];
  return {
    image_loading: loading,
    lang: document.documentElement.getAttribute("lang"),
    h1: document.querySelectorAll("article h1").length,
    no_alt: images.filter(e => !e.alt.trim()).length,
    broken: images.filter(e => !e.complete || e.naturalWidth === 0).map(e => e.src),
    text: (%s)(),
    math: [...document.querySelectorAll("math")].map(e => e.getBoundingClientRect().width),
    svg: [...document.querySelectorAll("img[src$='.svg']")].map(e => e.naturalWidth),
    switch_links: Object.fromEntries([...document.querySelectorAll("a.md-select__link")]
                                       .map(e => [e.hreflang, e.href])),
    heading_after_image: (%s)() !== null,
    loaded: (%s)(),  // before anything is clicked
    start_up: window.startUp,
    script_start: window.scriptStart,
    table_boxes: (%s)(),
  };
}""" % (LOAD_IMAGES, TEXT_OUTSIDE_CODE, FIRST_AFTER_IMAGE, LOADED, TABLE_BOXES)


def look_at_everything(tab, lang: str, page: Path, started: bool = False) -> dict:
    """Every check on a page from one visit: a page load costs about a second
    of CPU. ``started``: start_jumps was called on the page already."""
    if not started:
        start_jumps(tab)
    jumped = finish_jumps(tab)  # first: LOOK loads every image
    seen = tab.evaluate(LOOK)
    seen["jumped"] = jumped
    if page in PLAIN_SPAN_PAGES:
        seen["plain_spans_differ"] = tab.evaluate(PLAIN_SPANS_LOOK_THE_SAME)
        seen["reserved_height_error"] = tab.evaluate(RESERVED_HEIGHT_ERROR)
    seen["copied"] = press_copy(tab, lang, page)
    seen["phone_width"] = phone_width(tab)
    if page == Path("index.md"):
        seen["colours"] = switch_colours(tab)
    return seen


SWITCHED = ["index.md", "computational-graph.md", "notebooks/crop-yield.md"]


def switch_language(tab, served_site: str, target: str) -> str:
    """Click the header's language switch to `target`; the address it lands on."""
    tab.set_viewport_size({"width": 1280, "height": 900})
    tab.hover(".md-header__option .md-select")
    with tab.expect_navigation(wait_until="load"):
        tab.click(f'a.md-select__link[hreflang="{target}"]')
    wait_for_start(tab)
    return tab.url


#: Pages loaded side by side in a batch of tabs: the browser loads them while
#: the test waits, and one wait covers the late requests of the whole batch.
BATCH = 10


@pytest.fixture(scope="module")
def tour(browser, served_site) -> dict:
    """Every page of both languages, each visited once, with every check made there.

    A page of SWITCHED is visited in its default language, and its twin is
    reached by clicking the language switch; a click back comes home again.
    """
    context = browser.new_context(viewport=PHONE,
                                  permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script(RECORD_START_UP)
    context.add_init_script(RECORD_SCRIPT_START)
    seen = {}
    for page in map(Path, SWITCHED):
        tab = Tab(context, served_site)
        tab.go(url_of(DEFAULT, page))
        tab.page.wait_for_timeout(200)  # the search worker and any late request
        seen[DEFAULT, page] = {**look_at_everything(tab.page, DEFAULT, page), **tab.drain()}
        landed = []
        for target in [lang for lang in LANGUAGES if lang != DEFAULT]:
            landed.append(switch_language(tab.page, served_site, target))
            tab.page.wait_for_timeout(200)
            seen[target, page] = {**look_at_everything(tab.page, target, page), **tab.drain()}
            landed.append(switch_language(tab.page, served_site, DEFAULT))
        seen[DEFAULT, page]["landed"] = landed
        seen[DEFAULT, page]["failed_after_switching"] = tab.drain()["failed"]
        if page == Path("index.md"):
            # Searched last, in each language: the queries of SEARCHES, then a
            # result opened. What that asks for and says counts for the home page.
            for lang in LANGUAGES:
                if lang != DEFAULT:
                    tab.go(url_of(lang, page))
                seen[lang, page]["found"] = search(tab.page, lang)
                seen[lang, page]["highlighted"] = highlighted_after_search(tab.page, lang)
                for name, values in tab.drain().items():
                    seen[lang, page][name] += values
        tab.page.close()
    # The tabs of a batch are used again for the next one: what a page's
    # requests, failures and errors could leave after its drain would count
    # against the next page in that tab, which fails as the page would have.
    # A tab's sessionStorage, where a page may keep what it fetched (Material
    # keeps a repository's facts), is emptied first, as a new tab's is.
    rest = [key for key in EVERY_PAGE if key not in seen]
    tabs = [Tab(context, served_site) for _ in range(min(BATCH, len(rest)))]
    for start in range(0, len(rest), BATCH):
        batch = list(zip(rest[start:start + BATCH], tabs))
        for (lang, page), tab in batch:
            if tab.page.viewport_size != PHONE:
                tab.page.set_viewport_size(PHONE)
            if start:
                tab.page.evaluate("() => sessionStorage.clear()")
            tab.page.goto(f"{served_site}/{url_of(lang, page)}", wait_until="commit")
        for _, tab in batch:
            tab.page.wait_for_load_state("load")
            wait_for_start(tab.page)
        batch[-1][1].page.wait_for_timeout(200)  # the search worker and any late request
        for _, tab in batch:
            start_jumps(tab.page)
        for (lang, page), tab in batch:
            tab.page.bring_to_front()  # the clipboard is read by the tab in front
            seen[lang, page] = {**look_at_everything(tab.page, lang, page, started=True),
                                **tab.drain()}
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
def test_images_load_as_they_near_the_screen(tour, lang, page):
    """A figure is an SVG document the browser styles and lays out as it
    loads, wherever it is on the page: each waits until the reader nears it."""
    assert set(tour[lang, page]["image_loading"]) <= {"lazy"}


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_math_and_diagrams_render(tour, lang, page):
    seen = tour[lang, page]
    assert not re.search(r"\$[^$\s][^$\n]*\$|\\\(|\\\[", seen["text"]), "raw TeX left"
    assert all(width > 0 for width in seen["math"] + seen["svg"])


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_language_switch_links_the_same_page(tour, served_site, lang, page):
    assert tour[lang, page]["switch_links"] == {
        code: f"{served_site}/{url_of(code, page)}" for code in LANGUAGES}


@pytest.mark.parametrize("page", SWITCHED)
def test_clicking_the_language_switch_goes_there_and_back(tour, served_site, page):
    seen = tour[DEFAULT, Path(page)]
    there_and_back = []
    for target in [lang for lang in LANGUAGES if lang != DEFAULT]:
        there_and_back += [target, DEFAULT]
    assert seen["landed"] == [f"{served_site}/{url_of(lang, page)}" for lang in there_and_back]
    assert seen["failed_after_switching"] == []


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_phone_width_does_not_scroll_sideways(tour, lang, page):
    assert tour[lang, page]["phone_width"] <= 375


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("what, page, number", COPY_CASES, ids=[c[0] for c in COPY_CASES])
def test_copy_button_copies_exactly_the_code_that_runs(tour, lang, what, page, number):
    """The Nth python block's copy button gives the code the harness ran."""
    python_blocks = [str(region.parsed) for _, region in parse_page(DOCS / lang / page).regions
                     if region.lexemes["info"].strip() == "python"]
    expected = expand_includes(python_blocks[number - 1]).rstrip("\n")
    copied = tour[lang, Path(page)]["copied"][number]
    assert copied.rstrip("\n") == expected
    assert ">>>" not in copied


@pytest.mark.parametrize("lang, query, first", SEARCHES, ids=[s[1] for s in SEARCHES])
def test_search_finds_the_right_page_first(tour, served_site, lang, query, first):
    top = tour[lang, Path("index.md")]["found"][query].split("?")[0].split("#")[0]
    assert top == f"{served_site}/{first}"


@functools.cache  # the theme's script and style sheets are loaded by every page
def compressed_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes()))


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_loads_no_search_index_and_weighs_at_most_500_kib(tour, site, served_site, lang, page):
    """What a phone downloads before its reader searches, compressed as GitHub Pages
    serves it: the page and what it loaded, but not the search index (overrides/main.html)."""
    loaded = [url.removeprefix(served_site + "/").split("?")[0].split("#")[0]
              for url in tour[lang, page]["loaded"] if url.startswith(served_site)]
    assert not [path for path in loaded if path.endswith("search_index.json")]
    files = [site / url_of(lang, page) / "index.html"] + [
        site / (path + "index.html" if path.endswith("/") or not path else path) for path in loaded]
    weight = sum(compressed_size(f) for f in set(files))
    assert weight <= 500 * 1024, f"{weight / 1024:.0f} KiB"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_search_loads_its_index_when_opened_and_marks_the_terms(tour, served_site, lang):
    seen = tour[lang, Path("index.md")]["highlighted"]
    assert "?h=" in seen["url"] and not seen["url"].endswith("?h=")
    assert seen["marked"]
    assert all(text.lower() in seen["query"].lower() for text in seen["marked"])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PLAIN_SPAN_PAGES, ids=ids)
def test_code_looks_the_same_without_name_and_space_spans(tour, lang, page):
    assert tour[lang, page]["plain_spans_differ"] == []


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PLAIN_SPAN_PAGES, ids=ids)
def test_code_off_screen_reserves_its_height(tour, lang, page):
    """Nothing jumps when a block is laid out as it scrolls into view."""
    errors = tour[lang, page]["reserved_height_error"]
    # Line boxes are rounded: a few pixels over a block of thousands.
    assert errors and all(error < 2 + reserved / 1000 for error, reserved in errors), errors


@pytest.mark.parametrize("lang", LANGUAGES)
def test_links_to_sections_after_a_skipped_table_or_an_unloaded_image_land_on_them(tour, lang):
    """A table off screen is laid out only when it nears the screen, and an
    image loads only then; a link to a section below either still brings the
    section's heading to the top."""
    jumped = {page: tour[lang, page]["jumped"] for page in pages(DEFAULT) if tour[lang, page]["jumped"]}
    assert len(jumped.get(Path("glossary.md"), {})) == 3, jumped  # H–L, M–R, S–W
    # pages where a section follows a figure, whose first such section is among those checked below
    assert any(tour[lang, page]["heading_after_image"] for page in pages(DEFAULT))
    header = 48  # Material's header, fixed at the top (2.4rem)
    for page, landed in jumped.items():
        for name, (top, at_end) in landed.items():
            # A heading near the page's end stands where the end lets it.
            on_top = header <= top <= header + 40 if at_end is None else abs(top - at_end) <= 1
            assert on_top, (page, name, top, at_end)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_colour_switch_changes_the_scheme_and_the_browsers_colour_scheme(tour, lang):
    """One color-scheme meta tag, which follows the palette: the page's own one,
    made early to spare restyles, with Material's kept out of the page and its
    content copied over."""
    loaded, switched, back = tour[lang, Path("index.md")]["colours"]
    for seen in (loaded, switched, back):
        assert seen["metas"] == [seen["header"]] and not seen["switching"], seen
    assert (loaded["scheme"], switched["scheme"], back["scheme"]) == ("default", "slate", "default")
    # each click's switch is marked, so that no colour transition runs, then unmarked
    assert switched["marks"] == back["marks"] == ["marked", "unmarked"], (switched, back)
    assert (loaded["header"], switched["header"]) == ("light", "dark")


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_start_changes_no_mark_nor_colour_scheme_tag_once_the_article_is_parsed(tour, lang, page):
    """Each such change makes the browser restyle the whole page (README, "Pages
    on a phone"): the marks Material's start writes are made in the page's
    head and header, its palette mark is left out, and its color-scheme tag
    is kept out of the page, on a light system (the tour's) as on a dark one
    (below)."""
    late = [change for change in tour[lang, page]["start_up"] if change[-1]]
    assert late == []


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_materials_script_runs_after_the_page_is_parsed_and_drawn(tour, lang, page):
    """Material's script runs once the page is parsed and the browser has run
    a frame of it: run as the browser parsed the body's end, it made the
    browser lay out all that was parsed inside its own task
    (overrides/main.html)."""
    assert tour[lang, page]["script_start"] == {"parsing": False, "framed": True}


def test_materials_script_starts_in_a_background_tab_and_its_failure_leaves_the_page_without_js(
        browser, served_site):
    """A tab in the background draws no frames: there the script starts at
    once (here the tab is made to say it is hidden and its frame callbacks
    never run). If the script fails to load, the page is styled as without
    JavaScript (the header's search button, which needs it, is hidden)."""
    page = url_of(DEFAULT, Path("autograd.md"))
    context = browser.new_context(viewport=PHONE)
    context.add_init_script("Object.defineProperty(document, 'hidden', {get: () => true});"
                            " window.requestAnimationFrame = () => 0;")
    tab = Tab(context, served_site).page
    tab.goto(f"{served_site}/{page}", wait_until="load")
    started = tab.evaluate("async () => { await new Promise(r => setTimeout(r, 500));"
                           f" return ({STARTED})(); }}")
    context.close()
    assert started
    context = browser.new_context(viewport=PHONE)
    context.route("**/assets/javascripts/bundle.*.min.js", lambda route: route.abort())
    tab = context.new_page()
    tab.goto(f"{served_site}/{page}", wait_until="load")
    tab.wait_for_timeout(100)  # past the first frame, when the script would start
    root = tab.evaluate("() => [document.documentElement.className,"
                        " document.documentElement.hasAttribute('data-js-focus-visible')]")
    search = tab.locator("label.md-header__button[for=__search]").is_visible()
    context.close()
    assert root == ["no-js", False] and not search, (root, search)


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_each_tables_scrolling_box_is_in_a_box_of_its_own(tour, lang, page):
    """Material's script puts each table in a scrolling box as the page starts:
    inside a box that makes no box on screen, that change restyles the table
    only, not the whole article."""
    assert all(box == ["table-box", "contents"] for box in tour[lang, page]["table_boxes"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_dark_system_gets_the_dark_palette_before_the_article_with_one_colour_scheme_tag(
        browser, served_site, lang):
    """A reader whose system is dark and who has chosen nothing: the palette
    Material's start would choose is set before the article is parsed, so
    its start changes no colour."""
    context = browser.new_context(viewport=PHONE, color_scheme="dark")
    context.add_init_script(RECORD_START_UP)
    tab = Tab(context, served_site)
    tab.go(url_of(lang, Path("index.md")))
    loaded, start_up = tab.page.evaluate(COLOURS), tab.page.evaluate("window.startUp")
    context.close()
    assert (loaded["scheme"], loaded["header"], loaded["metas"], loaded["switching"]) == (
        "slate", "dark", ["dark"], False)
    assert ["body", "data-md-color-scheme", "default", "slate", False] in start_up
    assert [change for change in start_up if change[-1]] == []
