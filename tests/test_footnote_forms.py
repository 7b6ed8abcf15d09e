"""Property tests (hypothesis) for the footnote forms of issue 12, mixed at random.

A generated document holds front matter (TOML, YAML or none), paragraphs, list items and
quote lines whose sentences carry markers of every kind (``[^costs]``, ``[3]``, ``[^1][^2]``,
before or after the full stop, after a space, mid-sentence), and a footnote list written in
every form (named definitions continued on indented lines, bracketed entries, a numbered list
of bare URLs under a heading, link reference definitions listing the same source again).

Whatever the mix: every footnote a marker uses is found with its URL; a sentence is under
the footnotes of its own markers, and under none from outside its unit; every span the
parser, the chunker, retrieval and the answerer give is verbatim in the file's text, and none
lies in the front matter.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rag
from rag.corpus.chunking import chunk_document, split_sentences
from rag.corpus.documents import Document, parse_document
from rag.corpus.text import FOOTNOTE_MARKER

NUMERIC = [str(n) for n in range(1, 13)]
ROMAN = ["i", "ii", "iii", "iv", "vi"]
NAMED = ["costs", "qnx", "mcdc", "port-2", "rail_link", "Kaynak3"]
SENTENCES = [
    "Ports grew fast in 2024", "Ребенок пошёл в школу", "Limanlar hızla büyüdü",
    "Trade followed the new rail link", "Песков назвал разговор тёплым",
    "The kernel was certified after long review", "Maliyet iki kat arttı",
    "U.S. officials agreed on the plan", "Объём достиг 5 млн тонн",
]  # fmt: skip
HEADINGS = ["## Background", "# Анализ", "### Sonuç", "Outlook"]
NOTES_HEADINGS = ["## Notes", "# KAYNAKÇA", "Kaynaklar", "### Литература", "Sources",
                  "Footnotes", "## Bibliography", "Dipnotlar", "Ссылки"]  # fmt: skip
STYLES = ["none", "after_stop", "before_stop", "after_space", "chained", "mid"]
NOISE = st.text(alphabet="абвгдxyzçğ0123456789.,;:!? ", min_size=1, max_size=40)


@dataclass
class Sentence:
    start: int
    end: int
    labels: set[str]


@dataclass
class Unit:
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def labels(self) -> set[str]:
        return {label for s in self.sentences for label in s.labels}


@dataclass
class Generated:
    text: str
    body_start: int  # where the front matter ends (0 without one)
    units: list[Unit]
    urls: dict[str, str]  # label -> the URL its entries give


def _marker(label: str, draw: st.DrawFn) -> str:
    if label in NAMED:
        return f"[^{label}]"
    return f"[^{label}]" if draw(st.booleans()) else f"[{label}]"


@st.composite
def _sentence(draw: st.DrawFn, labels: list[str]) -> tuple[str, set[str]]:
    words = draw(st.sampled_from(SENTENCES))
    style = draw(st.sampled_from(STYLES)) if labels else "none"
    if style == "none":
        return words + ".", set()
    first = draw(st.sampled_from(labels))
    if style == "after_stop":
        return f"{words}.{_marker(first, draw)}", {first}
    if style == "before_stop":
        return f"{words}{_marker(first, draw)}.", {first}
    if style == "after_space":
        return f"{words}. {_marker(first, draw)}", {first}
    if style == "chained":
        second = draw(st.sampled_from(labels))
        gap = draw(st.sampled_from(["", " ", ","]))
        return f"{words}.{_marker(first, draw)}{gap}{_marker(second, draw)}", {first, second}
    head, _, tail = words.partition(" ")
    return f"{head}{_marker(first, draw)} {tail}.", {first}


def _entry(label: str, url: str, form: str) -> str:
    if form == "numbered":
        return f"{label}. {url}"
    if form == "bracketed":
        return (
            f"[{label}] Ann Lee, “A Title for {label}”, Review, {url}, (Дата обращения: 1.2.2025)."
        )
    if form == "linkref":
        return f'[{label}]: {url} "Title {label}"'
    if form == "continued":
        return f'[^{label}]: Ann Lee, "Title {label}",\n    Review Weekly, {url}'
    if form == "link":
        return f"[^{label}]: [Title {label}]({url}), Review."
    if form == "angled":
        return f"[^{label}]: <{url}>"
    return f"[^{label}]: {url}"


@st.composite
def footnoted_documents(draw: st.DrawFn) -> Generated:
    labels = draw(
        st.lists(st.sampled_from(NUMERIC + ROMAN + NAMED), min_size=1, max_size=6, unique=True)
    )
    text = draw(
        st.sampled_from(
            ["", '+++\ntitle = "Ports"\ndate = 2024-03-01\n+++\n',
             '---\ntitle: "Limanlar [^costs]"\ndate: 2024-03-02\n---\n\n']
        )
    )  # fmt: skip
    body_start = len(text)
    units: list[Unit] = []
    previous = "start"
    for kind in draw(st.lists(st.sampled_from(["para", "list", "quote", "heading", "noise"]),
                              min_size=1, max_size=6)):  # fmt: skip
        tight = previous in ("para", "list", "quote") and kind in ("list", "quote")
        tight = tight or (previous in ("list", "quote") and kind == "para")
        text += "\n" if tight and draw(st.booleans()) else "\n\n"
        if kind == "heading":
            text += draw(st.sampled_from(HEADINGS))
        elif kind == "noise":
            text += draw(NOISE).strip() or "x"
        else:
            unit = Unit()
            for n in range(draw(st.integers(1, 3))):
                if kind == "para":
                    text += draw(st.sampled_from([" ", "\n"])) if n else ""
                else:  # each list item and quote line is a unit of its own
                    if n:
                        units.append(unit)
                        unit = Unit()
                        text += "\n"
                    text += "> " if kind == "quote" else draw(st.sampled_from(["- ", "* ", "1. "]))
                sentence, own = draw(_sentence(labels))
                unit.sentences.append(Sentence(len(text), len(text) + len(sentence), own))
                text += sentence
            units.append(unit)
        previous = kind

    urls = {label: f"https://example.org/{draw(st.sampled_from(['ports', 'a_(b)', 'x']))}/{label}"
            for label in labels}  # fmt: skip
    numbered = [label for label in labels if label in NUMERIC and draw(st.booleans())]
    # A numbered list is a footnote list only under a heading; definitions need none.
    heading = draw(st.sampled_from(NOTES_HEADINGS + ([] if numbered else [""])))
    text += f"\n\n{heading}\n\n"
    text += "".join(_entry(label, urls[label], "numbered") + "\n" for label in numbered)
    text += "\n"
    rest = []
    for label in labels:
        forms = ["plain", "continued", "link", "angled"]
        if label not in NAMED:
            forms += ["bracketed", "linkref"]
        if label not in numbered or draw(st.booleans()):  # a numbered one may be listed again
            rest.append(_entry(label.lower(), urls[label], draw(st.sampled_from(forms))))
    text += "\n".join(draw(st.permutations(rest))) + "\n"
    return Generated(text, body_start, units, {k.lower(): v for k, v in urls.items()})


def _parse(generated: Generated) -> Document:
    logging.disable(logging.WARNING)  # unused definitions warn; keep the output clean
    try:
        return parse_document("doc", "doc.md", generated.text)
    finally:
        logging.disable(logging.NOTSET)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=footnoted_documents())
def test_every_form_is_found_scoped_and_verbatim(generated: Generated) -> None:
    doc = _parse(generated)
    text = generated.text
    assert doc.text == text

    # Recall: every marker is found, and its footnote with the URL its entries give.
    written = {label.lower() for unit in generated.units for label in unit.labels}
    assert {m.label for m in doc.markers} == written
    notes = {f.label: f for f in doc.footnotes}
    for label in written:
        assert notes[label].url == generated.urls[label], label
    assert not any("no entry" in w for w in doc.warnings), doc.warnings
    for m in doc.markers:
        found = FOOTNOTE_MARKER.fullmatch(text, m.start, m.end)
        assert found and found.group("label").lower() == m.label

    # Scopes: a sentence is under its own markers' footnotes, and none from outside its unit.
    for unit in generated.units:
        allowed = {label.lower() for label in unit.labels}
        for sentence in unit.sentences:
            got = set(doc.labels_in(sentence.start, sentence.end))
            assert {label.lower() for label in sentence.labels} <= got <= allowed, (
                text[sentence.start : sentence.end],
                got,
            )

    # Verbatim spans, none in the front matter.
    for s, e in [*doc.paragraphs, *doc.entry_spans.values()]:
        assert generated.body_start <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
    for chunk in chunk_document(doc, 48):
        assert generated.body_start <= chunk.start < chunk.end <= len(text)
        for s, e in chunk.units:
            assert chunk.start <= s < e <= chunk.end and text[s:e].strip() == text[s:e]
    for p_start, p_end in doc.paragraphs:
        for s, e in split_sentences(text, p_start, p_end):
            assert p_start <= s < e <= p_end


_WORDS = re.compile(r"\w+")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=footnoted_documents(), pick=st.integers(0, 100))
def test_passages_and_citations_are_verbatim_whatever_the_form(
    generated: Generated, pick: int, check_answer
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        (docs / "post.md").write_text(generated.text, "utf-8", newline="")
        assistant = rag.Assistant(
            rag.Settings(docs_dir=docs, index_dir=Path(tmp) / "index", embed_model="hash",
                         llm="none", top_k=5, chunk_tokens=160)
        )  # fmt: skip
        logging.disable(logging.WARNING)
        try:
            assistant.build_index()
        finally:
            logging.disable(logging.NOTSET)
        stored = assistant.store().docs["post"]
        assert stored.text == generated.text  # offsets are into the file's very text
        sentences = [s for unit in generated.units for s in unit.sentences]
        question = (
            " ".join(_WORDS.findall(generated.text[sentences[pick % len(sentences)].start :
                                                   sentences[pick % len(sentences)].end]))
            if sentences else "What grew?"
        ) + "?"  # fmt: skip
        for passage in assistant.retrieve(question, k=5):
            assert stored.text[passage.start : passage.end] == passage.text
            assert passage.start >= generated.body_start
        answer = assistant.query(question)
        check_answer(answer, assistant)
        for citation in answer.citations:
            assert citation.start >= generated.body_start
