"""Settings: one object, read from ``RAG_*`` environment variables or given explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EMBED_MODELS", "LLM_BACKENDS", "STORES", "Settings", "load_settings"]

EMBED_MODELS = ("use-multilingual", "e5-small", "use+e5", "hash")
LLM_BACKENDS = ("none", "openai-like")
STORES = ("faiss", "qdrant-edge", "qdrant")


def load_settings(**overrides: object) -> Settings:
    """``Settings`` from the environment plus ``overrides``; a bad value is a ConfigError
    naming the variable, not a pydantic traceback."""
    from pydantic import ValidationError

    from rag.errors import ConfigError

    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = "; ".join(
            f"RAG_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else e["msg"]
            for e in err.errors()
        )
        raise ConfigError(f"invalid setting ({problems}): fix the value and retry") from None


class Settings(BaseSettings):
    """Everything that shapes the assistant. ``Settings(top_k=8)`` or ``RAG_TOP_K=8``."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid", frozen=True)

    docs_dir: Path = Path("docs")
    index_dir: Path = Path("index")
    embed_model: Literal["use-multilingual", "e5-small", "use+e5", "hash"] = "use-multilingual"
    embed_threads: int = Field(2, ge=1, le=64)
    # Where passages are searched: FAISS + bm25s files in each build, the Qdrant engine
    # in-process (`pip install 'rag-footnotes[qdrant]'`), one shard under index/qdrant/, or a
    # Qdrant server or cluster (`pip install 'rag-footnotes[qdrant-server]'`) at qdrant_url.
    store: Literal["faiss", "qdrant-edge", "qdrant"] = "faiss"
    qdrant_url: str = "http://localhost:6333"  # ":memory:": qdrant-client's local mode (tests)
    qdrant_api_key: SecretStr = SecretStr("")
    qdrant_timeout: float = Field(10.0, gt=0, le=600)  # seconds, each request to the server
    # A calibration profile (rag.profile) other than the one shipped for the embedder.
    profile: Path | None = None

    llm: Literal["none", "openai-like"] = "none"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr = SecretStr("")
    # Sized for a CPU server at ~20 tokens/s: reading a ~2,700-token prompt can take a
    # minute before the first token, 256 tokens (a few sentences) about 13 s after it.
    llm_timeout: float = Field(120.0, gt=0, le=600)  # the whole answer, first token included
    llm_idle_timeout: float = Field(20.0, gt=0, le=600)  # silence between streamed pieces
    llm_max_tokens: int = Field(256, ge=16, le=8192)
    llm_context_tokens: int = Field(3000, ge=256, le=200_000)

    top_k: int = Field(5, ge=1, le=50)
    chunk_tokens: int = Field(160, ge=16, le=2048)
    max_question_chars: int = Field(2000, ge=10, le=100_000)

    fetch_timeout: float = Field(10.0, gt=0, le=120)
    fetch_max_bytes: int = Field(5_000_000, ge=1_000)
    fetch_max_redirects: int = Field(3, ge=0, le=10)
    # Only for tests that serve pages on 127.0.0.1: never enable against the real web.
    fetch_allow_loopback: bool = False

    @field_validator("llm_base_url", "qdrant_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")
