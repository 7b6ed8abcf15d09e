"""RAG_STORE=qdrant: a Qdrant server through qdrant-client, tested in its local mode.

Local mode (``RAG_QDRANT_URL=:memory:``) is qdrant-client's own implementation of the
server's API in-process: the same calls, no server. The store contract tests that faiss and
qdrant-edge pass (``store_settings`` tests of test_index.py and test_passage_index.py) are
imported here, so pytest runs them once more with ``store_settings`` on this store. The
errors a real server can give (refused connection, silence, a refused key, a web page
instead of Qdrant) are served by sockets on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import rag
from helpers.stores import close_stores, needs_qdrant_client, on_store
from rag.errors import ConfigError, IndexError_, StoreUnavailableError
from rag.index.build import build_index, load_current
from rag.index.embeddings import HashEmbedder

# The contract, run again on this store (pytest collects imported tests in this module, where
# ``store_settings`` is the fixture below).
from test_index import (  # noqa: F401
    test_a_new_document_is_picked_up,
    test_build_writes_a_manifest_describing_the_index,
    test_failed_build_leaves_the_previous_index_intact,
    test_forced_rebuild_reuses_every_cached_vector,
    test_rebuild_re_embeds_only_the_changed_sentence,
    test_second_build_is_up_to_date_and_embeds_nothing,
)
from test_passage_index import (  # noqa: F401
    test_a_build_killed_before_the_swap_leaves_the_shard_serving_the_previous_build,
    test_a_removed_document_leaves_no_points,
    test_an_edited_passage_replaces_its_point,
    test_the_store_is_recorded_and_a_rebuild_keeps_one_point_per_passage,
)

pytestmark = [needs_qdrant_client, pytest.mark.usefixtures("clean_rag_env")]

SECRET = "s3cret-key-never-shown"


@pytest.fixture
def store_settings(hash_settings: rag.Settings) -> Iterator[rag.Settings]:
    """``hash_settings`` on the qdrant store, in qdrant-client's local mode."""
    yield on_store(hash_settings, "qdrant")
    close_stores()


def test_the_collection_is_named_by_embedder_and_records_the_average_length(
    store_settings: rag.Settings,
) -> None:
    from rag.index.qdrant_server import LENGTH_KEY, connect

    build_index(store_settings, HashEmbedder())
    store = load_current(store_settings)
    manifest = store.manifest
    collection = f"rag-hash-{HashEmbedder().dim}"
    assert manifest["qdrant"] == {"url": ":memory:", "collection": collection}
    info = connect(":memory:").get_collection(collection)
    assert info.config.metadata[LENGTH_KEY] == manifest["sparse"]["average_length"]
    assert info.config.params.sparse_vectors["terms"].modifier.value == "idf"


def test_a_lost_collection_is_an_index_error_and_rebuilt_on_use(
    store_settings: rag.Settings,
) -> None:
    build_index(store_settings, HashEmbedder())
    close_stores()  # the in-memory server is gone, as a new, empty server would be
    with pytest.raises(IndexError_, match=r"no collection 'rag-hash-\d+'.*run `rag index`"):
        load_current(store_settings)
    assistant = rag.Assistant(store_settings)
    assert assistant.retrieve("Рашад Набиев", k=1)  # rebuilt on first use
    assert load_current(store_settings).passage_index.count() == len(assistant.store().passages)


# -- a server that cannot be used: a rag error naming the fix, quickly ------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


class _Refusing(http.server.BaseHTTPRequestHandler):
    """Answers 401 to every request, as a Qdrant server with another API key."""

    status, content_type = 401, "application/json"
    body = json.dumps({"status": {"error": "Must provide an API key"}}).encode()

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("content-type", self.content_type)
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = do_POST = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args: Any) -> None:
        pass


class _WebPage(_Refusing):
    """Answers every request with a web page: a URL that is not a Qdrant server's."""

    status, content_type, body = 200, "text/html", b"<html><body>Welcome</body></html>"


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # Polled every 50 ms, not 0.5 s: shutdown() waits for the next poll.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def refusing_port() -> Iterator[int]:
    yield from _serve(_Refusing)


@pytest.fixture
def web_page_port() -> Iterator[int]:
    yield from _serve(_WebPage)


def _on_server(settings: rag.Settings, port: int) -> rag.Settings:
    return on_store(
        settings,
        "qdrant",
        qdrant_url=f"http://127.0.0.1:{port}",
        qdrant_api_key=rag.settings.SecretStr(SECRET),
        qdrant_timeout=1.0,
    )


def test_an_unreachable_server_is_a_store_error_naming_the_setting(
    hash_settings: rag.Settings, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _on_server(hash_settings, closed_port)
    with pytest.raises(StoreUnavailableError, match="cannot reach the Qdrant server") as err:
        build_index(settings, HashEmbedder())
    assert "RAG_QDRANT_URL" in str(err.value) and err.value.__cause__ is None
    assert SECRET not in str(err.value) + caplog.text
    close_stores()


def test_a_silent_server_times_out_instead_of_hanging(
    hash_settings: rag.Settings, silent_port: int
) -> None:
    settings = _on_server(hash_settings, silent_port)
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="ReadTimeout"):
        build_index(settings, HashEmbedder())
    assert time.monotonic() - started < 5  # the 1 s timeout, not a hang
    close_stores()


def test_a_refused_api_key_is_a_config_error_that_never_shows_the_key(
    hash_settings: rag.Settings, refusing_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _on_server(hash_settings, refusing_port)
    with caplog.at_level(logging.DEBUG), pytest.raises(ConfigError, match="RAG_QDRANT_API_KEY"):
        build_index(settings, HashEmbedder())
    assert SECRET not in caplog.text
    assert "unencrypted" in caplog.text  # the key went over plain http: said once, key unsaid
    assert SECRET not in repr(settings)
    close_stores()


def test_a_url_that_is_not_a_qdrant_server_says_so(
    hash_settings: rag.Settings, web_page_port: int
) -> None:
    with pytest.raises(StoreUnavailableError, match="does not answer as a Qdrant server"):
        build_index(_on_server(hash_settings, web_page_port), HashEmbedder())
    close_stores()


def test_the_cli_says_what_is_wrong_without_a_traceback(
    hash_settings: rag.Settings,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    from rag.cli import main

    monkeypatch.setenv("RAG_DOCS_DIR", str(hash_settings.docs_dir))
    monkeypatch.setenv("RAG_INDEX_DIR", str(hash_settings.index_dir))
    monkeypatch.setenv("RAG_EMBED_MODEL", "hash")
    monkeypatch.setenv("RAG_STORE", "qdrant")
    monkeypatch.setenv("RAG_QDRANT_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("RAG_QDRANT_TIMEOUT", "1")
    assert main(["index"]) != 0
    err = capsys.readouterr().err
    assert "cannot reach the Qdrant server" in err and "Traceback" not in err
    close_stores()


@pytest.mark.integration
def test_the_dev_set_is_answered_as_on_faiss(
    real_assistant: rag.Assistant, real_embedder: Any, dev_set: list[dict[str, Any]]
) -> None:
    settings = real_assistant.settings
    qdrant = rag.Assistant(
        on_store(settings, "qdrant", index_dir=settings.index_dir.parent / "on-qdrant"),
        embedder=real_embedder,
    )
    qdrant.build_index()
    try:
        for item in dev_set:
            question = str(item["question"])
            assert qdrant.query(question).text == real_assistant.query(question).text, question
    finally:
        close_stores()
