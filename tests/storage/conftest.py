"""Storage test helpers: a private data dir per test, and sessions from the virtual patient.

Tests marked ``both_engines`` get ``store`` once on SQLite and once on
PostgreSQL (a database of their own in the session's throwaway cluster);
``storage_helpers.reopen(store)`` opens another connection to the same store, whatever its engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sensorapp.storage.store import SessionStore

ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_engines"):
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real user data folder; subprocesses inherit this too."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def store_url(engine: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in the data folder, else this test's PostgreSQL database."""
    return str(request.getfixturevalue("pg_url")) if engine == "postgresql" else None


@pytest.fixture
def store(tmp_path: Path, store_url: str | None) -> Iterator[SessionStore]:
    s = SessionStore.open(tmp_path / "data", store_url=store_url)
    yield s
    s.close()

