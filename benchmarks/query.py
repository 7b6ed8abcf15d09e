"""Query latency: a full cited answer vs. a naive llama-index retriever, in one run.

Prints JSON. Figures to compare are the ratios (timings on shared machines are noisy):
* ``answer_p50_ms`` / ``naive_retrieval_p50_ms``: a cited answer vs. SentenceSplitter(128, 20)
  + same embedder + FAISS flat top-5 through llama-index's retriever (target ratio <= 3);
* ``synthetic_100k``: answer latency on a 100k-passage index (target p50 <= 30 ms);
* ``llm_overhead``: time our code adds around an LLM call (retrieval, prompt, verification)
  with a scripted OpenAI-compatible server on 127.0.0.1 (target <= 50 ms).
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scripted LLM server lives with the tests

from rag import Assistant, Settings  # noqa: E402
from rag.answer.answerer import LLMWithFallback  # noqa: E402
from rag.evaluation import load_eval_set  # noqa: E402
from rag.index.embedding_adapter import LlamaIndexEmbedding  # noqa: E402
from rag.index.embeddings import make_embedder  # noqa: E402


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def _timed(fn, items, repeat: int = 5) -> list[float]:
    out = []
    for _ in range(repeat):
        for item in items:
            started = time.perf_counter()
            fn(item)
            out.append(time.perf_counter() - started)
    return out


def naive_retriever(docs_dir: Path, embedder):
    """The baseline: llama-index's default small-chunk pipeline over the same article."""
    import faiss
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.faiss import FaissVectorStore

    from rag.corpus.tokens import encoding

    encoding()  # sets the offline tiktoken cache the splitter needs
    documents = SimpleDirectoryReader(str(docs_dir), required_exts=[".txt"]).load_data()
    nodes = SentenceSplitter(chunk_size=128, chunk_overlap=20).get_nodes_from_documents(documents)
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(embedder.dim))
    index = VectorStoreIndex(
        nodes,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=LlamaIndexEmbedding(embedder),
    )
    return index.as_retriever(similarity_top_k=5)


def synthetic_100k(embedder, questions: list[str], work: Path) -> dict[str, float]:
    """Answer latency over a 100k-passage store with random vectors (the sizes are real);
    the sentence vectors are written to ``work`` and memory-mapped, as a faiss build's are."""
    import bm25s

    from rag.corpus.documents import Document
    from rag.corpus.lexicon import MAX_WORDS, Lexicon
    from rag.index.faiss_index import FaissPassageIndex, vector_index
    from rag.index.sentence_vectors import SENTENCES_FILE, MappedSentenceVectors
    from rag.index.store import IndexStore, PassageRecord

    rng = np.random.default_rng(0)
    n, per = 100_000, 2
    words = [f"w{i}" for i in range(20_000)]
    text = " ".join(rng.choice(words, size=n * per * 12))  # one big synthetic document
    vectors = rng.standard_normal((n * per, embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(work / SENTENCES_FILE, vectors)
    step = len(text) // (n * per)
    rows = np.array([(i // per, i * step, (i + 1) * step) for i in range(n * per)], dtype=np.int64)
    passages = [
        PassageRecord(
            "synthetic",
            int(rows[i * per, 1]),
            int(rows[i * per + per - 1, 2]),
            i,
            (),
            "body",
            i * per,
            i * per + per,
        )
        for i in range(n)
    ]
    index = vector_index(embedder.dim, n)
    pooled = vectors.reshape(n, per, -1).mean(axis=1)
    index.add(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
    bm25 = bm25s.BM25()
    bm25.index([text[p.start : p.end].split()[:12] for p in passages], show_progress=False)
    doc = Document("synthetic", "synthetic", "synthetic.txt", text, ())
    # A full-size lexicon (its cap), half Cyrillic: the cost of looking question words up.
    lexicon_words = [f"слово{i}" if i % 2 else f"word{i}" for i in range(MAX_WORDS)]
    lexicon_vectors = rng.standard_normal((MAX_WORDS, embedder.dim)).astype(np.float32)
    lexicon_vectors /= np.linalg.norm(lexicon_vectors, axis=1, keepdims=True)
    lexicon = Lexicon.build(lexicon_words, lexicon_vectors)
    store = IndexStore(
        Path("."),
        {"dim": embedder.dim},
        {"synthetic": doc},
        passages,
        FaissPassageIndex(index, bm25, range(n)),
        rows,
        MappedSentenceVectors(work),  # as a faiss build reads them: memory-mapped
        {"synthetic": np.arange(n * per)},
        lexicon,
    )
    assistant = Assistant(Settings(embed_model="use-multilingual"), embedder=embedder)
    assistant._store, assistant._checked_at = store, float("inf")  # serve this store as is
    assistant.query(questions[0])
    return _ms(_timed(assistant.query, questions, repeat=2))


def llm_overhead(assistant_settings: Settings, embedder, questions: list[str]) -> dict:
    from llm_server import FakeLLMServer

    with FakeLLMServer(
        "В заявлении было отмечено, что обе стороны подтвердили решимость [1]."
    ) as server:
        settings = assistant_settings.model_copy(
            update={"llm": "openai-like", "llm_base_url": server.base_url, "llm_model": "fake"}
        )
        assistant = Assistant(settings, embedder=embedder)
        assistant.query(questions[0])
        total = _timed(assistant.query, questions, repeat=2)
        # The same round trips with no work around them: what the server and HTTP cost.
        chosen = assistant.answerer()
        assert isinstance(chosen, LLMWithFallback)
        llm = chosen.llm_answerer.llm
        from llama_index.core.llms import ChatMessage

        bare = _timed(lambda q: llm.chat([ChatMessage(role="user", content=q)]), questions, 2)
    return {
        "with_llm": _ms(total),
        "bare_llm_call": _ms(bare),
        "overhead_p50_ms": round((statistics.median(total) - statistics.median(bare)) * 1000, 2),
    }


def main() -> None:
    questions = [item.question for item in load_eval_set(ROOT / "tests" / "data" / "dev.jsonl")]
    work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        docs = work / "docs"
        shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("sources"))
        embedder = make_embedder("use-multilingual")
        settings = Settings(docs_dir=docs, index_dir=work / "index")
        assistant = Assistant(settings, embedder=embedder)
        assistant.build_index()
        assistant.query(questions[0])
        answer = _ms(_timed(assistant.query, questions))
        naive = naive_retriever(docs, embedder)
        naive.retrieve(questions[0])
        naive_ms = _ms(_timed(naive.retrieve, questions))
        result = {
            "questions": len(questions),
            "answer": answer,
            "naive_retrieval": naive_ms,
            "answer_to_naive_ratio": round(answer["p50_ms"] / naive_ms["p50_ms"], 2),
            "llm_overhead": llm_overhead(settings, embedder, questions),
            "synthetic_100k": synthetic_100k(embedder, questions, work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
