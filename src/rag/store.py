"""One build of the index on disk, and the same build loaded in memory for queries.

Passages are llama-index ``TextNode``s in a ``FaissVectorStore`` (inner product on normalised
vectors) persisted with a ``StorageContext``. Beside them: the documents' texts (citations
quote them by offset), the BM25 side and the sentence vectors the answerer quotes from.
Queries never touch llama-index objects: at load time everything becomes flat arrays, so a
query costs one embedding, one FAISS search, one BM25 lookup and a few small matrix products.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer_types import AnswerType, types_in
from rag.chunking import Chunk
from rag.documents import Document
from rag.errors import IndexError_
from rag.footnotes import Scope, labels_in
from rag.lexicon import Lexicon
from rag.models import Footnote
from rag.text import detect_language, is_heading, numbers, search_terms

__all__ = ["FLAT_LIMIT", "DocRecord", "IndexStore", "PassageRecord", "vector_index", "write_store"]

# Up to this many passages a flat (exact) inner-product index answers in a few ms. Beyond it
# a flat scan reads every vector for every question (100k x 512 floats: ~23 ms here), so the
# index becomes HNSW: approximate, but under a millisecond at 100k passages.
FLAT_LIMIT = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128


def vector_index(dim: int, count: int) -> Any:
    """A FAISS inner-product index suited to ``count`` normalised vectors."""
    import faiss

    if count <= FLAT_LIMIT:
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


@dataclass(frozen=True, slots=True)
class DocRecord:
    """What a citation needs of a document: its id, title, full text and footnotes."""

    doc_id: str
    title: str
    path: str
    text: str
    footnotes: dict[str, Footnote]
    source_label: str | None
    scopes: tuple[Scope, ...] = ()  # footnote scopes and footnote-list entries

    def labels_in(self, start: int, end: int) -> list[str]:
        """Labels whose scope (or footnote entry) intersects ``text[start:end]``."""
        if self.source_label is not None:
            return [self.source_label]
        return labels_in(self.scopes, start, end)

    def footnote(self, label: str) -> Footnote:
        """The footnote ``label`` (a bare one when the list has no entry for it)."""
        return self.footnotes.get(label) or Footnote(label=label)


@dataclass(frozen=True, slots=True)
class UnitFeatures:
    """A sentence's (or clause window's) search terms, language, numbers, and whether it is
    a heading."""

    terms: frozenset[str]
    language: str
    numbers: set[str]
    heading: bool
    types: frozenset[AnswerType]  # the kinds of answer it holds (a figure, a sum, a date)


@dataclass(frozen=True, slots=True)
class PassageRecord:
    """A passage: ``docs[doc_id].text[start:end]``; its sentences are rows first..last-1."""

    doc_id: str
    start: int
    end: int
    paragraph: int
    labels: tuple[str, ...]
    kind: str
    first_sentence: int
    last_sentence: int


def _source_footnotes(docs: list[Document]) -> dict[str, dict[str, Footnote]]:
    """A source's footnote is the article's entry that points at it."""
    by_source: dict[str, dict[str, Footnote]] = {}
    for doc in docs:
        for note in doc.footnotes:
            if note.source_doc_id:
                by_source.setdefault(note.source_doc_id, {})[note.label] = note
    return by_source


def write_store(
    build_dir: Path,
    docs: list[Document],
    chunks: list[Chunk],
    texts: list[str],
    chunk_vectors: np.ndarray,
    sentence_rows: list[tuple[int, int, int]],
    sentence_vectors: np.ndarray,
) -> None:
    """Persist one build into ``build_dir`` (created; must not exist)."""
    import bm25s
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.faiss import FaissVectorStore

    build_dir.mkdir(parents=True)
    dim = chunk_vectors.shape[1] if len(chunk_vectors) else sentence_vectors.shape[1]
    by_id = {d.doc_id: d for d in docs}
    hidden = ["doc_id", "start", "end", "paragraph", "footnotes", "kind", "sentences"]
    nodes = []
    first = 0
    for n, (chunk, vector) in enumerate(zip(chunks, chunk_vectors, strict=True)):
        count = len(chunk.units)
        nodes.append(
            TextNode(
                id_=f"{chunk.doc_id}:{chunk.start}-{chunk.end}",
                text=by_id[chunk.doc_id].text[chunk.start : chunk.end],
                embedding=vector.tolist(),
                metadata={
                    "doc_id": chunk.doc_id,
                    "title": by_id[chunk.doc_id].title,
                    "start": chunk.start,
                    "end": chunk.end,
                    "paragraph": chunk.paragraph,
                    "footnotes": list(chunk.labels),
                    "kind": chunk.kind,
                    "sentences": [first, first + count],
                    "row": n,
                },
                excluded_embed_metadata_keys=[*hidden, "title", "row"],
                excluded_llm_metadata_keys=[*hidden, "row"],
            )
        )
        first += count
    vector_store = FaissVectorStore(faiss_index=vector_index(dim, len(nodes)))
    storage = StorageContext.from_defaults(vector_store=vector_store)
    # Vectors are already on the nodes; the mock model is never asked for one.
    VectorStoreIndex(nodes, storage_context=storage, embed_model=MockEmbedding(embed_dim=dim))
    storage.persist(persist_dir=str(build_dir))

    bm25 = bm25s.BM25()
    bm25.index([search_terms(t) or [""] for t in texts], show_progress=False)
    bm25.save(str(build_dir / "bm25"))

    np.save(build_dir / "sentences.npy", sentence_vectors.astype(np.float32))
    np.save(build_dir / "sentence_rows.npy", np.asarray(sentence_rows, dtype=np.int64))
    source_notes = _source_footnotes(docs)
    records = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "path": d.path,
            "text": d.text,
            "footnotes": [
                asdict(f) for f in (d.footnotes or source_notes.get(d.doc_id, {}).values())
            ],
            "source_label": d.source_label,
            "scopes": [(sc.label, sc.start, sc.end) for sc in d.scopes]
            + [(label, s, e) for label, (s, e) in d.entry_spans.items()],
        }
        for d in docs
    ]
    (build_dir / "docs.json").write_text(json.dumps(records, ensure_ascii=False), "utf-8")


def _check_consistent(
    path: Path,
    manifest: dict[str, Any],
    docs: dict[str, DocRecord],
    passages: list[PassageRecord],
    sentence_rows: np.ndarray,
    sentence_vectors: np.ndarray,
) -> None:
    """Files that load but disagree would fail later, mid-question: refuse them now."""
    rows = len(sentence_rows)
    if sentence_vectors.shape != (rows, manifest["dim"]) or sentence_rows.shape != (rows, 3):
        raise IndexError_(f"sentence files in {path} do not match the manifest")
    for p in passages:
        doc = docs.get(p.doc_id)
        if doc is None or not 0 <= p.start <= p.end <= len(doc.text):
            raise IndexError_(f"passage {p.doc_id}:{p.start}-{p.end} in {path} has no text")
        if not 0 <= p.first_sentence <= p.last_sentence <= rows:
            raise IndexError_(f"passage {p.doc_id}:{p.start} in {path} has no sentences")
    if rows and not (sentence_rows[:, 0].min() >= 0 and sentence_rows[:, 0].max() < len(passages)):
        raise IndexError_(f"sentence rows in {path} point at no passage")


@dataclass
class IndexStore:
    """A loaded build: flat arrays and records, read-only and safe to share between threads."""

    path: Path
    manifest: dict[str, Any]
    docs: dict[str, DocRecord]
    passages: list[PassageRecord]
    faiss_index: Any
    bm25: Any
    sentence_rows: np.ndarray
    sentence_vectors: np.ndarray
    doc_sentences: dict[str, np.ndarray]
    lexicon: Lexicon

    _unit_cache: dict[int, UnitFeatures] = field(default_factory=dict, repr=False)
    _citing_cache: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)
    _entry_cache: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    _note_terms_cache: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)
    _claims_cache: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def sentence_groups(self, passage: int) -> list[tuple[int, list[int]]]:
        """(sentence row, [its unit rows]) for a passage: whole sentences come first in a
        passage's rows, then the clause windows, each inside one of them."""
        record = self.passages[passage]
        groups: list[tuple[int, list[int]]] = []
        for row in range(record.first_sentence, record.last_sentence):
            _, start, end = self.sentence_rows[row]
            for sentence, units in groups:
                _, s_start, s_end = self.sentence_rows[sentence]
                if s_start <= start and end <= s_end:
                    units.append(row)
                    break
            else:
                groups.append((row, [row]))
        return groups

    def entry_rows(self, doc_id: str) -> dict[str, int]:
        """label -> passage row of each footnote-list entry of a document (computed once)."""
        found = self._entry_cache.get(doc_id)
        if found is None:
            found = {
                label: row
                for row in self.doc_passages(doc_id)
                if self.passages[row].kind == "footnote"
                for label in self.passages[row].labels
            }
            self._entry_cache[doc_id] = found
        return found

    def doc_passages(self, doc_id: str) -> list[int]:
        """The passage rows of a document, in order."""
        rows = self.doc_sentences.get(doc_id, np.zeros(0, dtype=np.int64))
        return sorted({int(self.sentence_rows[r][0]) for r in rows})

    def citing_sentences(self, source_doc_id: str) -> list[tuple[int, int]]:
        """(sentence row, passage row) of the article sentences under a footnote whose source
        is ``source_doc_id``: the claims that source backs (computed once per source)."""
        found = self._citing_cache.get(source_doc_id)
        if found is not None:
            return found
        source = self.docs.get(source_doc_id)
        found = []
        for doc in self.docs.values():
            note = doc.footnotes.get(source.source_label or "") if source else None
            if doc.source_label is not None or note is None or note.source_doc_id != source_doc_id:
                continue
            spans = [(sc.start, sc.end) for sc in doc.scopes if sc.label == note.label]
            for passage in self.doc_passages(doc.doc_id):
                if self.passages[passage].kind == "footnote":
                    continue  # the footnote list's entry: it names the source, claims nothing
                for sentence, _ in self.sentence_groups(passage):
                    _, start, end = (int(x) for x in self.sentence_rows[sentence])
                    if any(start < e and s < end for s, e in spans):
                        found.append((sentence, passage))
        self._citing_cache[source_doc_id] = found
        return found

    def claim_passages(self, entry: int) -> list[int]:
        """For a footnote-list entry's passage row: the rows of the passages holding the
        claims it backs (the text in its labels' scopes), in document order (computed once)."""
        found = self._claims_cache.get(entry)
        if found is None:
            record = self.passages[entry]
            doc = self.docs[record.doc_id]
            spans = [(sc.start, sc.end) for sc in doc.scopes if sc.label in record.labels]
            found = [
                row
                for row in self.doc_passages(record.doc_id)
                if self.passages[row].kind != "footnote"
                and any(
                    self.passages[row].start < end and start < self.passages[row].end
                    for start, end in spans
                )
            ]
            self._claims_cache[entry] = found
        return found

    def footnote_terms(self, sentence: int) -> frozenset[str]:
        """The search terms of the footnote-list entries a sentence cites (author, title,
        publisher): through its footnote, a claim names its source (computed once)."""
        found = self._note_terms_cache.get(sentence)
        if found is None:
            passage, start, end = (int(x) for x in self.sentence_rows[sentence])
            record = self.passages[passage]
            doc = self.docs[record.doc_id]
            terms: set[str] = set()
            if record.kind != "footnote" and doc.source_label is None:
                entries = self.entry_rows(doc.doc_id)
                for label in doc.labels_in(start, end):
                    row = entries.get(label)
                    if row is None:
                        continue
                    entry = self.passages[row]
                    for unit in range(entry.first_sentence, entry.last_sentence):
                        terms |= self.unit_features(unit).terms
            found = frozenset(terms)
            self._note_terms_cache[sentence] = found
        return found

    def unit_text(self, row: int) -> str:
        """The verbatim text of a sentence (or clause window) row."""
        passage, start, end = self.sentence_rows[row]
        return self.docs[self.passages[int(passage)].doc_id].text[int(start) : int(end)]

    def unit_features(self, row: int) -> UnitFeatures:
        """What the answerer needs of a row's text, computed once per row, not per question."""
        found = self._unit_cache.get(row)
        if found is None:
            text = self.unit_text(row)
            found = UnitFeatures(
                frozenset(search_terms(text)),
                detect_language(text),
                numbers(text),
                is_heading(text),
                types_in(text),
            )
            self._unit_cache[row] = found  # a benign race: both threads compute the same
        return found

    def idf(self, term: str) -> float | None:
        """Inverse document frequency of an index term over passages (None if unseen)."""
        column = self.bm25.vocab_dict.get(term)
        if column is None:
            return None
        indptr = self.bm25.scores["indptr"]
        df = int(indptr[column + 1] - indptr[column])
        if df == 0:
            return None
        return float(np.log((len(self.passages) + 1) / df))

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    def bm25_scores(self, question: str, extra: Sequence[str] = ()) -> np.ndarray:
        """BM25 score of every passage for ``question`` and the ``extra`` index terms (its
        words' translations), zeros when no term is known."""
        tokens = search_terms(question) + list(extra)
        if not tokens or not self.passages:
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    @classmethod
    def load(cls, path: Path) -> IndexStore:
        """Load the build at ``path``; raise ``IndexError_`` naming the fix if it is damaged."""
        try:
            return cls._load(path.resolve())
        except IndexError_:
            raise
        except Exception as err:  # any damage at all means: rebuild
            raise IndexError_(
                f"the index in {path} is damaged ({type(err).__name__}: {err}); "
                "run `rag index --force` to rebuild it"
            ) from err

    @classmethod
    def _load(cls, path: Path) -> IndexStore:
        import bm25s
        from llama_index.core import StorageContext
        from llama_index.vector_stores.faiss import FaissVectorStore

        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        vector_store = FaissVectorStore.from_persist_dir(str(path))
        storage = StorageContext.from_defaults(vector_store=vector_store, persist_dir=str(path))
        structs = storage.index_store.index_structs()
        if len(structs) != 1:
            raise IndexError_(f"expected one vector index in {path}, found {len(structs)}")
        nodes_dict = structs[0].nodes_dict
        node_ids = [nodes_dict[str(row)] for row in range(len(nodes_dict))]
        nodes = storage.docstore.get_nodes(node_ids) if node_ids else []
        passages = []
        for node in nodes:
            meta = node.metadata
            passages.append(
                PassageRecord(
                    doc_id=meta["doc_id"],
                    start=meta["start"],
                    end=meta["end"],
                    paragraph=meta["paragraph"],
                    labels=tuple(meta["footnotes"]),
                    kind=meta["kind"],
                    first_sentence=meta["sentences"][0],
                    last_sentence=meta["sentences"][1],
                )
            )
        docs = {}
        for rec in json.loads((path / "docs.json").read_text("utf-8")):
            notes = {f["label"]: Footnote(**f) for f in rec.pop("footnotes")}
            scopes = tuple(Scope(label, s, e) for label, s, e in rec.pop("scopes"))
            docs[rec["doc_id"]] = DocRecord(footnotes=notes, scopes=scopes, **rec)
        faiss_index = vector_store.client
        if hasattr(faiss_index, "hnsw"):
            faiss_index.hnsw.efSearch = HNSW_EF_SEARCH  # not persisted by faiss
        if faiss_index.ntotal != len(passages) or faiss_index.d != manifest["dim"]:
            raise IndexError_(f"FAISS index in {path} does not match its manifest")
        sentence_vectors = np.load(path / "sentences.npy")
        sentence_rows = np.load(path / "sentence_rows.npy")
        _check_consistent(path, manifest, docs, passages, sentence_rows, sentence_vectors)
        owners = np.array([passages[int(n)].doc_id for n in sentence_rows[:, 0]], dtype=object)
        doc_sentences = {d: np.flatnonzero(owners == d) for d in docs} if len(owners) else {}
        return cls(
            path=path,
            doc_sentences=doc_sentences,
            lexicon=Lexicon.load(path, manifest.get("word_dim", manifest["dim"])),
            manifest=manifest,
            docs=docs,
            passages=passages,
            faiss_index=faiss_index,
            bm25=bm25s.BM25.load(str(path / "bm25")),
            sentence_rows=sentence_rows,
            sentence_vectors=sentence_vectors,
        )
