"""Questions asked while the index is being rebuilt are answered from the previous index."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from filelock import FileLock

from rag import Assistant, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_stale_index_with_a_rebuild_running_answers_from_the_previous_one(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "docs" / "article.ru.txt", docs / "article.ru.txt")
    settings = Settings(embed_model="hash", docs_dir=docs, index_dir=tmp_path / "index")
    assistant = Assistant(settings)
    assistant.build_index()
    before = assistant.store()

    (docs / "new.md").write_text("# New\n\nThe Zangezur corridor opened in 2030.\n", "utf-8")
    assistant._checked_at = 0.0  # as if the freshness interval had passed
    with FileLock(str(settings.index_dir / ".build.lock")):  # another rebuild is running
        started = time.monotonic()
        answer = assistant.query("Кто такой Рашад Набиев?")
        assert time.monotonic() - started < 5
    assert assistant.store() is before
    assert answer.citations and answer.citations[0].doc_id == "article"

    # Once the other build is done, the next check rebuilds and serves the new document.
    assistant._checked_at = 0.0
    assert "new" in assistant.store().docs
