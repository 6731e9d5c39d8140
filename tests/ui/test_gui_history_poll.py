"""History shows sessions that other workstations add to a shared PostgreSQL store, without a click."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from sensorapp.storage.store import SessionStore
from sensorapp.ui.controller import AppController
from sensorapp.ui.history_screen import CHANGE_POLL_MS
from sensorapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_history_redraws_when_another_room_adds_or_ends_a_session_but_not_on_progress(
    qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENSORAPP_STORE", pg_url)  # what the clinic's workstations are configured with
    controller = AppController(None)
    controller.open_store()
    assert controller.store is not None and controller.store.engine == "postgresql"
    window = MainWindow(controller)
    window.resize(1280, 820)
    window.show()
    window.show_history()
    history = window.history_screen
    assert history.change_poll.isActive() and history.change_poll.interval() == CHANGE_POLL_MS
    assert history.table.rowCount() == 0 and not history.poll_changes()

    with SessionStore.open(tmp_path / "room-2", store_url=pg_url) as room2:
        patient = room2.add_patient("Room 2 patient")
        rec = room2.begin_session(patient_id=patient.id, side="left")
        assert history.poll_changes()  # a new patient and a session being recorded
        assert history.patient.currentText() == "Room 2 patient" and history.table.rowCount() == 1
        assert "recording" in history.table.item(0, 1).text()
        rec.add_samples(np.arange(200) * 0.01, np.full(200, 30.0))
        rec.flush()
        assert not history.poll_changes()  # progress commits do not redraw the screen
        rec.finish()
        assert history.poll_changes()
        assert "recording" not in history.table.item(0, 1).text()
    window.show_connect()  # leaving History stops the polling
    assert not history.change_poll.isActive()
    qasync_loop.run_until_complete(window.shutdown())  # closes the store
    window.hide()
