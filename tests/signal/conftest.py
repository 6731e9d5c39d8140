"""Fixtures for the signal tests; the builders live in signal_builders.py
(a unique module name: several conftest.py files exist, so `import conftest`
would be ambiguous)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from signal_builders import Signal, build


@pytest.fixture
def make_signal() -> Callable[..., Signal]:
    return build
