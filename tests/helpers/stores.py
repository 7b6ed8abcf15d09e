"""The passage stores tests run on (``RAG_STORE``), and closing the embedded ones."""

from __future__ import annotations

import importlib.util

import pytest

needs_qdrant = pytest.mark.skipif(
    importlib.util.find_spec("qdrant_edge") is None,
    reason="qdrant-edge-py is not installed: pip install 'rag-footnotes[qdrant]'",
)
STORES = ["faiss", pytest.param("qdrant-edge", marks=needs_qdrant)]


def close_stores() -> None:
    """Close the embedded shards this process opened (each holds a lock and threads)."""
    if importlib.util.find_spec("qdrant_edge") is not None:
        from rag.qdrant_index import close_all

        close_all()
