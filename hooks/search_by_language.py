"""Search each language on its own.

mkdocs-static-i18n merges every language into one search index, so an
English query on an English page ranks Chinese pages beside English ones.
After the last build this splits the index: English at search/, Chinese at
zh/search/ (locations made relative to /zh/), and Chinese pages get a
Material config whose base is /zh/, which is where Material looks for the
index and resolves the results from.

Chinese text is segmented by jieba while the index is built; the glossary's
Chinese terms are made jieba words first, so that 计算图 is one word of the
index (jieba alone would cut it into 计算 and 图) and a search for it finds it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from _shared import importable, languages
from mkdocs.plugins import event_priority

CONFIG = re.compile(r'(<script id="__config" type="application/json">\{"annotate": [^,]*, "base": ")([^"]*)(")')


@event_priority(100)  # before the search plugin segments anything
def on_config(config):
    import jieba

    importable()
    from tests.pages import glossary

    for _, chinese, _ in glossary():
        for term in chinese:
            jieba.add_word(term)
    return config


def on_post_page(output: str, page, config, **_) -> str:
    language, default = languages(config)
    if language == default:
        return output
    # base points at the site's root; the language's own root is one folder in.
    output, found = CONFIG.subn(lambda m: f"{m.group(1)}{m.group(2)}/{language}/{m.group(3)}",
                                output, count=1)
    if not found:
        raise ValueError(f"{page.file.src_uri}: Material's __config not found")
    return output


@event_priority(-200)  # after mkdocs-static-i18n has merged the languages' indexes
def on_post_build(config):
    i18n = config.plugins["i18n"]
    if i18n.building:  # a language's own build; the merged index comes last
        return
    default = i18n.default_language
    path = Path(config.site_dir) / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    prefixes = {code: f"{code}/" for code in i18n.build_languages if code != default}
    by_language = {default: []} | {code: [] for code in prefixes}
    for doc in index["docs"]:
        code = next((c for c, p in prefixes.items() if doc["location"].startswith(p)), default)
        if code != default:
            doc["location"] = doc["location"][len(prefixes[code]):]
        by_language[code].append(doc)
    for code, docs in by_language.items():
        target = path if code == default else Path(config.site_dir) / code / "search" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({**index, "docs": docs}, ensure_ascii=False), encoding="utf-8")
