"""The built site, shared by the site and browser tests.

Both test files need the strict build. `make test` runs them on one worker
(the root conftest.py); under another distribution they may run on different
workers, so the first worker to ask builds it, under a file lock, into a
folder named after the test run, and the other one reuses it.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from tests.harness import ROOT

BUILDS = ROOT / ".cache" / "test-site"


def build_site(out: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, "\n".join(warnings)


def pytest_configure(config):
    # One id for the whole run: pytest-xdist's workers inherit the environment.
    os.environ.setdefault("SITE_TEST_RUN", uuid.uuid4().hex)


@pytest.fixture(scope="session")
def site() -> Path:
    """The site, built with --strict exactly as CI builds it."""
    BUILDS.mkdir(parents=True, exist_ok=True)
    out = BUILDS / os.environ["SITE_TEST_RUN"]
    with open(BUILDS / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / ".complete").exists():
            for old in BUILDS.iterdir():
                if old.is_dir():
                    shutil.rmtree(old)
            build_site(out)
            (out / ".complete").touch()
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A tab that moves to its next page drops the requests it still had
        # open (the browser tests count those as no failure); any other error
        # is printed as before.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def served_site(site) -> str:
    """The built site served on a free port of 127.0.0.1; yields its address."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
