"""One build of the index on disk, and the same build loaded in memory for queries.

Passages are llama-index ``TextNode``s (docstore and index store); their vectors and search
terms are in the passage index ``RAG_STORE`` names (``rag.index.stores``), under stable point
ids (``point_ids.npy``). Beside them: the documents, whole
(``rag.corpus.documents.Document``: citations quote their text by offset; ``store.graph``, a
``rag.index.footnote_graph.FootnoteGraph``, is the claim -> footnote -> source chain over
them), and the sentence rows the answerer quotes from; their vectors are where the store keeps
them (``rag.index.sentence_vectors``: a memory-mapped file, or a Qdrant shard or collection).
Queries never touch llama-index objects: at load time everything becomes flat arrays, so a query
costs one embedding, one dense and one sparse search of the passage index, one read of its
passages' sentence vectors and a few small matrix products.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.corpus.chunking import Chunk
from rag.corpus.documents import Document
from rag.corpus.footnotes import Marker, Scope
from rag.corpus.lexicon import Lexicon
from rag.errors import ConfigError, IndexError_
from rag.index.faiss_index import FLAT_LIMIT, vector_index
from rag.index.footnote_graph import FootnoteGraph
from rag.index.passage_index import PassageIndex
from rag.index.sentence_vectors import SentenceVectors
from rag.index.stores import open_passage_index, open_sentence_vectors
from rag.models import Footnote

__all__ = ["FLAT_LIMIT", "IndexStore", "PassageRecord", "vector_index", "write_store"]

POINT_IDS = "point_ids.npy"


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


def write_store(
    build_dir: Path,
    docs: list[Document],
    chunks: list[Chunk],
    point_ids: list[int],
    sentence_rows: list[tuple[int, int, int]],
) -> None:
    """Persist one build's records into ``build_dir`` (created; must not exist): the
    passages as llama-index ``TextNode``s (their vectors live in the passage index), the
    documents, the sentence rows (their vectors are the store's to write), and each
    passage's point id in the passage index."""
    from llama_index.core.data_structs.data_structs import IndexDict
    from llama_index.core.schema import TextNode
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.core.storage.index_store import SimpleIndexStore

    build_dir.mkdir(parents=True)
    by_id = {d.doc_id: d for d in docs}
    hidden = ["doc_id", "start", "end", "paragraph", "footnotes", "kind", "sentences"]
    docstore, structure = SimpleDocumentStore(), IndexDict()
    first = 0
    for n, chunk in enumerate(chunks):
        count = len(chunk.units)
        node = TextNode(
            id_=f"{chunk.doc_id}:{chunk.start}-{chunk.end}",
            text=by_id[chunk.doc_id].text[chunk.start : chunk.end],
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
        structure.add_node(node, text_id=str(n))  # as VectorStoreIndex over FAISS does
        docstore.add_documents([node], allow_update=True)
        first += count
    index_store = SimpleIndexStore()
    index_store.add_index_struct(structure)
    docstore.persist(persist_path=str(build_dir / "docstore.json"))
    index_store.persist(persist_path=str(build_dir / "index_store.json"))
    np.save(build_dir / POINT_IDS, np.asarray(point_ids, dtype=np.int64))
    np.save(build_dir / "sentence_rows.npy", np.asarray(sentence_rows, dtype=np.int64))
    records = [_doc_record(d) for d in docs]
    (build_dir / "docs.json").write_text(json.dumps(records, ensure_ascii=False), "utf-8")


def _doc_record(doc: Document) -> dict[str, Any]:
    """A document as ``docs.json`` holds it: all of it but the build's warnings."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "path": doc.path,
        "text": doc.text,
        "paragraphs": doc.paragraphs,
        "footnotes": [asdict(f) for f in doc.footnotes],
        "entry_spans": [(label, s, e) for label, (s, e) in doc.entry_spans.items()],
        "markers": [(m.label, m.start, m.end) for m in doc.markers],
        "scopes": [(sc.label, sc.start, sc.end) for sc in doc.scopes],
        "source_label": doc.source_label,
        "source_url": doc.source_url,
        "date": doc.date,
    }


def _document(record: dict[str, Any]) -> Document:
    """The :class:`Document` a ``docs.json`` record holds."""
    return Document(
        doc_id=record["doc_id"],
        title=record["title"],
        path=record["path"],
        text=record["text"],
        paragraphs=tuple((s, e) for s, e in record["paragraphs"]),
        footnotes=tuple(Footnote(**f) for f in record["footnotes"]),
        entry_spans={label: (s, e) for label, s, e in record["entry_spans"]},
        markers=tuple(Marker(label, s, e) for label, s, e in record["markers"]),
        scopes=tuple(Scope(label, s, e) for label, s, e in record["scopes"]),
        source_label=record["source_label"],
        source_url=record["source_url"],
        date=record["date"],
    )


def _check_consistent(
    path: Path,
    manifest: dict[str, Any],
    docs: dict[str, Document],
    passages: list[PassageRecord],
    sentence_rows: np.ndarray,
    sentence_vectors: SentenceVectors,
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


@dataclass(eq=False)
class IndexStore:
    """A loaded build: flat arrays and records, read-only and safe to share between threads
    (compared, and hashed, by identity: the layers above cache per build)."""

    path: Path
    manifest: dict[str, Any]
    docs: dict[str, Document]
    passages: list[PassageRecord]
    passage_index: PassageIndex
    sentence_rows: np.ndarray
    sentence_vectors: SentenceVectors  # [row] or [rows], like an array
    doc_sentences: dict[str, np.ndarray]
    lexicon: Lexicon
    point_ids: np.ndarray | None = None  # each passage row's id in the passage index

    row_of: dict[int, int] = field(default_factory=dict, repr=False)
    graph: FootnoteGraph = field(init=False, repr=False)  # the claim -> footnote -> source chain

    def __post_init__(self) -> None:
        if self.point_ids is None:
            self.point_ids = np.arange(len(self.passages), dtype=np.int64)
        self.row_of = {int(p): row for row, p in enumerate(self.point_ids)}
        self.graph = FootnoteGraph(self)

    @property
    def faiss_index(self) -> Any:
        """The FAISS index of a ``faiss`` build (AttributeError for another store)."""
        return self.passage_index.faiss  # type: ignore[attr-defined]

    def close(self) -> None:
        """Release the passage index and the sentence vectors (an embedded shard is open in
        one process only)."""
        self.passage_index.close()
        self.sentence_vectors.close()

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

    def doc_passages(self, doc_id: str) -> list[int]:
        """The passage rows of a document, in order."""
        rows = self.doc_sentences.get(doc_id, np.zeros(0, dtype=np.int64))
        return sorted({int(self.sentence_rows[r][0]) for r in rows})

    def unit_text(self, row: int) -> str:
        """The verbatim text of a sentence (or clause window) row."""
        passage, start, end = self.sentence_rows[row]
        return self.docs[self.passages[int(passage)].doc_id].text[int(start) : int(end)]

    def idf(self, term: str) -> float | None:
        """Inverse document frequency of an index term over passages (None if unseen)."""
        df = self.passage_index.document_frequency(term)
        if df == 0:
            return None
        return float(np.log((len(self.passages) + 1) / df))

    @property
    def dim(self) -> int:
        return int(self.manifest["dim"])

    @classmethod
    def load(cls, path: Path) -> IndexStore:
        """Load the build at ``path``; raise ``IndexError_`` naming the fix if it is damaged."""
        try:
            return cls._load(path.resolve())
        except (IndexError_, ConfigError):
            raise
        except Exception as err:  # any damage at all means: rebuild
            raise IndexError_(
                f"the index in {path} is damaged ({type(err).__name__}: {err}); "
                "run `rag index --force` to rebuild it"
            ) from err

    @classmethod
    def _load(cls, path: Path) -> IndexStore:
        from llama_index.core.storage.docstore import SimpleDocumentStore
        from llama_index.core.storage.index_store import SimpleIndexStore

        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        docstore = SimpleDocumentStore.from_persist_dir(str(path))
        structs = SimpleIndexStore.from_persist_dir(str(path)).index_structs()
        if len(structs) != 1:
            raise IndexError_(f"expected one vector index in {path}, found {len(structs)}")
        nodes_dict = structs[0].nodes_dict
        node_ids = [nodes_dict[str(row)] for row in range(len(nodes_dict))]
        nodes = docstore.get_nodes(node_ids) if node_ids else []
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
            docs[rec["doc_id"]] = _document(rec)
        point_ids = np.load(path / POINT_IDS)
        if point_ids.shape != (len(passages),):
            raise IndexError_(f"point ids in {path} do not match its passages")
        sentence_rows = np.load(path / "sentence_rows.npy")
        passage_index = open_passage_index(path, manifest, point_ids)
        try:
            sentence_vectors = open_sentence_vectors(path, manifest)
        except BaseException:
            passage_index.close()
            raise
        try:
            _check_consistent(path, manifest, docs, passages, sentence_rows, sentence_vectors)
        except BaseException:
            passage_index.close()
            sentence_vectors.close()
            raise
        owners = np.array([passages[int(n)].doc_id for n in sentence_rows[:, 0]], dtype=object)
        doc_sentences = {d: np.flatnonzero(owners == d) for d in docs} if len(owners) else {}
        return cls(
            path=path,
            point_ids=point_ids,
            passage_index=passage_index,
            doc_sentences=doc_sentences,
            lexicon=Lexicon.load(path, manifest.get("word_dim", manifest["dim"])),
            manifest=manifest,
            docs=docs,
            passages=passages,
            sentence_rows=sentence_rows,
            sentence_vectors=sentence_vectors,
        )
