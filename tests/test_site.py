"""The strict build of the site, and what a reader relies on in its HTML."""

import functools
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urljoin

import pytest

from tests.harness import ROOT, _diff, outputs_match
from tests.pages import DEFAULT, LANGUAGES, pages, rendered_outputs, shown_outputs


def url_of(lang: str, page) -> str:
    """Site-relative URL of a page, as mkdocs writes it (use_directory_urls)."""
    stem = str(PurePosixPath(page).with_suffix(""))
    path = "" if stem == "index" else stem.removesuffix("/index") + "/"
    return path if lang == DEFAULT else f"{lang}/{path}"


@functools.cache  # a page's HTML is read and parsed once, for all its checks
def html_of(site, lang, page) -> str:
    return (site / url_of(lang, page) / "index.html").read_text(encoding="utf-8")


@functools.cache
def tags_of(site, lang, page) -> list[tuple[str, dict]]:
    return Tags(html_of(site, lang, page)).tags


class Tags(HTMLParser):
    """The start tags of a page with their attributes."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


EVERY_PAGE = [(lang, page) for lang in LANGUAGES for page in pages(DEFAULT)]
ids = lambda value: str(value)


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_is_built_with_its_language(site, lang, page):
    html = html_of(site, lang, page)
    assert re.search(rf'<html lang="{lang}"', html)
    assert len(re.findall(r"<h1[ >]", html)) == 1


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_language_switch_lands_on_the_same_page(site, lang, page):
    here = url_of(lang, page)
    links = {attrs["hreflang"]: attrs["href"] for tag, attrs in tags_of(site, lang, page)
             if tag == "a" and "md-select__link" in attrs.get("class", "")}
    assert set(links) == set(LANGUAGES)
    for other, href in links.items():
        assert urljoin("/" + here, href) == "/" + url_of(other, page), (lang, other, href)


ASSET_ATTRS = {"script": "src", "img": "src", "iframe": "src", "source": "src",
               "video": "src", "audio": "src"}
LOADED_LINKS = {"stylesheet", "preload", "modulepreload", "icon", "manifest", "prefetch"}


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_loads_nothing_from_another_host(site, lang, page):
    html = html_of(site, lang, page)
    loaded = []
    for tag, attrs in tags_of(site, lang, page):
        if tag in ASSET_ATTRS and attrs.get(ASSET_ATTRS[tag]):
            loaded.append(attrs[ASSET_ATTRS[tag]])
        if tag == "link" and set(attrs.get("rel", "").split()) & LOADED_LINKS:
            loaded.append(attrs["href"])
    remote = [url for url in loaded if re.match(r"(https?:)?//", url)]
    assert loaded and not remote
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_stylesheets_import_nothing_from_another_host(site):
    for css in (site / "assets").rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import\s+['\"]?(https?:)?//",
                             css.read_text(encoding="utf-8")), css


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_math_is_rendered_to_mathml(site, lang, page):
    source = (ROOT / "docs" / lang / page).read_text(encoding="utf-8")
    html = html_of(site, lang, page)
    assert 'class="arithmatex"' not in html
    assert ("<math" in html) == bool(re.search(r"\$[^$\n]+\$", source))


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_code_blocks_hold_only_runnable_code(site, lang, page):
    """What the copy button copies: no prompts, no unexpanded includes."""
    python = re.findall(r'class="language-python highlight">(.*?)</pre>', html_of(site, lang, page),
                        re.S)
    assert all("&gt;&gt;&gt; " not in block and "--8&lt;--" not in block for block in python)


def search_docs(site, lang: str) -> list[dict]:
    folder = site if lang == DEFAULT else site / lang
    return json.loads((folder / "search" / "search_index.json").read_text(encoding="utf-8"))


def test_each_language_has_a_search_index_of_its_own(site):
    english, chinese = search_docs(site, "en")["docs"], search_docs(site, "zh")["docs"]
    assert len(english) == len(chinese) > 0
    assert not any(doc["location"].startswith("zh/") for doc in english + chinese)
    assert not any(re.search(r"[\u4e00-\u9fff]", doc["title"]) for doc in english
                   if not doc["location"].startswith("glossary/"))


def test_chinese_text_is_segmented_into_the_glossarys_words(site):
    index = search_docs(site, "zh")
    separator = re.compile(index["config"]["separator"])
    words = {word for doc in index["docs"] for word in separator.split(doc["text"] + " " + doc["title"])}
    assert {"张量", "设备", "计算图", "反向传播", "优化器", "学习率", "叶子张量"} <= words


@pytest.mark.parametrize("page", [p for p in pages(DEFAULT)], ids=ids)
def test_chinese_pages_search_their_own_index(site, page):
    """Material finds the index and resolves results from __config's base."""
    html = html_of(site, "zh", page)
    base = re.search(r'"base": "([^"]*)"', html).group(1)
    assert urljoin("/" + url_of("zh", page), base) == "/zh/"


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_page_triggers_no_request_in_materials_scripts(site, lang, page):
    """Material fetches sitemap.xml beside each head alternate link (a 404 per
    language, since they point at pages) and GitHub's API for the repo link."""
    html = html_of(site, lang, page)
    assert not re.search(r'<link rel="alternate"[^>]*hreflang', html)
    assert 'data-md-component="source"' not in html
    assert 'class="md-source"' in html


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_every_image_is_built_and_described(site, lang, page):
    here = "/" + url_of(lang, page)
    for tag, attrs in tags_of(site, lang, page):
        if tag == "img":
            assert attrs.get("alt", "").strip(), f"image without alt text: {attrs.get('src')}"
            if attrs["src"].startswith("data:image/"):
                continue  # a notebook's figure, inside the page
            target = urljoin(here, attrs["src"]).lstrip("/")
            assert (site / target).is_file(), f"{attrs['src']} is not in the build"


