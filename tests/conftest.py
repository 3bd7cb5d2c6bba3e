"""Shared fixtures: the repository root, the built book, a local HTTP server, Chromium.

The book is built in a background process that starts as soon as the tests
are collected, and the tests that need it run last: the build (every chapter
executed) overlaps with the rest of the suite on the second core instead of
adding its minutes to one test.
"""

import collections
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every machine and every run (seeded by the test's name): a
# failure reproduces, and a fresh clone cannot meet an example no earlier run has seen.
settings.register_profile("tensorbook", derandomize=True)
settings.load_profile("tensorbook")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("TENSORBOOK_CHROMIUM", "/usr/bin/chromium")
# CI sets this: there a missing browser fails the browser tests instead of skipping them.
REQUIRE_BROWSER = os.environ.get("TENSORBOOK_REQUIRE_BROWSER") == "1"
NO_BROWSER = (f"the browser tests need Debian's Chromium at {CHROMIUM}, which is not there: "
              "apt-get install chromium enables them (or TENSORBOOK_CHROMIUM=/path/to/chromium)")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


_BUILD = {}


def _start_book_build(log_dir):
    """``jupyter-book build`` exactly as `make book` runs it (cached execution), in the background."""
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(log_dir) / "book-build.log", "w+")
    cmd = [str(BIN / "jupyter-book"), "build", "--warningiserror", "--keep-going", str(ROOT)]
    # One thread of BLAS, OpenMP and Numba for the build and the kernels it starts: it runs beside the rest
    # of the suite, and two processes each spinning two threads on two cores slow both several times over.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    _BUILD.update(process=subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env),
                  log=log)


def pytest_collection_modifyitems(session, config, items):
    """Run the tests that need the built book last, and start the build now."""
    needs_book = [item for item in items if "built_book" in getattr(item, "fixturenames", ())]
    if needs_book and not config.option.collectonly:
        _start_book_build(ROOT / "_build")
        items[:] = [item for item in items if item not in needs_book] + needs_book


def pytest_sessionfinish(session, exitstatus):
    process = _BUILD.get("process")
    if process is not None and process.poll() is None:  # interrupted: do not leave a build behind
        process.kill()
        process.wait()


def pytest_terminal_summary(terminalreporter):
    """One line per reason for the skipped tests, however many tests share it."""
    reasons = collections.Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.items():
        terminalreporter.write_line(f"{count} test(s) skipped: {reason}")


@pytest.fixture(scope="session")
def built_book():
    """The book built as `make book` builds it (started at collection, see above): _build/html."""
    if "process" not in _BUILD:  # a run that collected no book test first (e.g. pytest -k)
        _start_book_build(ROOT / "_build")
    process, log = _BUILD["process"], _BUILD["log"]
    try:
        process.wait(timeout=1800)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the book build took more than 30 minutes")
    if process.returncode != 0:
        log.seek(0)
        pytest.fail(f"book build failed:\n{log.read()[-12000:]}")
    return ROOT / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def book_server(built_book):
    """Serve the built book on 127.0.0.1 (a free port) for the browser tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Without it the browser tests are skipped, with one sentence that says how
    to enable them; with TENSORBOOK_REQUIRE_BROWSER=1 (CI) they fail instead.
    """
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        if REQUIRE_BROWSER:
            pytest.fail(f"TENSORBOOK_REQUIRE_BROWSER=1, but {NO_BROWSER}")
        pytest.skip(NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
