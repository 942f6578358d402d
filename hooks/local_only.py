"""Keep a page from asking any server but the site's own for anything.

Two things in Material's JavaScript would, and neither has a setting to stop it:

* For each ``<link rel="alternate" hreflang>`` in the head, it fetches
  ``sitemap.xml`` next to the linked URL, to map the current page to the
  other language. mkdocs-static-i18n already points those links (and the
  language switch) at the same page in the other language, so the fetch only
  costs two 404s a page. Without the head links the switch is a plain link
  to the right page.
* The repository link (``data-md-component="source"``) makes it call the
  GitHub API for star and fork counts. Without the attribute it stays a link.
"""

from __future__ import annotations

import re

ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')
SOURCE = ' data-md-component="source"'


def on_post_page(output: str, **_) -> str:
    return ALTERNATE.sub("", output).replace(SOURCE, "")
