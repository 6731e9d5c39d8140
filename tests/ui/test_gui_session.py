"""A simulated patient drives the real window through a whole session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from sensorapp.devices.simulated import current_simulation
from sensorapp.session.guided import Cue, Phase
from sensorapp.signal import analyze_recording, summarize
from sensorapp.simulation.world import LinkDrop
from sensorapp.storage.samples_csv import read_samples_csv
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

SPEED = 40.0
VIRTUAL_STEP_S = 0.02  # host seconds of world time per clock reading, at most


async def run_session(window: MainWindow, controller: AppController, seen: dict[str, set]) -> None:
    await window.start_simulated()
    assert controller.session is not None
    async with asyncio.timeout(90):
        while not controller.session.finished:
            await asyncio.sleep(0.02)
            window.session_screen.refresh()
            v = controller.session.view()
            seen["phases"].add(v.phase)
            seen["counters"].add(window.session_screen.counter.text())
            if v.reconnecting:
                seen["banner"].add(window.session_screen.banner.text())
    await asyncio.sleep(0.2)


def test_simulated_session_runs_all_14_reps_and_the_summary_matches_the_analysis(qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    # A virtual clock (device time advances at most 20 ms x SPEED per reading): on a busy machine the world
    # slows down instead of delivering several reps between two looks at the window, so every counter is seen.
    controller = AppController(None, simulation_speed=SPEED, simulation_seed=3, simulation_extra={"max_step_s": VIRTUAL_STEP_S})
    controller.open_store()
    window = MainWindow(controller)
    window.resize(1280, 820)
    window.show()
    seen: dict[str, set] = {"phases": set(), "counters": set(), "banner": set()}
    qasync_loop.run_until_complete(run_session(window, controller, seen))
    session = controller.session
    assert session is not None and session.phase == Phase.DONE

    # Counters and states the patient saw.
    assert {f"Rep {i} of 7, left side" for i in range(1, 8)} <= seen["counters"]
    assert {f"Rep {i} of 7, right side" for i in range(1, 8)} <= seen["counters"]
    assert {Phase.POSITION, Phase.READY, Phase.HOLDING, Phase.RELEASE, Phase.REST, Phase.TURN_OVER} <= seen["phases"]
    assert len(session.reps["left"]) == 7 and len(session.reps["right"]) == 7
    played = window.session_screen.sound.played
    assert played.count(Cue.TARGET) == 14 and played.count(Cue.HOLD_SECOND) >= 14 * 5

    # Every rep the virtual patient really did was found, on the right side.
    sim = current_simulation()
    assert sim is not None
    assert [t.side for t in sim.patient.truth] == [r.side for r in session.all_reps()]

    # The summary on screen equals the signal layer's offline analysis of the same samples.
    assert window.stack.currentWidget() is window.summary_screen
    offline = analyze_recording(session.samples.t_s, session.samples.force_n, side=session.samples.side, params=session.protocol.detector_params())
    online = session.all_reps()
    assert len(offline) == len(online) == 14
    for a, b in zip(online, offline, strict=True):
        assert (a.side, a.index) == (b.side, b.index)
        assert a.onset_s == b.onset_s and a.release_s == b.release_s
        assert a.hold_s == pytest.approx(b.hold_s, abs=1e-9)
        assert a.plateau_n == pytest.approx(b.plateau_n, abs=1e-9)
        assert a.target_met == b.target_met
    shown = window.summary_screen.summary
    expected = summarize(offline, target_hold_s=session.protocol.hold_s)
    assert shown is not None and shown.symmetry is not None and expected.symmetry is not None
    assert shown.symmetry.lsi_pct == pytest.approx(expected.symmetry.lsi_pct)
    assert shown.symmetry.weaker_side == expected.symmetry.weaker_side == sim.patient.profile.weaker_side
    assert f"LSI {expected.symmetry.lsi_pct:.0f} %" in window.summary_screen.sym_detail.text()  # the therapist's figure, on the detail line
    table = window.summary_screen.table
    assert table.rowCount() == 14
    assert table.item(0, 2).text() == f"{offline[0].hold_s:.1f}"

    # Export from the summary writes what `analyze` reads.
    samples_path, reps_path = window.summary_screen.export_csv(tmp_path / "session.csv")
    exported = read_samples_csv(samples_path)
    assert len(exported) == len(session.samples)
    assert set(exported.side) >= {"left", "right"}
    assert reps_path.read_text().count("\n") == 15

    # The session was recorded in the store, complete, with the same result.
    store = controller.store
    assert store is not None
    (record,) = store.sessions()
    assert record.state == "complete" and record.sample_count == len(session.samples)
    assert record.symmetry is not None and record.symmetry["lsi_pct"] == pytest.approx(expected.symmetry.lsi_pct, abs=0.01)
    assert [r.side for r in store.reps(record.id)] == [r.side for r in online]

    # History lists it; a bundle exported from it imports into another store once.
    window.show_history()
    history = window.history_screen
    assert history.table.rowCount() == 1 and "complete" in history.table.item(0, 1).text()
    history.select_row(0)
    (bundle,) = history.export("bundle", tmp_path / "s.zip")
    from sensorapp.storage import SessionStore
    from sensorapp.storage.bundle import import_bundle

    with SessionStore.open(tmp_path / "therapist") as other:
        first = import_bundle(other, bundle)
        again = import_bundle(other, bundle)
        assert first.created and not again.created
        assert other.summary(first.session_id).symmetry.lsi_pct == pytest.approx(expected.symmetry.lsi_pct, abs=0.01)
    window.show_stored_session(record.id)
    assert window.summary_screen.table.rowCount() == 14
    qasync_loop.run_until_complete(window.shutdown())


def test_link_loss_shows_the_banner_and_the_session_carries_on(qasync_loop: asyncio.AbstractEventLoop) -> None:
    # Drop the link for 1.5 s of the rest after the second rep. The virtual patient
    # does exactly 14 reps and does not repeat one it did while the link was down,
    # so the drop must end (reconnect backoff included) before the next press.
    from sensorapp.simulation.patient import PatientProfile, VirtualPatient

    truth = VirtualPatient(PatientProfile(seed=1)).truth
    drop_at = truth[1].release_end_s + 0.5
    assert truth[2].onset_s - drop_at > 6.0
    controller = AppController(None, simulation_speed=12, simulation_seed=1, simulation_extra={"link_drops": (LinkDrop(drop_at, 1.5),)})
    window = MainWindow(controller)
    window.show()
    seen: dict[str, set] = {"phases": set(), "counters": set(), "banner": set()}
    qasync_loop.run_until_complete(run_session(window, controller, seen))
    session = controller.session
    assert session is not None and session.phase == Phase.DONE
    assert any("reconnecting" in text for text in seen["banner"])
    assert controller.source is not None and controller.source.stats.reconnects == 1
    assert len(session.all_reps()) == 14
    t = session.samples.t_s
    assert np.max(np.diff(t)) > 1.5  # the hole is kept, not filled in
    qasync_loop.run_until_complete(window.shutdown())


def test_bluetooth_missing_still_offers_the_simulated_belt(qasync_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    from sensorapp.devices.base import BluetoothUnavailableError

    controller = AppController(None)

    async def no_bluetooth(timeout_s: float = 4.0) -> list:
        raise BluetoothUnavailableError("Bluetooth is not available (no adapter)")

    monkeypatch.setattr(controller, "scan", no_bluetooth)
    window = MainWindow(controller)
    window.show()
    screen = window.connect_screen
    screen.scan()
    qasync_loop.run_until_complete(asyncio.sleep(0.2))
    assert screen.bt_state.isVisible()
    assert "simulated belt" in screen.bt_state.text()
    items = [screen.devices.item(i).text() for i in range(screen.devices.count())]
    assert any("Simulated belt" in text for text in items)
    assert not screen.continue_button.isEnabled()
