"""The `rag` command: one line per error, footnote-style citations, JSON, eval table."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rag import Settings
from rag.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Folder arguments for the article in ``tmp_path``, not yet indexed (tests that change it)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "docs" / "article.ru.txt", docs / "article.ru.txt")
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    return ["--docs-dir", str(docs), "--index-dir", str(tmp_path / "index")]


@pytest.fixture
def shared_corpus(
    shared_index: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Folder arguments for the article's shared index (tests that only read it)."""
    settings = shared_index()
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    return ["--docs-dir", str(settings.docs_dir), "--index-dir", str(settings.index_dir)]


def test_index_prints_a_line_per_document_then_one_summary_line_and_reuses_embeddings(
    corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*corpus, "index"]) == 0
    first = capsys.readouterr().out.strip().splitlines()
    assert first[0] == "article.ru.txt: 6 footnotes found, 6 used, 0 unused"
    assert len(first) == 2
    assert "1 documents" in first[1] and "6 footnotes" in first[1]
    assert "sources: 0 of 6 saved" in first[1]

    assert main([*corpus, "index"]) == 0
    again = capsys.readouterr().out.strip().splitlines()
    assert again[0] == first[0]
    assert "nothing re-embedded" in again[-1]


def test_index_counts_unused_footnotes_and_markers_without_an_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text(
        "# Notes on ports\n\nPorts grew.[^a] Trade grew.[^b] Rail grew.[^c]\n\n"
        "[^a]: https://example.org/ports\n[^b]: https://example.org/trade\n"
        + "".join(f"[^u{n}]: https://example.org/unused-{n}\n" for n in range(30)),
        "utf-8",
    )
    (docs / "plain.txt").write_text("A plain document without footnotes\n\nText.\n", "utf-8")
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    args = ["--docs-dir", str(docs), "--index-dir", str(tmp_path / "index")]
    assert main([*args, "index"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert sorted(lines[:-1]) == [
        "notes.md: 32 footnotes found, 2 used, 30 unused; 1 marker without an entry",
        "plain.txt: 0 footnotes found, 0 used, 0 unused",
    ]
    assert lines[-1].startswith("indexed 2 documents")


def test_ask_prints_citations_like_footnotes(
    shared_corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    question = "Как Песков охарактеризовал разговор Путина и Алиева?"
    assert main([*shared_corpus, "ask", question]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out
    assert "↳ [iii] TASS — “Peskov nazval" in out
    assert "<https://tass.ru/politika/26006283>" in out


def test_ask_json_is_the_answer(
    shared_corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*shared_corpus, "ask", "--json", "-k", "3", "Кто такой Рашад Набиев?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) >= {"text", "citations", "abstained"}
    cited = answer["citations"][0]
    assert "Рашад Набиев" in cited["text"]
    assert cited["marker"] == 1


@pytest.mark.parametrize("question", ["", "   ", "x" * 3000, "🙂🙂"])
def test_bad_question_is_one_line_and_exit_1(
    shared_corpus: list[str], question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*shared_corpus, "ask", question]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert "Traceback" not in err[0]


def test_missing_docs_dir_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    args = ["--docs-dir", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "i")]
    assert main([*args, "ask", "Кто?"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "i").exists()  # a typo in --docs-dir leaves no index folder behind


def test_fetch_offline_says_so_and_exits_1(
    corpus: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def no_dns(*args: object, **kwargs: object) -> None:
        raise socket.gaierror("offline")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    assert main([*corpus, "fetch"]) == 1  # nothing could be fetched: a script must notice
    out, err = capsys.readouterr()
    assert out.count("failed") == 6
    assert "0 of 6 sources fetched" in out
    # Why, and the manual route: the source's text saved by hand in docs/sources/<label>.md.
    assert "looks offline" in err and "/sources/<label>.md" in err and "/sources/i.md" in err


def test_fetch_with_every_source_saved_by_hand_exits_0(
    corpus: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing should be fetched")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    docs = Path(corpus[corpus.index("--docs-dir") + 1])
    (docs / "sources").mkdir(exist_ok=True)
    for label in ("i", "ii", "iii", "iv", "v", "vi"):
        (docs / "sources" / f"{label}.md").write_text(f"# Source {label}\n\nText.\n", "utf-8")
    assert main([*corpus, "fetch"]) == 0
    out, err = capsys.readouterr()
    assert out.count("kept") == 6 and "offline" not in err


def test_eval_prints_a_table_and_json(
    shared_corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = ROOT / "tests" / "data" / "dev.jsonl"
    assert main([*shared_corpus, "eval", "--data", str(data)]) == 0
    table = capsys.readouterr().out
    for metric in ("evidence hit", "footnote recall", "marker errors", "latency p50"):
        assert metric in table
    assert main([*shared_corpus, "eval", "--data", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 18
    assert report["marker_errors"] == 0 and report["offset_errors"] == 0


def test_eval_with_a_broken_file_names_the_line(
    shared_corpus: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "answerable": true}\n{oops\n', "utf-8")
    assert main([*shared_corpus, "eval", "--data", str(bad)]) == 1
    assert "bad.jsonl:2" in capsys.readouterr().err


def test_a_reader_that_goes_away_is_no_traceback(shared_corpus: list[str]) -> None:
    """`rag ask … | head -1`: the pipe closes before the answer is written."""
    import subprocess
    import sys

    code = "import sys; from rag.cli import main; sys.exit(main(sys.argv[1:]))"
    args = [sys.executable, "-c", code, *shared_corpus, "ask", "Кто такой Рашад Набиев?"]
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_eval_exits_1_when_a_target_is_missed(
    shared_corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = ROOT / "tests" / "data" / "dev.jsonl"
    assert main([*shared_corpus, "eval", "--data", str(data), "--min", "evidence_hit=0"]) == 0
    assert main([*shared_corpus, "eval", "--data", str(data), "--min", "evidence_hit=1.01"]) == 1
    assert "target missed: evidence_hit" in capsys.readouterr().err
    assert main([*shared_corpus, "eval", "--data", str(data), "--max", "marker_errors=0"]) == 0
    assert main([*shared_corpus, "eval", "--data", str(data), "--max", "latency_p50_ms=0"]) == 1


def test_eval_refuses_an_unknown_target(
    shared_corpus: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*shared_corpus, "eval", "--min", "accuracy=0.9"]) == 1
    assert "METRIC=VALUE" in capsys.readouterr().err


def test_sweep_writes_a_profile_and_reports_the_held_out_folds(
    shared_corpus: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.profile import load_profile

    out = tmp_path / "profile.json"
    data = ROOT / "tests" / "data" / "dev.jsonl"
    sweep = ["eval", "--sweep", "--data", str(data), "--profile-out", str(out)]
    assert main([*shared_corpus, *sweep]) == 0
    assert "written to" in capsys.readouterr().out
    profile = load_profile("hash", out)
    assert profile.calibrated_on and 0 < profile.answerability.threshold < 1
