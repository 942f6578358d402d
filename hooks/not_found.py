"""Write each language's 404 page to its own folder.

mkdocs writes theme templates such as 404.html to the site's root, and
mkdocs-static-i18n builds every language into the same root, so the last
language built would replace the English 404.html. For the other languages
the page goes to <lang>/404.html instead, and the root one is left alone.
"""

from __future__ import annotations

from pathlib import Path

from _shared import languages


def on_post_template(output: str, template_name: str, config, **_) -> str:
    if template_name != "404.html":
        return output
    language, default = languages(config)
    if language == default:
        return output
    target = Path(config.site_dir) / language / "404.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(output, encoding="utf-8")
    return ""  # mkdocs skips a template whose output is empty
