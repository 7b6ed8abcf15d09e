"""The passage index at scale: each local store (RAG_STORE) on synthetic passages.

    python benchmarks/scale.py [--passages 100000] [--queries 200] [--stores faiss,qdrant-edge]
    python benchmarks/scale.py --passages 10000 --stores qdrant

``qdrant`` is the server store's code through qdrant-client's local mode (persisted in the
benchmark's folder, no server): pure Python and slow by design (100k passages take minutes
to build and over a second a hybrid query), so give it a small ``--passages`` such as 10000.
It measures the client code path, not what a Qdrant server would do.

Passages are random normalised 512-d vectors with ~40 search terms each, drawn from a
Zipf-like vocabulary of 50k words (so some terms are common, most rare). Each store is
built through the same interface the index build uses (upsert, then close or optimize) and
queried as retrieval does: dense top 50 + BM25 top 50, fused by reciprocal rank. Build and
query run in fresh processes so each one's memory is its own. Prints JSON: build seconds,
peak RSS, disk; dense and hybrid query p50/p95 in ms, RSS after the queries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 512
VOCABULARY = 50_000
TERMS_PER_PASSAGE = 40
DEPTH = 50
K = 10
RRF_K = 60
BATCH = 10_000


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _words(rng: np.random.Generator, count: int) -> np.ndarray:
    ranks = rng.zipf(1.3, size=count)
    return np.minimum(ranks, VOCABULARY) - 1


def _points(start: int, count: int):
    from rag.index.passage_index import PassagePoint

    rng = np.random.default_rng(start)
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = _words(rng, count * TERMS_PER_PASSAGE).reshape(count, TERMS_PER_PASSAGE)
    return [
        PassagePoint(start + i, vectors[i], tuple(f"w{w}" for w in words[i])) for i in range(count)
    ]


def _open(store: str, folder: Path, *, create: bool):
    if store == "faiss":
        from rag.index.faiss_index import FaissPassageIndex

        if create:
            return FaissPassageIndex.create(folder, DIM)
        ids = np.load(folder / "ids.npy")
        return FaissPassageIndex.load(folder, ids)
    average = float(json.loads((folder / "average.json").read_text())) if not create else 1.0
    if store == "qdrant":
        import qdrant_client

        from rag.index.qdrant_server import QdrantServerPassageIndex

        client = qdrant_client.QdrantClient(path=str(folder / "local"))  # local mode, on disk
        return QdrantServerPassageIndex(
            client, "local", "scale", DIM, create=create, average_length=average
        )
    from rag.index.qdrant_index import QdrantEdgePassageIndex

    return QdrantEdgePassageIndex(folder / "shard", DIM, average_length=average)


def build(store: str, folder: Path, passages: int) -> dict[str, float]:
    """Upsert ``passages`` synthetic points in batches, then persist (and index) them."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    index = _open(store, folder, create=True)
    if store != "faiss":
        index.average_length = float(TERMS_PER_PASSAGE)
    ids = []
    for start in range(0, passages, BATCH):
        points = _points(start, min(BATCH, passages - start))
        index.upsert(points)
        ids.extend(p.id for p in points)
    if store != "faiss":
        index.optimize()  # builds the HNSW graph now, as the index build does (not on qdrant)
        (folder / "average.json").write_text(json.dumps(float(TERMS_PER_PASSAGE)))
    else:
        np.save(folder / "ids.npy", np.asarray(ids, dtype=np.int64))
    index.close()
    return {
        "build_s": round(time.perf_counter() - started, 1),
        "build_peak_rss_mb": round(_rss_mb("VmHWM")),
        "disk_mb": round(_disk_mb(folder)),
    }


def query(store: str, folder: Path, queries: int) -> dict[str, float]:
    """Dense and hybrid latency over ``queries`` random questions of 3-6 terms."""
    rng = np.random.default_rng(12345)
    vectors = rng.standard_normal((queries, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    terms = [[f"w{w}" for w in _words(rng, int(rng.integers(3, 7)))] for _ in range(queries)]
    index = _open(store, folder, create=False)
    loaded_rss = _rss_mb()

    def hybrid(vector: np.ndarray, words: list[str]) -> list[int]:
        fused: dict[int, float] = {}
        for side in (index.dense_search(vector, DEPTH), index.sparse_search(words, DEPTH)):
            for rank, (point, _) in enumerate(side):
                fused[point] = fused.get(point, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused, key=fused.__getitem__, reverse=True)[:K]

    for n in range(min(10, queries)):  # warm up caches and lazily loaded files
        hybrid(vectors[n], terms[n])
    dense_ms, hybrid_ms = [], []
    for vector, words in zip(vectors, terms, strict=True):
        started = time.perf_counter()
        index.dense_search(vector, K)
        dense_ms.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        hybrid(vector, words)
        hybrid_ms.append(1000 * (time.perf_counter() - started))
    result = {
        "dense_p50_ms": round(float(np.percentile(dense_ms, 50)), 2),
        "dense_p95_ms": round(float(np.percentile(dense_ms, 95)), 2),
        "hybrid_p50_ms": round(float(np.percentile(hybrid_ms, 50)), 2),
        "hybrid_p95_ms": round(float(np.percentile(hybrid_ms, 95)), 2),
        "rss_loaded_mb": round(loaded_rss),
        "rss_after_queries_mb": round(_rss_mb()),
        "points": index.count(),
    }
    index.close()
    return result


def _child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--stores",
        default="faiss,qdrant-edge",
        help="comma-separated: faiss, qdrant-edge, qdrant (qdrant-client's local mode: slow by"
        " design, use a small --passages such as 10000)",
    )
    parser.add_argument("--phase", choices=["build", "query"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(build(args.store, args.folder, args.passages)))
        return
    if args.phase == "query":
        print(json.dumps(query(args.store, args.folder, args.queries)))
        return
    results: dict[str, object] = {
        "passages": args.passages,
        "dim": DIM,
        "queries": args.queries,
        "cpus": os.cpu_count(),
    }
    root = Path(tempfile.mkdtemp(prefix="rag-scale-"))
    try:
        for store in args.stores.split(","):
            folder = root / store
            common = ["--store", store, "--folder", str(folder), "--passages", str(args.passages)]
            figures = _child("--phase", "build", *common)
            figures |= _child("--phase", "query", *common, "--queries", str(args.queries))
            results[store] = figures
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
