"""Helpers for the robustness tests (tests/test_robustness_*.py)."""
