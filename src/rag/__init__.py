"""Document QA with verified, footnote-grounded citations.

>>> import rag
>>> answer = rag.query("Как Песков охарактеризовал разговор?")
>>> answer.text, answer.citations[0].footnotes[0].publisher

The module-level functions use one lazily created, cached, thread-safe :class:`Assistant`
configured from ``RAG_*`` environment variables. Importing ``rag`` loads no model, reads no
file and touches no network.
"""

from __future__ import annotations

import threading
from pathlib import Path

from rag.assistant import Assistant
from rag.errors import RagError
from rag.models import Answer, Citation, Footnote, IndexStats, Passage
from rag.settings import Settings, load_settings

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Footnote",
    "IndexStats",
    "Passage",
    "RagError",
    "Settings",
    "build_index",
    "default_assistant",
    "query",
    "retrieve",
]

__version__ = "0.1.0"


def __dir__() -> list[str]:
    """The public API only (not ``Path``, ``threading`` or the submodules)."""
    return sorted([*__all__, "__version__"])


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The shared assistant behind :func:`query`, :func:`retrieve` and :func:`build_index`."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Assistant(load_settings())
    return _default


def query(question: str, *, k: int | None = None) -> Answer:
    """Answer ``question`` from the documents, every claim with its citation."""
    return default_assistant().query(question, k=k)


def retrieve(question: str, k: int = 5) -> list[Passage]:
    """The ``k`` passages that best match ``question``."""
    return default_assistant().retrieve(question, k)


def build_index(
    docs_dir: str | Path | None = None,
    index_dir: str | Path | None = None,
    *,
    fetch: bool = False,
    force: bool = False,
) -> IndexStats:
    """Build the index (only what changed is re-embedded); fetch sources first if asked."""
    if docs_dir is None and index_dir is None:
        assistant = default_assistant()
    else:
        base = default_assistant().settings if _default else load_settings()
        overrides = {
            key: Path(value)
            for key, value in (("docs_dir", docs_dir), ("index_dir", index_dir))
            if value is not None
        }
        assistant = Assistant(base.model_copy(update=overrides))
    if fetch:
        assistant.fetch_sources()
    return assistant.build_index(force=force)
