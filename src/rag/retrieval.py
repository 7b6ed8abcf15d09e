"""Hybrid retrieval: dense and BM25 (through the passage index), fused by reciprocal rank.

The dense side carries questions across languages (an English question finds a Russian
passage); BM25 carries exact names, numbers and titles. Reciprocal-rank fusion needs no
score calibration between the two.

Why not llama-index's ``QueryFusionRetriever``: it runs through async machinery and node
objects that cost more than the whole answer may take (our budget is a few milliseconds),
and its BM25 retriever stems one language only. The same method, over flat arrays, is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.corpus.text import search_terms
from rag.index.store import IndexStore
from rag.query import Query

__all__ = ["RRF_K", "Hit", "hybrid_search"]

# The usual constant of reciprocal-rank fusion (Cormack et al., 2009): ranks below ~60
# matter little, so a passage high in one list and absent from the other still ranks well.
RRF_K = 60
ENTRY_DEMOTION = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage: its row in the store, fused score, and the two sides' scores."""

    row: int
    score: float
    dense: float
    lexical: float


def hybrid_search(store: IndexStore, query: Query, k: int, *, depth: int = 50) -> list[Hit]:
    """The ``k`` best passages for a question, best first."""
    query_vector = query.vector
    total = len(store.passages)
    if total == 0:
        return []
    depth = min(total, max(depth, k))
    index, row_of = store.passage_index, store.row_of
    # A point no row knows is left over from a build that did not finish: never shown.
    dense = {row_of[p]: s for p, s in index.dense_search(query_vector, depth) if p in row_of}
    # BM25 reads the question's words and their translations into the corpus's other
    # languages (rag.corpus.lexicon): "missile" also looks for «ракет», as a bilingual reader would.
    terms = search_terms(query.text) + query.translated_terms
    lexical = {row_of[p]: s for p, s in index.sparse_search(terms, depth) if p in row_of}
    lexical_rank = list(lexical)

    # Footnote entries are metadata: on the dense side their titles, often in the question's
    # language, would crowd out the passages an English question is about (the article is
    # Russian). They keep full credit for questions about sources, and the entry whose words
    # match the question best (BM25's first) keeps it too: the user quoted its title.
    entry_weight = 1.0 if query.about_sources else ENTRY_DEMOTION
    title_match = lexical_rank[0] if lexical_rank else -1
    fused: dict[int, float] = {}
    for rank, row in enumerate(dense):
        demote = store.passages[row].kind == "footnote" and row != title_match
        weight = entry_weight if demote else 1.0
        fused[row] = weight / (RRF_K + rank + 1)
    for rank, row in enumerate(lexical_rank):
        fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
    ids = store.point_ids
    missing = [r for r in best if r not in dense]
    if missing:
        # A BM25-only hit still gets its true cosine, for the answerer to weigh.
        vectors = index.vectors([int(ids[r]) for r in missing])
        dense.update(zip(missing, (vectors @ query_vector).tolist(), strict=True))
    unscored = [r for r in best if r not in lexical]
    if unscored:
        # ... and a dense-only hit its BM25 score, below the sparse side's cut or not.
        scores = index.sparse_scores(terms, [int(ids[r]) for r in unscored])
        lexical.update(zip(unscored, scores, strict=True))
    return [Hit(r, fused[r], dense[r], float(lexical[r])) for r in best]
