"""The guided session on every other supported force gauge: the GUI drives them through the same
registry and ForceSource, so the virtual patient's reps must come through each (issue 12)."""

from __future__ import annotations

import asyncio

import pytest

from sensorapp.session.guided import Phase
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.mark.parametrize(
    ("device", "kind", "rate_hz"),
    [("progressor", "progressor", 80.0), ("crimpdeq", "progressor", 80.0), ("forceboard", "forceboard", 40.0), ("whc06", "whc06", 8.0)],
)
def test_a_guided_session_runs_on_each_device(qasync_loop: asyncio.AbstractEventLoop, device: str, kind: str, rate_hz: float) -> None:
    # Virtual clock: a busy machine slows the simulated world instead of skipping past reps.
    controller = AppController(None, simulation_speed=20.0, simulation_seed=2, simulation_extra={"device": device, "max_step_s": 0.02})
    controller.open_store()
    window = MainWindow(controller)
    window.show()
    form = window.session_screen.form
    form.reps.setValue(2)
    form.both.setChecked(False)

    async def one_session() -> None:
        await window.start_simulated()
        async with asyncio.timeout(180):  # only a hang fails, not a slow machine
            while controller.session is None or not controller.session.finished:
                await asyncio.sleep(0.02)

    qasync_loop.run_until_complete(one_session())
    session = controller.session
    assert session is not None and session.phase == Phase.DONE, session.phase
    assert len(session.reps["left"]) == 2, session.feedback
    assert all(r.hold_s > 4.0 for r in session.reps["left"])
    store = controller.store
    assert store is not None
    (record,) = store.sessions()
    assert record.state == "complete", record.state
    assert record.device["kind"] == kind and record.device["rate_hz"] == rate_hz  # the registry picked that source
    qasync_loop.run_until_complete(window.shutdown())
