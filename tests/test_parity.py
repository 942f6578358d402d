"""English and Chinese pages carry the same code, and the harness sees all of it."""

import functools
import io
import posixpath
import re
import tokenize

import markdown
import pytest
import yaml

from tests.harness import EVALUATORS, PYTHONISH, ROOT, YamlLoader, expand_includes
from tests.pages import (
    DOCS, FIGURE_TEXT, LANGUAGES, blocks, code_without_comments, fence_scan, glossary,
    opening_fences, pages)

ALL_PAGES = [(lang, page) for lang in LANGUAGES for page in pages(lang)]


def test_every_page_has_a_twin_in_every_language():
    assert pages("en"), "no English pages found"
    for lang in LANGUAGES:
        assert pages(lang) == pages("en"), f"docs/{lang} and docs/en hold different pages"


@pytest.mark.parametrize("page", pages("en"), ids=str)
def test_twins_carry_the_same_code(page):
    english = blocks(DOCS / "en" / page)
    for lang in LANGUAGES[1:]:
        other = blocks(DOCS / lang / page)
        assert len(other) == len(english), (
            f"docs/{lang}/{page} has {len(other)} code blocks, docs/en/{page} has {len(english)}")
        for number, (en_block, other_block) in enumerate(zip(english, other), start=1):
            assert code_without_comments(*other_block) == code_without_comments(*en_block), (
                f"block {number} of docs/{lang}/{page} differs from the English one "
                "in more than its comments")


@pytest.mark.parametrize("lang, page", ALL_PAGES, ids=lambda v: str(v))
def test_figure_labels_are_in_the_pages_language(lang, page):
    languages = [m.group(2) for _, source in blocks(DOCS / lang / page)
                 for m in FIGURE_TEXT.finditer(source)]
    assert set(languages) <= {lang}, f"docs/{lang}/{page} draws figures with labels in {languages}"


@pytest.mark.parametrize("lang, page", ALL_PAGES, ids=lambda v: str(v))
def test_every_code_fence_is_run_or_refused(lang, page):
    """Count what is tested: a plain scan of the fences and the harness agree."""
    path = DOCS / lang / page
    scanned = [info for info in opening_fences(path)
               if info in EVALUATORS or PYTHONISH.search(info)]
    assert [info for info, _ in blocks(path)] == scanned


@pytest.mark.parametrize("lang, page", ALL_PAGES, ids=lambda v: str(v))
def test_includes_stand_only_inside_python_blocks(lang, page):
    path = DOCS / lang / page
    text = path.read_text(encoding="utf-8")
    inside = sum(src.count("--8<--") for info, src in blocks(path) if info == "python")
    assert len(re.findall(r"^\s*-+8<-+", text, re.M)) == inside, (
        f"docs/{lang}/{page}: a --8<-- include outside a python block is not tested")


def _nav_entries(nav):
    for item in nav:
        if isinstance(item, str):
            yield None, item
            continue
        for title, value in item.items():
            if isinstance(value, list):
                yield title, None
                yield from _nav_entries(value)
            else:
                yield title, value


def test_navigation_lists_every_page_with_a_chinese_title():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"),
                       Loader=YamlLoader)
    entries = list(_nav_entries(config["nav"]))
    listed = sorted(path for _, path in entries if path)
    assert listed == sorted(str(p) for p in pages("en")), "mkdocs.yml nav and docs/en disagree"
    zh = next(lang for plugin in config["plugins"] if isinstance(plugin, dict) and "i18n" in plugin
              for lang in plugin["i18n"]["languages"] if lang["locale"] == "zh")
    untranslated = [t for t, _ in entries if t and t not in zh["nav_translations"]]
    assert not untranslated, f"nav titles without a Chinese translation: {untranslated}"


def test_glossary_has_terms():
    assert len(glossary()) >= 20
    assert ("computational graph", ["计算图"], ["运算图", "计算图谱"]) in glossary()
    assert ("loss, loss function", ["损失", "损失函数"], ["代价函数"]) in glossary()


@pytest.mark.parametrize("page", [p for p in pages("zh") if p.name != "glossary.md"], ids=str)
def test_chinese_pages_use_the_glossary_terms(page):
    text = (DOCS / "zh" / page).read_text(encoding="utf-8")
    found = [(avoided, "、".join(chinese)) for english, chinese, avoid in glossary()
             for avoided in avoid if avoided in text]
    assert not found, f"docs/zh/{page} uses translations the glossary rules out: " + ", ".join(
        f"{a} (write {c})" for a, c in found)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_chapter_map_links_every_page(lang):
    home = (DOCS / lang / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w/-]+\.md)\)", home))
    missing = [str(p) for p in pages(lang) if str(p) != "index.md" and str(p) not in linked]
    assert not missing, f"docs/{lang}/index.md does not link: {missing}"


