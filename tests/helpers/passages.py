"""Hand-made passages shared by the LLM and verification tests."""

from __future__ import annotations

from rag.models import Footnote, Passage

__all__ = ["PESKOV"]

# The article's claim under footnote [iii], as a retrieved passage.
PESKOV = Passage(
    doc_id="article",
    title="Russia and Azerbaijan",
    text="Kremlin spokesman Dmitry Peskov described the leaders' dialogue as "
    "“warm and necessary”.[iii]",
    start=100,
    end=180,
    footnotes=[Footnote("iii", title="Peskov on the call", publisher="TASS")],
    score=0.9,
)
