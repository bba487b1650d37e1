"""Shared test fixtures: the course's worked examples from ../shared/spec/seed_examples.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED_SPEC = SHARED / "spec" / "seed_examples.json"


def _load_seed_examples() -> dict[str, dict]:
    with open(SEED_SPEC, encoding="utf-8") as fh:
        return {example["id"]: example for example in json.load(fh)}


@pytest.fixture(scope="session")
def seed_examples() -> dict[str, dict]:
    """All worked examples of the course, keyed by id (skips when ../shared is absent)."""
    if not SEED_SPEC.exists():
        pytest.skip(f"course spec not found at {SEED_SPEC} (needs ../shared beside the repo)")
    return _load_seed_examples()


@pytest.fixture(scope="session")
def seed_example(seed_examples):
    """``seed_example(id)`` returns one worked example (inputs, expected, tolerance)."""

    def get(example_id: str) -> dict:
        return seed_examples[example_id]

    return get
