"""The ``qdrant`` passage index: a Qdrant server or cluster, through ``qdrant-client``.

The same points as the embedded shard (``rag.index.qdrant_common``) in one collection per
embedder, ``rag-<embedder>-<dim>``, on the server ``RAG_QDRANT_URL`` names (``:memory:`` is
qdrant-client's local mode, in-process and not persisted: for tests). Builds share the
collection as they share the shard: a rebuild upserts only the passages it lacks and, once
the new build is current, deletes the ones no build needs; the average passage length the
sparse weights were computed with is kept in the collection's metadata.

The collection belongs to one index folder: another index folder building into the same
collection would delete this one's passages.

Every request has a timeout (``RAG_QDRANT_TIMEOUT``); an unreachable server is a
``StoreUnavailableError``, a refused API key a ``ConfigError``, each saying what to do.
The key is never logged nor written into the manifest.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from rag.errors import ConfigError, IndexError_, StoreUnavailableError
from rag.index.passage_index import Scored
from rag.index.qdrant_common import DENSE, SPARSE, QdrantPassages, require, store_name

__all__ = [
    "INSTALL_HINT",
    "LENGTH_KEY",
    "QdrantServerPassageIndex",
    "close_all",
    "collection_name",
    "connect",
    "display_url",
    "require_qdrant_client",
    "shared_client",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'rag-footnotes[qdrant-server]'"
LENGTH_KEY = "rag_average_length"  # in the collection's metadata
MEMORY = ":memory:"

T = TypeVar("T")

_clients: dict[str, Any] = {}  # server URL -> QdrantClient, shared in this process
_clients_lock = threading.Lock()


def require_qdrant_client() -> Any:
    """The ``qdrant_client`` module, or a ConfigError saying how to install it."""
    return require("qdrant_client", "qdrant", "qdrant-client", INSTALL_HINT)


def collection_name(embedder: str, dim: int) -> str:
    """The server collection for this embedder (another embedder means another one)."""
    return f"rag-{store_name(embedder, dim)}"


def display_url(url: str) -> str:
    """``url`` without any user or password in it: what messages and the manifest show."""
    parts = urlsplit(url)
    if parts.hostname is None or "@" not in parts.netloc:
        return url
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=host))


def connect(url: str, api_key: str = "", timeout: float = 10.0) -> Any:
    """This process's client for the server at ``url`` (made on first use, then shared)."""
    qdrant_client = require_qdrant_client()
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            if url == MEMORY:
                client = qdrant_client.QdrantClient(location=MEMORY)
            else:
                if api_key and urlsplit(url).scheme == "http":
                    log.warning(
                        "the Qdrant API key goes to %s unencrypted: use https", display_url(url)
                    )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the client's own warning says the same
                    client = qdrant_client.QdrantClient(
                        url=url,
                        api_key=api_key or None,
                        timeout=max(1, math.ceil(timeout)),
                        check_compatibility=False,  # it would ask before we can explain
                    )
            _clients[url] = client
        return client


def shared_client(url: str) -> Any | None:
    """The client this process already has for ``url``, if any."""
    with _clients_lock:
        return _clients.get(url)


def close_all() -> None:
    """Close every client this process opened (local-mode collections are dropped)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def _call(url: str, what: str, request: Callable[[], T]) -> T:
    """``request()``, with the client's failures turned into messages naming the fix."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    where = display_url(url)
    try:
        return request()
    except UnexpectedResponse as err:
        if err.status_code in (401, 403):
            raise ConfigError(
                f"the Qdrant server at {where} refused the API key while {what}: set"
                " RAG_QDRANT_API_KEY to the server's key"
            ) from None
        raise StoreUnavailableError(
            f"the Qdrant server at {where} answered {err.status_code} {err.reason_phrase}"
            f" while {what}: check its log, and that RAG_QDRANT_URL names a Qdrant server"
        ) from None
    except (ResponseHandlingException, OSError) as err:
        reason = getattr(err, "source", err)
        raise StoreUnavailableError(
            f"cannot reach the Qdrant server at {where} while {what}"
            f" ({type(reason).__name__}: {str(reason) or 'no answer'}): start it (README,"
            " 'Scaling out') or set RAG_QDRANT_URL to where it runs"
        ) from None
    except (json.JSONDecodeError, ValidationError):
        raise StoreUnavailableError(
            f"the server at {where} does not answer as a Qdrant server while {what}:"
            " set RAG_QDRANT_URL to a Qdrant server's address"
        ) from None


