"""Browser fixtures: Debian's Chromium driven by Python playwright, and the app on a free port.

Without Chromium the browser tests skip with a message saying how to get it; under CI
(``CI=true``) they fail instead, so a CI machine that lost its browser cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"

# A document that tries to run code: in the UI it must show as text and run nothing.
SCRIPT_DOC = """# Field notes

The Zebra Protocol was signed in Reykjavik <script>window.__pwned=1</script> \
<img src=x onerror="window.__pwned=1"> on 3 May 2031.

A [harmless-looking link](javascript:window.__pwned=1) was attached to the protocol.
"""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true but {reason}: the browser tests must run in CI")
    pytest.skip(f"browser tests skipped: {reason} (apt-get install chromium to run them)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (skips, or fails under CI, when it is not installed)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"app.py did not serve {url} within 90 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def app_url(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, source_iii_text: str
) -> Iterator[str]:
    """``python app.py`` on a free loopback port, over a copy of the article, the TASS source
    of footnote [iii] (as ``rag fetch`` saves it) and SCRIPT_DOC.

    Uses the real multilingual embedder, so answers are the product's real answers.
    """
    import rag

    root = tmp_path_factory.mktemp("ui-e2e")
    docs, index = root / "docs", root / "index"
    (docs / "sources").mkdir(parents=True)
    shutil.copyfile(REPO / "docs" / "article.ru.txt", docs / "article.ru.txt")
    (docs / "sources" / "iii.md").write_text(source_iii_text, "utf-8")
    (docs / "notes.md").write_text(SCRIPT_DOC, "utf-8")
    values = {"docs_dir": docs, "index_dir": index, "embed_model": "use-multilingual",
              "llm": "none", "top_k": 5}  # fmt: skip
    rag.Assistant(rag.Settings(**values)).build_index()

    port = _free_port()
    # Only these settings: no RAG_* variable of the outer environment leaks into the app.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    env.update({f"RAG_{k.upper()}": str(v) for k, v in values.items()})
    env.update({"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)})
    log = root / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")], cwd=root, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_served(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Any:
    """``screenshot(page)`` saves the whole page as screenshots/<test name>.png
    (``screenshot(page, "tab")`` as <test name>-tab.png)."""

    def save(page: Any, suffix: str = "") -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}{'-' + suffix if suffix else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def open_page(browser: Any, app_url: str) -> Iterator[Any]:
    """``open_page(width=1366, theme="light")`` opens the app in a fresh browser context.

    Every request the page makes is recorded: anything not on 127.0.0.1 fails the test,
    because the app must work offline (no fonts or scripts from the internet).
    """
    contexts: list[Any] = []
    outside: list[str] = []

    def open_(width: int = 1366, height: int = 900, theme: str = "light") -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
                else None
            ),
        )
        page.goto(f"{app_url}?__theme={theme}")
        page.locator("#rag-question textarea").wait_for()
        return page

    yield open_
    for context in contexts:
        context.close()
    assert outside == [], f"the page reached outside the machine: {outside}"
