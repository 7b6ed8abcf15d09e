"""Token counting with tiktoken's ``cl100k_base``, offline.

tiktoken would download its encoding on first use; llama-index-core ships a copy, so we point
tiktoken at it (only when asked for an encoder, never at import).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import tiktoken

__all__ = ["count_tokens", "encoding"]


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The ``cl100k_base`` encoding, loaded from llama-index-core's bundled cache."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        import llama_index.core

        bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
        os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """How many ``cl100k_base`` tokens ``text`` takes."""
    return len(encoding().encode(text, disallowed_special=()))
