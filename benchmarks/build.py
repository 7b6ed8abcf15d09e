"""Build speed. Prints JSON: model load seconds, article build seconds (model loaded), and
build throughput in passages/s on a synthetic corpus of ~10k passages generated here.

Targets on a 2-core machine: article build <= 1 s; >= 250 passages/s.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from rag import Assistant, Settings
from rag.index.embeddings import make_embedder

ROOT = Path(__file__).resolve().parents[1]


def synthetic_corpus(docs: Path, vocabulary: list[str], paragraphs: int) -> None:
    """Documents of shuffled article words: realistic lengths, every sentence unique."""
    rng = random.Random(0)
    docs.mkdir(parents=True)
    per_doc = 200
    for d in range(0, paragraphs, per_doc):
        lines = []
        for _ in range(per_doc):
            sentences = [
                " ".join(rng.choices(vocabulary, k=rng.randint(10, 22))).capitalize() + "."
                for _ in range(rng.randint(2, 4))
            ]
            lines.append(" ".join(sentences))
        (docs / f"synthetic-{d // per_doc:03}.txt").write_text("\n\n".join(lines), "utf-8")


def timed_build(settings: Settings, embedder) -> tuple[float, int]:
    started = time.perf_counter()
    stats = Assistant(settings, embedder=embedder).build_index()
    return time.perf_counter() - started, stats.passages


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rag-bench-build-"))
    try:
        started = time.perf_counter()
        embedder = make_embedder("use-multilingual")
        embedder.encode(["warm-up"])  # the model's weights load on first use
        load_s = time.perf_counter() - started
        # One tiny build first: llama-index, FAISS and bm25s are imported on first use, a
        # one-off cost of the process (reported), not of a build.
        tiny = work / "tiny"
        tiny.mkdir()
        (tiny / "t.txt").write_text("Тест импорта библиотек.", "utf-8")
        imports_s, _ = timed_build(Settings(docs_dir=tiny, index_dir=work / "index-tiny"), embedder)

        article = work / "article"
        shutil.copytree(ROOT / "docs", article, ignore=shutil.ignore_patterns("sources"))
        article_s, article_passages = timed_build(
            Settings(docs_dir=article, index_dir=work / "index-article"), embedder
        )
        text = (ROOT / "docs" / "article.ru.txt").read_text("utf-8")
        vocabulary = [w.strip(".,;:“”()") for w in text.split() if len(w) > 2 and "[" not in w]
        synthetic = work / "synthetic"
        synthetic_corpus(synthetic, vocabulary, paragraphs=5_000)
        synthetic_s, synthetic_passages = timed_build(
            Settings(docs_dir=synthetic, index_dir=work / "index-synthetic"), embedder
        )
        result = {
            "model_load_s": round(load_s, 2),
            "first_build_imports_s": round(imports_s, 2),
            "article_build_s": round(article_s, 2),
            "article_passages": article_passages,
            "synthetic_passages": synthetic_passages,
            "synthetic_build_s": round(synthetic_s, 1),
            "passages_per_s": round(synthetic_passages / synthetic_s, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
