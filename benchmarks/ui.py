"""How fast the UI is: ``python benchmarks/ui.py`` prints JSON.

* ``startup_s``: from starting ``python app.py`` (over a prebuilt index in a temp dir) to the
  page being served (first HTTP 200 on ``/``); median of ``--starts`` runs.
* ``answer_s``: from pressing Enter on a question in Chromium to the final answer being shown
  in the chat (extractive answerer, the default); median over ``--questions`` questions, after
  one warm-up question. Needs ``/usr/bin/chromium``; without it the figure is ``null``.

Targets: startup ≤ 5 s, answer ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]  # fmt: skip
QUESTIONS = [
    "Как Песков охарактеризовал разговор?",
    "What did the Kremlin press service say both sides confirmed?",
    "Когда состоялся телефонный разговор Путина и Алиева?",
    "What freight volume does Azerbaijan target by 2028?",
    "Peskov görüşmeyi nasıl nitelendirdi?",
    "AB'nin Rus gazı stratejisi nedir?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(docs: Path, index: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """Start app.py; return the process, its URL and the seconds until it served ``/``."""
    port = free_port()
    env = {**os.environ, "RAG_DOCS_DIR": str(docs), "RAG_INDEX_DIR": str(index), "RAG_LLM": "none",
           "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, str(REPO / "app.py")], env=env,
                                   stdout=out, stderr=out, cwd=docs.parent)  # fmt: skip
    while time.perf_counter() - started < 120:
        if process.poll() is not None:
            raise SystemExit(f"app.py exited with {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process, url, time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit(f"app.py did not serve {url} within 120 s: see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answer_times(url: str, questions: list[str]) -> tuple[float, list[float]]:
    """(seconds to the first answer after the page loaded, then one time per question)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url)
        box = page.locator("#rag-question textarea")
        times = []
        for n, question in enumerate(questions, start=1):
            box.fill(question)
            started = time.perf_counter()
            page.keyboard.press("Enter")
            # The n-th bot message, once it is the final answer (not the "Searching…" one).
            final = page.locator('#rag-chat [data-testid="bot"]').nth(n - 1)
            final.locator(".rag-answer:not(.rag-pending)").wait_for(timeout=60_000)
            times.append(time.perf_counter() - started)
        browser.close()
    return times[0], times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=3, help="app starts to time")
    parser.add_argument("--questions", type=int, default=5, help="questions to time")
    args = parser.parse_args()

    import rag

    with tempfile.TemporaryDirectory(prefix="rag-ui-bench-") as tmp:
        root = Path(tmp)
        docs, index, log = root / "docs", root / "index", root / "app.log"
        docs.mkdir()
        shutil.copy(REPO / "docs" / "article.ru.txt", docs)
        settings = rag.Settings(docs_dir=docs, index_dir=index)
        rag.Assistant(settings).build_index()  # prebuilt: startup is the app's own cost

        startups = []
        for _ in range(args.starts):
            process, url, seconds = start_app(docs, index, log)
            startups.append(seconds)
            stop(process)

        result: dict[str, Any] = {
            "embedder": settings.embed_model,
            "answerer": "extractive",
            "startup_s": round(statistics.median(startups), 3),
            "startup_runs_s": [round(s, 3) for s in startups],
            "answer_s": None,
            "targets": {"startup_s": 5.0, "answer_s": 0.5},
        }
        if CHROMIUM.exists():
            process, url, _ = start_app(docs, index, log)
            try:
                questions = (QUESTIONS * 3)[: args.questions + 1]
                first, times = answer_times(url, questions)
            finally:
                stop(process)
            result["first_answer_s"] = round(first, 3)  # includes loading the embedder
            result["answer_s"] = round(statistics.median(times), 3)
            result["answer_runs_s"] = [round(t, 3) for t in times]
        else:
            result["note"] = f"{CHROMIUM} not installed: answer_s not measured"
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