def _sections():
    """(module, section name, lines) of every ``--8<--`` section in snippets/,
    the lines as a page that includes the section gets them."""
    for path in sorted((ROOT / "snippets").glob("*.py")):
        for name in re.findall(r"--8<-- \[start:(\w+)\]", path.read_text(encoding="utf-8")):
            section = expand_includes(f'--8<-- "snippets/{path.name}:{name}"')
            yield path.name, name, section.splitlines()


@pytest.mark.parametrize("module, name, lines", list(_sections()), ids=lambda v: str(v)[:40])
def test_embedded_sections_carry_no_comments(module, name, lines):
    """A section is shown on the pages of both languages, and its comments
    could not be translated: the explanation belongs in each page's prose."""
    tokens = tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline)
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT]
    assert not comments, f"snippets/{module}:{name} has comments: {comments}"


@pytest.mark.parametrize("module, name, lines", list(_sections()), ids=lambda v: str(v)[:40])
def test_embedded_sections_import_nothing_from_this_repository(module, name, lines):
    """A reader who copies a page has no clone: a section imports public packages only."""
    imports = [line for line in lines if re.match(r"\s*(from|import)\s+(snippets|tests|hooks)\b", line)]
    assert not imports, f"snippets/{module}:{name} imports {imports}"


@pytest.mark.parametrize("lang, page", ALL_PAGES, ids=lambda v: str(v))
def test_headings_hold_no_math(lang, page):
    """Math is turned into MathML in the page's body only: in a heading it would
    stand as raw TeX in the table of contents."""
    headings = [line for line, kind, _ in fence_scan(DOCS / lang / page) if kind == "prose"
                and re.match(r"#{1,6} ", line) and re.search(r"(?<!\\)\$", line)]
    assert not headings, f"docs/{lang}/{page}: math in headings {headings}"


# A Markdown link whose target names a section: [text](page.md#id) or [text](#id).
SECTION_LINK = re.compile(r"\]\(([^()\s#]*)#([^()\s]+)\)")


def _section_links(lang: str, page) -> list[tuple[str, str]]:
    """(target page, section id) of every link to a section in a page's prose,
    in page order; the target is relative to the language's folder."""
    links = []
    for line, kind, _ in fence_scan(DOCS / lang / page):
        if kind != "prose":
            continue
        for target, anchor in SECTION_LINK.findall(line):
            if "://" in target:
                continue
            links.append((posixpath.normpath(posixpath.join(posixpath.dirname(str(page)),
                                                            target or posixpath.basename(str(page)))),
                          anchor))
    return links


@functools.cache
def _heading_ids(lang: str, page: str) -> frozenset[str]:
    """The ids of a page's headings, as the site's Markdown (mkdocs.yml's
    markdown_extensions, toc and attr_list among them) gives them."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=YamlLoader)
    names, options = [], {}
    for entry in config["markdown_extensions"]:
        name, settings = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        names.append(name)
        options[name] = dict(settings or {})
    # Code is not highlighted: that changes what a code block looks like, not
    # a heading's id, and it was most of this conversion's time.
    options.setdefault("pymdownx.highlight", {})["use_pygments"] = False
    if "pymdownx.snippets" in options:
        snippets = options["pymdownx.snippets"]
        snippets["base_path"] = [str(ROOT / p) for p in snippets.get("base_path", ["."])]
    md = markdown.Markdown(extensions=names, extension_configs=options)
    md.convert((DOCS / lang / page).read_text(encoding="utf-8"))

    def ids(tokens):
        for token in tokens:
            yield token["id"]
            yield from ids(token["children"])

    return frozenset(ids(md.toc_tokens))


@pytest.mark.parametrize("page", pages("en"), ids=str)
def test_section_links_have_twins_that_land_on_a_section(page):
    """A link to a section (page.md#id) has its twin in every language, in the
    same order, and lands on a heading of the target page in each: a Chinese
    heading keeps the English id with {#id}, since the Chinese text slugifies
    to nothing."""
    english = _section_links("en", page)
    for lang in LANGUAGES[1:]:
        other = _section_links(lang, page)
        assert other == english, (
            f"docs/{lang}/{page} links to the sections {other}, docs/en/{page} to {english}")
    for lang in LANGUAGES:
        missing = [f"{target}#{anchor}" for target, anchor in english
                   if anchor not in _heading_ids(lang, target)]
        assert not missing, f"docs/{lang}/{page} links to sections that docs/{lang} lacks: {missing}"
