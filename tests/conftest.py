"""Shared test setup: headless Qt, a clean simulated world per test, and a
``collector`` that records what a force source emits."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user's session store: every test (and subprocess) gets its own."""
    monkeypatch.setenv("SENSORAPP_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    # ... nor its settings (sensorapp/settings.py reads SENSORAPP_CONFIG_DIR first).
    monkeypatch.setenv("SENSORAPP_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(autouse=True)
def _no_leftover_simulated_world():
    yield
    try:
        from sensorapp.devices.sim_backend import install_world
    except ImportError:  # pragma: no cover - bleak missing
        return
    install_world(None)


@pytest.fixture
def qasync_loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test's QApplication: asyncio inside Qt, as the app runs."""
    import qasync

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        loop.close()
        asyncio.set_event_loop(None)


class SourceEventCollector:
    """A ForceSource listener keeping the sample blocks and every other event."""

    def __init__(self) -> None:
        self.events: list = []
        self.blocks: list = []

    def __call__(self, event: object) -> None:
        from sensorapp.devices.base import SamplesReceived

        if isinstance(event, SamplesReceived):
            self.blocks.append(event.block)
        else:
            self.events.append(event)

    def samples(self, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Times and forces of the blocks from ``start`` on, concatenated."""
        return np.concatenate([b.t_s for b in self.blocks[start:]]), np.concatenate([b.force_n for b in self.blocks[start:]])

    def kinds(self) -> list[type]:
        return [type(e) for e in self.events]

    async def until_device_time(self, t_s: float, timeout_s: float = 20.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not self.blocks or self.blocks[-1].t_s[-1] < t_s:
                await asyncio.sleep(0.01)


@pytest.fixture
def collector() -> SourceEventCollector:
    return SourceEventCollector()


# ---------------------------------------------------------------------- PostgreSQL (issue 13)

_pg_databases = iter(range(1, 1_000_000))


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One throwaway PostgreSQL cluster for the whole run (tests/pg_cluster.py), stopped at the end.

    It skips, saying why, only where no server can be started; with
    SENSORAPP_REQUIRE_POSTGRESQL=1 (set by .ci/run, which installs the server) it fails instead.
    """
    from pg_cluster import start_cluster

    try:
        cluster = start_cluster()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("SENSORAPP_REQUIRE_POSTGRESQL") == "1":
            pytest.fail(f"PostgreSQL is required here but could not be started: {exc}")
        pytest.skip(f"no PostgreSQL server could be started: {exc}")
    from sensorapp.storage.store import SessionStore

    # A migrated, empty template: each test's database is a file copy of it (tens of ms).
    cluster.create_database("sensorapp_template")
    SessionStore.open(tmp_path_factory.mktemp("pg-template"), store_url=cluster.url("sensorapp_template")).close()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Any) -> str:
    """A new, migrated, empty PostgreSQL store's URL for this test."""
    return str(pg_cluster.create_database(f"t_{next(_pg_databases)}", template="sensorapp_template"))
