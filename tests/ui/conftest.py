"""GUI tests: skipped as a folder where PySide6 is missing (the qasync loop fixture is in tests/conftest.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6", reason="the GUI tests need PySide6 (in requirements/dev.lock)")
