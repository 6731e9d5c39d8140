"""Regenerate docs/screenshots/: the real window, offscreen, driven by the simulated belt.

    .venv/bin/python packaging/make_screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC

import qasync
from PySide6.QtWidgets import QApplication

from sensorapp.devices.base import DeviceDescriptor
from sensorapp.session.guided import Phase
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.world import LinkDrop
from sensorapp.ui import theme
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SPEED = 8.0


def seed_history(days: int = 14) -> None:
    """Two weeks of a patient getting stronger, 1-3 sessions a day, recorded
    through the real store and recorder (the analysis runs as for a live session)."""
    from datetime import datetime, timedelta

    import numpy as np

    from sensorapp.session.guided import ExerciseProtocol
    from sensorapp.storage import SessionStore

    rng = np.random.default_rng(7)
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=days)
    with SessionStore.open() as store:
        patient = store.add_patient("Patient", involved_side="left")
        for day in range(days):
            for k in range(int(rng.choice([1, 2, 2, 3, 3]))):
                progress = day / days
                profile = PatientProfile(
                    seed=100 + 10 * day + k,
                    strong_plateau_n=80 + 25 * progress,
                    asymmetry_pct=max(3.0, 22 - 16 * progress + rng.normal(0, 2)),
                    start_rest_s=3.0,
                    turnover_s=10.0,
                )
                patient_model = VirtualPatient(profile)
                t = np.arange(0, patient_model.duration_s, 0.01)
                f = patient_model.force_at(t)
                rec = store.begin_session(
                    patient_id=patient.id,
                    protocol=ExerciseProtocol().as_dict(),
                    device={"kind": "simulated", "name": "GMBelt-E240 (simulated)"},
                    started_at=start + timedelta(days=day, hours=5 * k),
                )
                switch = np.searchsorted(t, patient_model.truth[7].onset_s - 2.0)
                rec.set_side("left")
                rec.add_samples(t[:switch], f[:switch])
                rec.set_side("right")
                rec.add_samples(t[switch:], f[switch:])
                rec.finish(complete=True)


async def wait_for(controller: AppController, window: MainWindow, phase: Phase, min_hold_s: float = 0.0, timeout_s: float = 120) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            await asyncio.sleep(0.01)
            s = controller.session
            if s is not None and s.phase == phase and s.view().hold_s >= min_hold_s:
                window.session_screen.refresh()
                await asyncio.sleep(0.05)
                return


def grab(window: MainWindow, name: str) -> None:
    path = OUT / f"{name}.png"
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(OUT.parent.parent)}")


async def main() -> None:
    seed_history()
    # The virtual patient does not wait for the app: give the screenshots of the
    # connect screens time before the first press.
    profile = PatientProfile(seed=1, start_rest_s=12.0)
    truth = VirtualPatient(profile).truth
    # A drop in a rest shows the reconnect banner; the virtual patient does not
    # repeat a rep it did while the link was down, so a mid-rep drop would
    # leave the session one rep short.
    drop = LinkDrop(truth[2].release_end_s + 0.5, 4.0)
    controller = AppController(None, simulation_speed=SPEED, simulation_seed=1, simulation_extra={"link_drops": (drop,), "patient": profile})
    controller.open_store()
    window = MainWindow(controller)
    window.resize(1280, 820)
    window.show()

    # Connect screen: a scan result list (as it looks with a belt and a Progressor in range), then connected.
    window.connect_screen.populate(
        [
            DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40", -58),
            DeviceDescriptor("progressor", "E8:3B:12:77:90:02", "Progressor_7702", -71),
        ]
    )
    grab(window, "connect-scan")
    await controller.connect_to(controller.simulated_descriptor())
    await asyncio.sleep(0.4)
    window.connect_screen.refresh()
    grab(window, "connect-connected")

    window.show_session()
    await asyncio.sleep(0.3)
    grab(window, "session-settings")
    window.session_screen.toggle()
    await wait_for(controller, window, Phase.POSITION)
    grab(window, "session-position")
    await wait_for(controller, window, Phase.HOLDING, min_hold_s=3.0)
    grab(window, "session-hold")
    await wait_for(controller, window, Phase.RELEASE)
    grab(window, "session-release")
    await wait_for(controller, window, Phase.REST)
    await asyncio.sleep(0.3)
    grab(window, "session-rest")
    async with asyncio.timeout(120):
        while controller.session is None or not controller.session.reconnecting:
            await asyncio.sleep(0.005)
    window.session_screen.refresh()
    grab(window, "session-reconnecting")
    await wait_for(controller, window, Phase.TURN_OVER)
    await asyncio.sleep(0.3)
    grab(window, "session-turn-over")
    async with asyncio.timeout(240):
        while window.stack.currentWidget() is not window.summary_screen:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    grab(window, "summary")
    window.show_history()
    await asyncio.sleep(0.2)
    window.history_screen.select_row(0)
    await asyncio.sleep(0.2)
    grab(window, "history")
    await window.shutdown()


if __name__ == "__main__":
    import tempfile

    os.environ["SENSORAPP_DATA_DIR"] = tempfile.mkdtemp(prefix="sensorapp-screens-")  # never the user's store
    app = QApplication(sys.argv[:1])
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main())
