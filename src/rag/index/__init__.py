"""The index: building it, its on-disk format, the read API, vector stores, encoders."""
