"""The UI's own words, in the question's language (ru/en/tr): panel labels and notes.

``labels_for(language)`` gives a table for "ru", "en" or "tr" (English for any other), so a
Russian question gets a Russian sources panel and a Turkish one a Turkish panel.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LABELS", "labels_for"]

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "show": "show paragraph",
        "hide": "hide paragraph",
        "no_footnote": "No footnote of the document covers this passage.",
        "fetched": "source fetched",
        "not_fetched": "source not fetched",
        "accessed": "accessed",
        "cited_passage": "Source passage, cited as [{n}]",
        "closest_passage": "Closest passage in the source",
        "unknown_publisher": "unknown publisher",
    },
}


def labels_for(language: str) -> Mapping[str, str]:
    """The label table for ``language`` (English for a language without one)."""
    return LABELS.get(language, LABELS["en"])
