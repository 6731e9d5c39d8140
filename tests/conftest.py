"""Shared test setup: headless Qt, and a clean simulated world per test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(autouse=True)
def _no_leftover_simulated_world():
    yield
    try:
        from sensorapp.devices.sim_backend import install_world
    except ImportError:  # pragma: no cover - bleak missing
        return
    install_world(None)
