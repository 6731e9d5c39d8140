"""The demo on the simulated belt: a second session after "New session" is done
by the virtual patient too, and the terminal narration tells the cues in order."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest

from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


async def wait_finished(controller: AppController, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):  # generous: only a hang fails, not a slow machine
        while controller.session is None or not controller.session.finished:
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)


def test_the_virtual_patient_does_the_second_session_too(qasync_loop: asyncio.AbstractEventLoop) -> None:
    controller = AppController(None, simulation_speed=40.0, simulation_seed=2)
    controller.open_store()
    window = MainWindow(controller)
    window.show()
    form = window.session_screen.form
    form.reps.setValue(2)
    form.both.setChecked(False)

    async def two_sessions() -> None:
        await window.start_simulated()
        await wait_finished(controller, 120)
        first = controller.session
        assert first is not None and first.phase == Phase.DONE, first.phase
        assert len(first.reps["left"]) == 2, first.feedback
        assert window.stack.currentWidget() is window.summary_screen
        window.summary_screen.again_button.click()  # "New session"
        assert window.stack.currentWidget() is window.session_screen
        assert window.session_screen.feedback.text() == ""
        # Let the first session's patient finish its schedule: the app waits on the summary.
        await asyncio.sleep(2.0)
        window.session_screen.toggle()  # Start
        second = controller.session
        assert second is not None and second is not first
        await wait_finished(controller, 120)
        assert second.phase == Phase.DONE, second.phase
        assert len(second.reps["left"]) == 2

    qasync_loop.run_until_complete(two_sessions())
    store = controller.store
    assert store is not None
    records = store.sessions()
    assert len(records) == 2 and all(r.state == "complete" for r in records)
    qasync_loop.run_until_complete(window.shutdown())


def test_narration_tells_press_before_keep_pressing_and_every_rest(qapp: object) -> None:
    """Device time racing ahead of the narrator (2 s of samples per poll, as at
    --speed 20) must not skip or reorder cues."""
    from sensorapp.ui.console import ConsoleNarrator

    controller = AppController(None)
    out = io.StringIO()
    narrator = ConsoleNarrator(controller, out)
    narrator.timer.stop()  # polled by hand below
    patient = VirtualPatient(PatientProfile(seed=1, twitch_prob=0.9))
    t = np.arange(0, patient.duration_s + 10, 0.01)
    f = patient.force_at(t)
    session = GuidedSession(ExerciseProtocol())
    controller.session = session
    session.feed(t[:50], f[:50])
    session.start()
    for i in range(50, t.size, 200):
        for j in range(i, min(i + 200, t.size), 20):
            session.feed(t[j : j + 20], f[j : j + 20])
        narrator.poll()
    assert session.phase == Phase.DONE
    lines = out.getvalue().splitlines()
    pressing = [k for k, line in enumerate(lines) if "Keep pressing up" in line]
    assert len(pressing) >= 14
    for k in pressing:
        rep = lines[k].split(":")[0].split("s  ")[-1]  # "Rep 3 of 7, left side"
        assert "Press gently up" in lines[k - 1] and rep in lines[k - 1], lines[k - 1 : k + 1]
    assert sum("rest 8 s" in line for line in lines) == 12  # 6 rests per side
    # A rep's verdict comes after its release and before the rest that follows.
    first_verdict = next(k for k, line in enumerate(lines) if "Rep 1: held" in line)
    assert "release slowly" in lines[first_verdict - 1] and "rest" in lines[first_verdict + 1]
