"""The package's face: ``dir(rag)`` is the public API, and every name in it is importable."""

from __future__ import annotations

import subprocess
import sys

import rag


def test_dir_shows_only_the_public_api() -> None:
    assert dir(rag) == sorted([*rag.__all__, "__version__"])
    for name in ("Path", "threading", "assistant", "annotations"):
        assert name not in dir(rag)
    for name in rag.__all__:
        assert getattr(rag, name) is not None


def test_dir_stays_clean_after_submodules_are_imported() -> None:
    code = (
        "import rag, rag.ui.app, rag.cli; print(dir(rag) == sorted([*rag.__all__, '__version__']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