class QdrantServerPassageIndex(QdrantPassages):
    """Passages as points of a collection on a Qdrant server."""

    def __init__(
        self,
        client: Any,
        url: str,
        collection: str,
        dim: int,
        *,
        create: bool = False,
        average_length: float = 1.0,
        frequencies: dict[str, int] | None = None,
        sparse: bool = True,
    ) -> None:
        from qdrant_client import models

        self._m = models
        self._client = client
        self.url = url
        self.collection = collection
        self.dim = dim
        self.sparse = sparse
        self.average_length = average_length
        self._frequencies = frequencies or {}
        exists = self._call(
            "looking for its collection", lambda: client.collection_exists(collection)
        )
        if not exists and not create:
            raise IndexError_(
                f"the Qdrant server at {display_url(url)} has no collection {collection!r}"
                " (a new server, or an in-memory one): run `rag index`"
            )
        if not exists:
            self._call("creating its collection", lambda: self._create(collection, dim))

    def _create(self, collection: str, dim: int) -> None:
        """A passage collection: dense (HNSW) and sparse vectors. A sentence collection: dense
        vectors on disk without an HNSW graph (``m=0``), since they are only read by id."""
        m = self._m
        if self.sparse:
            self._client.create_collection(
                collection,
                vectors_config={DENSE: m.VectorParams(size=dim, distance=m.Distance.DOT)},
                sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            )
            return
        dense = m.VectorParams(
            size=dim, distance=m.Distance.DOT, on_disk=True, hnsw_config=m.HnswConfigDiff(m=0)
        )
        self._client.create_collection(collection, vectors_config={DENSE: dense})

    def _call(self, what: str, request: Callable[[], T]) -> T:
        return _call(self.url, what, request)

    def _sparse(self, weights: dict[int, float]) -> Any:
        keys = sorted(weights)
        return self._m.SparseVector(indices=keys, values=[weights[k] for k in keys])

    # -- writing -------------------------------------------------------------------------------

    def _put(self, points: list[tuple[int, list[float], dict[int, float]]]) -> None:
        batch = [
            self._m.PointStruct(
                id=p,
                vector={DENSE: dense, SPARSE: self._sparse(w)} if self.sparse else {DENSE: dense},
            )
            for p, dense, w in points
        ]
        self._call(
            "upserting passages",
            lambda: self._client.upsert(self.collection, points=batch, wait=True),
        )

    def _put_terms(self, points: list[tuple[int, dict[int, float]]]) -> None:
        batch = [self._m.PointVectors(id=p, vector={SPARSE: self._sparse(w)}) for p, w in points]
        self._call(
            "updating passage weights",
            lambda: self._client.update_vectors(self.collection, points=batch, wait=True),
        )

    def _remove(self, ids: list[int]) -> None:
        selector = self._m.PointIdsList(points=ids)
        self._call(
            "deleting passages",
            lambda: self._client.delete(self.collection, points_selector=selector, wait=True),
        )

    def recorded_length(self) -> float | None:
        info = self._call(
            "reading its collection", lambda: self._client.get_collection(self.collection)
        )
        try:
            return float((info.config.metadata or {})[LENGTH_KEY])
        except (KeyError, TypeError, ValueError):
            return None

    def record_length(self) -> None:
        metadata = {LENGTH_KEY: self.average_length}
        self._call(
            "recording the average passage length",
            lambda: self._client.update_collection(self.collection, metadata=metadata),
        )

    def ids(self) -> set[int]:
        found: set[int] = set()
        offset = None
        while True:
            records, offset = self._call(
                "listing its passages",
                lambda offset=offset: self._client.scroll(
                    self.collection,
                    limit=10_000,
                    offset=offset,
                    with_payload=False,
                    with_vectors=False,
                ),
            )
            found.update(int(r.id) for r in records)
            if offset is None:
                return found

    def flush(self) -> None:
        pass  # every write waits for the server to apply it

    def optimize(self) -> None:
        pass  # the server's optimizers index the vectors on their own

    def close(self) -> None:
        pass  # the client is shared by this process (close_all closes it)

    # -- reading -------------------------------------------------------------------------------

    def count(self) -> int:
        return int(
            self._call(
                "counting passages", lambda: self._client.count(self.collection, exact=True)
            ).count
        )

    def _nearest(
        self, query: list[float] | dict[int, float], limit: int, ids: Sequence[int] | None
    ) -> Scored:
        m = self._m
        using, vector = (SPARSE, self._sparse(query)) if isinstance(query, dict) else (DENSE, query)
        where = m.Filter(must=[m.HasIdCondition(has_id=list(ids))]) if ids is not None else None
        found = self._call(
            "searching passages",
            lambda: self._client.query_points(
                self.collection,
                query=vector,
                using=using,
                limit=limit,
                query_filter=where,
                with_payload=False,
            ),
        )
        return [(int(p.id), float(p.score)) for p in found.points]

    def _dense_vectors(self, ids: list[int]) -> dict[int, Sequence[float]]:
        records = self._call(
            "reading passage vectors",
            lambda: self._client.retrieve(
                self.collection, ids=ids, with_payload=False, with_vectors=[DENSE]
            ),
        )
        return {int(r.id): r.vector[DENSE] for r in records}
