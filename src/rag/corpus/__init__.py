"""The corpus: documents, footnotes and their scopes, chunks, fetched sources, words."""
