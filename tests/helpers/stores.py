"""The passage stores tests run on (``RAG_STORE``), and closing the embedded ones.

``STORES`` are the stores every ``store_settings`` test runs on; the ``qdrant`` server store
runs them through qdrant-client's local mode (``QDRANT_TEST_URL``) in tests/test_qdrant_server.py.
"""

from __future__ import annotations

import importlib.util

import pytest

import rag

needs_qdrant = pytest.mark.skipif(
    importlib.util.find_spec("qdrant_edge") is None,
    reason="qdrant-edge-py is not installed: pip install 'rag-footnotes[qdrant]'",
)
needs_qdrant_client = pytest.mark.skipif(
    importlib.util.find_spec("qdrant_client") is None,
    reason="qdrant-client is not installed: pip install 'rag-footnotes[qdrant-server]'",
)
STORES = ["faiss", pytest.param("qdrant-edge", marks=needs_qdrant)]
QDRANT_TEST_URL = ":memory:"  # qdrant-client's local mode: the server's API, in-process


def on_store(settings: rag.Settings, store: str, **overrides: object) -> rag.Settings:
    """``settings`` on ``store`` (the ``qdrant`` one in local mode, never a network server)."""
    if store == "qdrant":
        overrides.setdefault("qdrant_url", QDRANT_TEST_URL)
    return settings.model_copy(update={"store": store, **overrides})


def close_stores() -> None:
    """Close the embedded shards this process opened (each holds a lock and threads), and
    the qdrant-client clients (a local-mode collection goes with its client)."""
    if importlib.util.find_spec("qdrant_edge") is not None:
        from rag.index.qdrant_index import close_all

        close_all()
    if importlib.util.find_spec("qdrant_client") is not None:
        from rag.index.qdrant_server import close_all as close_clients

        close_clients()
