"""Refactors keep results bit for bit (see ``tests/pins/cases.py``)."""

from __future__ import annotations

import json

import pytest

from tests.pins.cases import CASES, PINS_FILE


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_equal_their_pins(case: str) -> None:
    pinned = json.loads(PINS_FILE.read_text())[case]
    digests = CASES[case]()
    changed = [
        f"{frame}.{column}"
        for frame, columns in pinned.items()
        for column, digest in columns.items()
        if digests.get(frame, {}).get(column) != digest
    ]
    assert not changed, f"{case}: these columns changed: {', '.join(changed)}"
