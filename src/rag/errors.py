"""Every error the package raises on purpose is a :class:`RagError`.

Messages are written for the person at the keyboard: they say what is wrong and what to do.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DocumentError",
    "FetchError",
    "IndexBusyError",
    "IndexError_",
    "InvalidQuestionError",
    "LLMError",
    "RagError",
    "StoreUnavailableError",
]


class RagError(Exception):
    """Base class of every error raised on purpose by :mod:`rag`."""


class ConfigError(RagError):
    """A setting is missing or has a value we cannot use."""


class DocumentError(RagError):
    """The corpus cannot be read (no documents, unreadable directory)."""


class IndexError_(RagError):  # noqa: N801, N818 - avoid shadowing the builtin IndexError
    """The persisted index is unusable and cannot be rebuilt automatically."""


class IndexBusyError(IndexError_):
    """Another process is rebuilding the index right now."""


class StoreUnavailableError(RagError):
    """The passage store's server (``RAG_STORE=qdrant``) cannot be reached or failed."""


class InvalidQuestionError(RagError):
    """The question cannot be answered as given (empty, too long, not text)."""


class LLMError(RagError):
    """The configured LLM could not be reached or gave an unusable reply."""


class FetchError(RagError):
    """A footnote's source could not be fetched (the reason says why)."""
