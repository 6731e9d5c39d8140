"""Storage test helpers: a private data dir per test, and sessions from the virtual patient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sensorapp.storage.store import SessionStore


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real user data folder; subprocesses inherit this too."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    s = SessionStore.open(tmp_path / "data")
    yield s
    s.close()
