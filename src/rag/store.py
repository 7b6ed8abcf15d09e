"""One build of the index on disk, and the same build loaded in memory for queries.

Passages are llama-index ``TextNode``s (docstore and index store); their vectors and search
terms are in the passage index ``RAG_STORE`` names (``rag.stores``), under stable point ids
(``point_ids.npy``). Beside them: the documents' texts (citations quote them by offset) and
the sentence rows the answerer quotes from; their vectors are where the store keeps them
(``rag.sentence_vectors``: a memory-mapped file, or a Qdrant shard or collection). Queries
never touch llama-index objects: at load time everything becomes flat arrays, so a query
costs one embedding, one dense and one sparse search of the passage index, one read of its
passages' sentence vectors and a few small matrix products.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer_types import AnswerType, types_in
from rag.chunking import Chunk
from rag.documents import Document
from rag.errors import ConfigError, IndexError_
from rag.faiss_index import FLAT_LIMIT, vector_index
from rag.footnotes import Scope, labels_in
from rag.lexicon import Lexicon
from rag.models import Footnote
from rag.passage_index import PassageIndex
from rag.sentence_vectors import SentenceVectors
from rag.stores import open_passage_index, open_sentence_vectors
from rag.text import (
    detect_language,
    full_names,
    is_heading,
    numbers,
    search_terms,
)

__all__ = ["FLAT_LIMIT", "DocRecord", "IndexStore", "PassageRecord", "vector_index", "write_store"]

POINT_IDS = "point_ids.npy"


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
    names: tuple[tuple[tuple[str, str], ...], ...] = ()  # its full names (rag.text.full_names)


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


@dataclass
class IndexStore:
    """A loaded build: flat arrays and records, read-only and safe to share between threads."""

    path: Path
    manifest: dict[str, Any]
    docs: dict[str, DocRecord]
    passages: list[PassageRecord]
    passage_index: PassageIndex
    sentence_rows: np.ndarray
    sentence_vectors: SentenceVectors  # [row] or [rows], like an array
    doc_sentences: dict[str, np.ndarray]
    lexicon: Lexicon
    point_ids: np.ndarray | None = None  # each passage row's id in the passage index

    row_of: dict[int, int] = field(default_factory=dict, repr=False)

    _unit_cache: dict[int, UnitFeatures] = field(default_factory=dict, repr=False)
    _citing_cache: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)
    _entry_cache: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    _note_terms_cache: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)
    _claims_cache: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.point_ids is None:
            self.point_ids = np.arange(len(self.passages), dtype=np.int64)
        self.row_of = {int(p): row for row, p in enumerate(self.point_ids)}

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
            found = [
                row
                for row in self.doc_passages(record.doc_id)
                if self.passages[row].kind != "footnote"
                and not set(record.labels).isdisjoint(
                    doc.labels_in(self.passages[row].start, self.passages[row].end)
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
                    terms |= self.passage_terms(row)
            found = frozenset(terms)
            self._note_terms_cache[sentence] = found
        return found

    def passage_terms(self, passage: int) -> frozenset[str]:
        """The search terms of all a passage's rows (its sentences and clause windows)."""
        record = self.passages[passage]
        rows = range(record.first_sentence, record.last_sentence)
        return frozenset().union(*(self.unit_features(u).terms for u in rows))

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
                tuple(tuple(name) for name in full_names(text)),
            )
            self._unit_cache[row] = found  # a benign race: both threads compute the same
        return found

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
            notes = {f["label"]: Footnote(**f) for f in rec.pop("footnotes")}
            scopes = tuple(Scope(label, s, e) for label, s, e in rec.pop("scopes"))
            docs[rec["doc_id"]] = DocRecord(footnotes=notes, scopes=scopes, **rec)
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
