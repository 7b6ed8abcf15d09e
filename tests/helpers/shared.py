"""The root conftest's plain helpers (not fixtures), importable from any test module.

``from conftest import …`` resolves to whichever conftest pytest imported first under that
name, and tests/e2e/conftest.py is one too; so tests/conftest.py is loaded here by its path,
under a name of its own.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = [
    "DEV_SET_PATH",
    "SharedIndexes",
    "assert_answer_contract",
    "make_corpus",
    "settings_for",
]

_NAME = "rag_tests_root_conftest"


def _root_conftest() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location(_NAME, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


_conftest = _root_conftest()
DEV_SET_PATH: Path = _conftest.DEV_SET_PATH
SharedIndexes = _conftest.SharedIndexes
assert_answer_contract = _conftest.assert_answer_contract
make_corpus = _conftest.make_corpus
settings_for = _conftest.settings_for
