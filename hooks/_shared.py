"""What several build hooks need: the project's root, and facts about the build.

Not a hook itself (mkdocs.yml does not list it); the hooks import it while
mkdocs loads them, when this folder is on sys.path.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def importable() -> None:
    """Put the project on sys.path, for snippets and tests (mkdocs restores
    sys.path after loading the hooks, so this is called when they run)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def snippets_key() -> str:
    """Changes whenever any snippet module does: a key for what is built from them."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "snippets").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def languages(config) -> tuple[str, str]:
    """The language being built, and the default one, as mkdocs-static-i18n says."""
    i18n = config.plugins["i18n"]
    return i18n.current_language, i18n.default_language
