"""Run every page's blocks under the other supported torch releases (make versions).

The outputs on the pages are written with the torch that requirements.txt
pins. Readers run other releases, so each release of SUPPORTED gets a
virtual environment of its own, .venv-torch-<release>, made by uv from
requirements.txt with only the torch pin changed, and the harness runs
every page in it (the English pages' python blocks, the notebook pages' too,
and the console blocks). A line that a release prints differently must be
declared on the page (README, "Supported releases"); any other difference
fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from snippets.cli import ArgumentParser  # noqa: E402

#: The supported releases besides the pinned one: the oldest release of the
#: last year, every minor release since, and the newest one the package
#: index serves.
SUPPORTED = ("2.10.0", "2.11.0", "2.12.0", "2.14.1")
PIN = re.compile(r"^torch==\S+$", re.M)


def pinned_release() -> str:
    return PIN.search((ROOT / "requirements.txt").read_text()).group(0).split("==")[1]


def requirements_for(release: str) -> str:
    return PIN.sub(f"torch=={release}", (ROOT / "requirements.txt").read_text(), count=1)


def find_links() -> list[str]:
    """The wheel folders pip is told of (as the Makefile passes them to uv)."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                          capture_output=True, text=True)
    links = done.stdout.split() if done.returncode == 0 else \
        os.environ.get("PIP_FIND_LINKS", "").split()
    return [arg for link in links for arg in ("--find-links", link)]


def environment(release: str) -> Path:
    """.venv-torch-<release>, made or remade whenever its requirements change."""
    venv = ROOT / f".venv-torch-{release}"
    requirements = requirements_for(release)
    ready = venv / f".ready-{hashlib.sha256(requirements.encode()).hexdigest()[:12]}"
    if ready.exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    uv = re.search(r"^uv==\S+$", requirements, re.M).group(0)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", uv], check=True)
    (venv / "requirements.txt").write_text(requirements, encoding="utf-8")
    subprocess.run([str(venv / "bin" / "uv"), "pip", "install", "--quiet", "--python",
                    str(python), *find_links(), "-r", str(venv / "requirements.txt")],
                   check=True)
    ready.touch()
    return venv


def main() -> int:
    parser = ArgumentParser(prog="tests/versions.py", description=__doc__.splitlines()[0])
    parser.add_argument("releases", nargs="*", default=list(SUPPORTED),
                        help=f"torch releases to run (default: {' '.join(SUPPORTED)})")
    args = parser.parse_args()
    unknown = [r for r in args.releases if r not in SUPPORTED]
    if unknown:
        parser.error(f"not a supported release: {', '.join(unknown)}"
                     f" (supported besides the pinned {pinned_release()}: {', '.join(SUPPORTED)})")
    failed = []
    for release in args.releases:
        print(f"torch {release}: setting up .venv-torch-{release}", flush=True)
        python = environment(release) / "bin" / "python"
        print(f"torch {release}: every page's blocks", flush=True)
        done = subprocess.run([str(python), "-m", "pytest", "-q", "-n", "auto", "--dist",
                               "loadfile", "--notebook-pages", "-p", "no:cacheprovider",
                               "docs"], cwd=ROOT)
        if done.returncode != 0:
            failed.append(release)
    print(f"releases with undeclared differences: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