def figures_folder(site, lang):
    return site / "figures" if lang == DEFAULT else site / lang / "figures"


def test_every_figure_is_drawn_and_shown(site):
    from snippets.figures import FIGURES

    for lang in LANGUAGES:
        drawn = {p.stem for p in figures_folder(site, lang).glob("*.svg")}
        assert drawn == set(FIGURES), f"figures drawn for {lang}"
    shown = {m for lang in LANGUAGES for page in pages(lang)
             for m in re.findall(r"figures/([\w-]+)\.svg",
                                 (ROOT / "docs" / lang / page).read_text(encoding="utf-8"))}
    assert shown == set(FIGURES), "figures drawn but shown on no page, or the reverse"


NOTEBOOKS = [(lang, page) for lang, page in EVERY_PAGE if str(page).startswith("notebooks/")]


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=ids)
def test_notebook_page_is_the_executed_notebook(site, lang, page):
    """Rendered by mkdocs-jupyter, executed: not the page's Markdown source."""
    html = html_of(site, lang, page)
    assert "jp-Notebook" in html and "jp-OutputArea-output" in html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert "--8<--" not in text and "Traceback" not in text
    # What the page shows under its statements, Jupyter printed, in the same
    # order, compared as the harness compares.
    shown, printed = shown_outputs(lang, page), rendered_outputs(html)
    assert shown and outputs_match(shown, printed), _diff(shown, printed)


@pytest.mark.parametrize("lang, page", NOTEBOOKS, ids=ids)
def test_notebook_figures_have_the_pages_alt_text(site, lang, page):
    source = (ROOT / "docs" / lang / page).read_text(encoding="utf-8")
    alts = re.findall(r"^#\|\s*fig-alt:\s*(.*)$", source, re.M)
    images = [attrs for tag, attrs in tags_of(site, lang, page) if tag == "img"]
    assert alts and [attrs.get("alt") for attrs in images] == alts
    assert all(attrs["src"].startswith("data:image/png") for attrs in images)


def test_notebook_markdown_is_in_the_pages_language(site):
    for page in [p for _, p in NOTEBOOKS]:
        zh = json.loads(next((site / "zh" / url_of(DEFAULT, page)).glob("*.ipynb")).read_text(
            encoding="utf-8"))
        markdown = "".join("".join(c["source"]) for c in zh["cells"] if c["cell_type"] == "markdown")
        assert re.search(r"[\u4e00-\u9fff]", markdown), f"zh notebook {page} has no Chinese"


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_table_of_contents_links_land_on_headings(site, lang, page):
    tags = tags_of(site, lang, page)
    ids_on_page = {attrs["id"] for _, attrs in tags if attrs.get("id")}
    anchors = [attrs["href"][1:] for tag, attrs in tags
               if tag == "a" and attrs.get("href", "").startswith("#")
               and "md-nav__link" in attrs.get("class", "")]
    assert [a for a in anchors if a not in ids_on_page] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_has_its_own_404_page(site, lang):
    folder = site if lang == DEFAULT else site / lang
    html = (folder / "404.html").read_text(encoding="utf-8")
    assert re.search(rf'<html lang="{lang}"', html)
    assert len(re.findall(r"<h1[ >]", html)) == 1 and "404" in html


CJK = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
# Labels that read the same in both languages: names and symbols.
NEUTRAL = {"x", "y", "SGD", "Adam"}


def svg_texts(path) -> list[str]:
    """The text of a figure drawn with svg.fonttype "none": its <text> elements."""
    svg = path.read_text(encoding="utf-8")
    return [unescape(re.sub(r"<[^>]+>", "", t)).strip()
            for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_figures_speak_the_pages_language(site, lang):
    """Titles, axis labels and legends are in the page's language; graph
    diagrams show only code names (grad_fn classes, tensor names)."""
    for path in sorted(figures_folder(site, lang).glob("*.svg")):
        if path.stem.startswith("graph-"):
            continue
        words = [t for t in svg_texts(path) if re.search(r"[A-Za-z]{2}|[\u4e00-\u9fff]", t)]
        assert words, f"{path.name} has no labels"
        if lang == "zh":
            english = [t for t in words if not CJK.search(t) and t not in NEUTRAL]
            assert not english, f"zh/{path.name} has labels in English: {english}"
        else:
            assert not [t for t in words if CJK.search(t)], f"{path.name} has Chinese labels"


@pytest.mark.parametrize("lang, page", EVERY_PAGE, ids=ids)
def test_colour_scheme_toggles_are_named_in_the_pages_language(site, lang, page):
    names = [attrs.get("title", "") for tag, attrs in tags_of(site, lang, page)
             if tag == "label" and "md-header__button" in attrs.get("class", "")
             and attrs.get("for", "").startswith("__palette")]
    assert len(names) == 2, names
    assert all(bool(CJK.search(name)) == (lang == "zh") for name in names), names
