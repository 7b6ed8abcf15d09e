"""Embedders, the embedding cache and the llama-index adapter."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ConfigError, RagError
from rag.index.embedding_adapter import LlamaIndexEmbedding
from rag.index.embeddings import (
    Embedder,
    EmbeddingCache,
    HashEmbedder,
    PairedEmbedder,
    make_embedder,
    word_embedder,
)

TEXTS = [
    "Обе стороны подтвердили решимость укреплять отношения.",
    "Министр транспорта поставил цель в 5 миллионов тонн.",
    "The Kremlin press service said both sides confirmed it.",
]


class CountingEmbedder:
    """Wraps an embedder and counts the texts it was asked to embed."""

    def __init__(self, inner: HashEmbedder, name: str = "hash") -> None:
        self.inner = inner
        self.name = name
        self.dim = inner.dim
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self.inner.encode(texts)


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashEmbedder()
    first = embedder.encode(TEXTS)
    second = HashEmbedder().encode(TEXTS)
    assert first.dtype == np.float32
    assert first.shape == (3, embedder.dim)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)


def test_hash_embedder_handles_empty_text_without_nan() -> None:
    vectors = HashEmbedder(dim=32).encode(["", "!!!"])
    assert vectors.shape == (2, 32)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_hash_embedder_puts_texts_sharing_words_closer() -> None:
    a, b, c = HashEmbedder().encode(
        ["железная дорога Баку", "железные дороги Баку", "газ Европа поставки"]
    )
    assert a @ b > a @ c


def test_cache_reuses_vectors_across_instances(tmp_path: Path) -> None:
    embedder = CountingEmbedder(HashEmbedder())
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    vectors, fresh = cache.embed(embedder, TEXTS)
    assert fresh == 3
    cache.close()

    reopened = EmbeddingCache(tmp_path / "cache.sqlite")
    again, fresh_again = reopened.embed(embedder, TEXTS)
    reopened.close()
    assert fresh_again == 0
    assert embedder.calls == [3]
    np.testing.assert_array_equal(vectors, again)
    np.testing.assert_array_equal(vectors, HashEmbedder().encode(TEXTS))


def test_cache_embeds_only_new_and_deduplicated_texts(tmp_path: Path) -> None:
    embedder = CountingEmbedder(HashEmbedder())
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.embed(embedder, TEXTS[:2])
    vectors, fresh = cache.embed(embedder, [TEXTS[2], TEXTS[0], TEXTS[2]])
    cache.close()
    assert fresh == 1
    assert embedder.calls == [2, 1]
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_cache_is_keyed_per_embedder_name(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.embed(CountingEmbedder(HashEmbedder(), name="model-a"), TEXTS)
    other = CountingEmbedder(HashEmbedder(), name="model-b")
    _, fresh = cache.embed(other, TEXTS)
    cache.close()
    assert fresh == 3
    assert other.calls == [3]


def test_cache_never_returns_vectors_of_another_dimension(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.embed(HashEmbedder(dim=256), TEXTS)
    vectors, fresh = cache.embed(HashEmbedder(dim=64), TEXTS)
    cache.close()
    assert fresh == 3
    assert vectors.shape == (3, 64)


def test_make_embedder_knows_hash() -> None:
    embedder = make_embedder("hash")
    assert embedder.name == "hash"
    assert embedder.encode(["x"]).shape == (1, embedder.dim)


def test_paired_embedder_scores_the_mean_of_both_cosines() -> None:
    first, second = HashEmbedder(dim=64), HashEmbedder(dim=32)
    paired = PairedEmbedder("pair", first, second)
    vectors = paired.encode(TEXTS)
    assert vectors.shape == (3, 96) and paired.dim == 96
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    a, b = first.encode(TEXTS), second.encode(TEXTS)
    expected = (a[0] @ a[2] + b[0] @ b[2]) / 2
    assert float(vectors[0] @ vectors[2]) == pytest.approx(float(expected), abs=1e-5)
    assert paired.encode([]).shape == (0, 96)


def test_words_are_embedded_by_the_first_encoder_of_a_pair() -> None:
    first = HashEmbedder(dim=64)
    assert word_embedder(PairedEmbedder("pair", first, HashEmbedder(dim=32))) is first
    alone = HashEmbedder()
    assert word_embedder(alone) is alone


def test_unknown_embedder_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="use-multilingual") as caught:
        make_embedder("word2vec")
    assert isinstance(caught.value, RagError)
    assert "word2vec" in str(caught.value)


def test_llama_index_adapter_returns_the_embedders_vectors() -> None:
    inner = HashEmbedder(dim=64)
    adapter = LlamaIndexEmbedding(inner)
    assert adapter.model_name == "hash"
    expected = inner.encode(TEXTS)
    np.testing.assert_allclose(adapter.get_text_embedding(TEXTS[0]), expected[0], rtol=1e-6)
    np.testing.assert_allclose(adapter.get_query_embedding(TEXTS[1]), expected[1], rtol=1e-6)
    batch = adapter.get_text_embedding_batch(TEXTS)
    np.testing.assert_allclose(np.asarray(batch), expected, rtol=1e-6)


@pytest.mark.integration
def test_real_embedder_is_normalised_and_multilingual(real_embedder: Embedder) -> None:
    ru, en, other = real_embedder.encode(
        [
            "Обе стороны подтвердили решимость укреплять союзнические отношения.",
            "Both sides confirmed their resolve to strengthen allied relations.",
            "Рецепт борща со свёклой и капустой.",
        ]
    )
    assert real_embedder.dim == 512
    np.testing.assert_allclose(np.linalg.norm([ru, en, other], axis=1), 1.0, rtol=1e-4)
    assert ru @ en > ru @ other + 0.2
    empty = real_embedder.encode([])
    assert empty.shape == (0, 512)
