"""The packages' imports point down the flow (ARCHITECTURE.md): no layer imports one above it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rag"

# Lower numbers are lower layers; a module may import its own layer and those below.
LAYERS = {
    "models": 0,
    "errors": 0,
    "settings": 0,
    "profile": 0,
    "corpus": 1,
    "index": 2,
    "answer_types": 3,
    "query": 3,
    "retrieval": 3,
    "answer": 4,
    "blas": 4,
    "assistant": 5,
    "calibration": 6,
    "evaluation": 6,
    "cli": 7,
    "ui": 7,
}
IMPORT = re.compile(r"^\s*(?:from|import) rag\.(\w+)", re.MULTILINE)


def _layer_of(path: Path) -> str:
    top = path.relative_to(SRC).parts[0]
    return top.removesuffix(".py")


MODULES = sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_module_has_a_layer() -> None:
    assert {_layer_of(p) for p in MODULES} <= set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    mine = LAYERS[_layer_of(path)]
    above = {
        name for name in IMPORT.findall(path.read_text("utf-8")) if LAYERS.get(name, -1) > mine
    }
    assert not above, f"{path.relative_to(SRC)} imports a layer above it: {sorted(above)}"
