"""The "Report (PDF)" buttons of the Summary and History screens write the report through a save dialog."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="the screens need PySide6 (in requirements/dev.lock)")

from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_helpers import seed_period

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed; .ci/run installs it")


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout


def test_history_and_summary_buttons_save_the_report(
    qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller = AppController(None)
    controller.open_store(str(tmp_path / "store"))
    store = controller.store
    assert store is not None
    patient = store.add_patient("Carla Button", external_id="MRN-77", involved_side="right", body_mass_kg=70.0, lever_arm_m=0.8)
    records = seed_period(store, patient.id, days=2)
    other = store.add_patient("Dan Other")
    seed_period(store, other.id, days=1, per_day=1, first_day=datetime(2026, 2, 1, 9, 0, tzinfo=UTC))  # the newest session
    window = MainWindow(controller)
    window.show_history()
    history = window.history_screen
    history.refresh()
    history.patient.setCurrentIndex(history.patient.findData(patient.id))
    assert history.report_button.isEnabled()  # a patient with sessions: the progress report, no row needed

    chosen = tmp_path / "carla.pdf"
    monkeypatch.setattr("sensorapp.ui.history_screen.QFileDialog.getSaveFileName", lambda *a, **k: (str(chosen), "PDF files (*.pdf)"))
    history.report_button.click()
    text = pdf_text(chosen)
    assert "Progress report" in text and "MRN-77" in text and "Dan Other" not in text
    assert f"{len(records)} sessions" in history.status.text()

    # All patients: only a chosen session can be reported.
    history.patient.setCurrentIndex(history.patient.findData(None))
    history.table.clearSelection()
    assert not history.report_button.isEnabled()
    history.select_row(0)  # newest first: Dan's one session
    assert history.report_button.isEnabled()
    chosen = tmp_path / "dan.pdf"
    history.report_button.click()
    assert "Session report" in pdf_text(chosen) and "Dan Other" in pdf_text(chosen)

    # Cancelling the dialog writes nothing.
    monkeypatch.setattr("sensorapp.ui.history_screen.QFileDialog.getSaveFileName", lambda *a, **k: ("", ""))
    chosen.unlink()
    history.report_button.click()
    assert not chosen.exists()

    # Summary of a stored session: its own report.
    window.show_stored_session(records[2].id)
    summary = window.summary_screen
    assert summary.report_button.isEnabled()
    summary.set_unit(window.controller.settings.unit())  # a settings change redraws the summary: the report stays on
    assert summary.report_button.isEnabled()
    chosen = tmp_path / "one.pdf"
    monkeypatch.setattr("sensorapp.ui.summary_screen.QFileDialog.getSaveFileName", lambda *a, **k: (str(chosen), "PDF files (*.pdf)"))
    summary.report_button.click()
    text = pdf_text(chosen)
    assert "Session report" in text and "Carla Button" in text
    assert records[2].started_at.astimezone().strftime("%Y-%m-%d %H:%M") in text
    assert "Saved the report one.pdf (1 page)" in summary.status.text()
    # A folder that does not exist: one line on screen, nothing raised.
    chosen = tmp_path / "missing" / "x.pdf"
    summary.report_button.click()
    assert summary.status.text().startswith("Could not save the report:") and "does not exist" in summary.status.text()
    qasync_loop.run_until_complete(window.shutdown())
