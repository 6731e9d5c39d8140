"""The calibration wizard dialog on the simulated belt: the virtual bench hangs each mass, the user
waits for "still" and captures, the fit is shown and saved, and the belt holds it. Progressor: zero only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from calibration import CalibrationStore
from calibration.wizard import Step
from sensorapp.devices.simulated import current_simulation
from sensorapp.ui.calibration_dialog import CalibrationDialog
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


async def connected_window(**extra: object) -> tuple[AppController, MainWindow]:
    # Virtual clock: a busy machine slows the simulated bench instead of skipping its settling.
    controller = AppController(None, simulation_speed=20.0, simulation_seed=1, simulation_extra={"max_step_s": 0.02, **extra})
    window = MainWindow(controller)
    window.show()
    await controller.connect_to(controller.simulated_descriptor())
    window.connect_screen.refresh()
    return controller, window


async def until(condition: object, timeout_s: float = 120) -> None:
    async with asyncio.timeout(timeout_s):  # only a hang fails, not a slow machine
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


def test_the_wizard_calibrates_the_simulated_belt(qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    # Everything inside the loop: the simulated radio's pump runs only while the loop does.
    qasync_loop.run_until_complete(_calibrate_in_the_dialog(tmp_path))


async def _calibrate_in_the_dialog(tmp_path: Path) -> None:
    _controller, window = await connected_window()
    screen = window.connect_screen
    assert screen.calibrate_button.isEnabled() and screen.calibrate_button.accessibleName()
    dialog = screen.open_calibration()
    assert isinstance(dialog, CalibrationDialog)
    store = CalibrationStore(tmp_path / "calibrations.json")
    dialog.source.calibration_store = store  # type: ignore[union-attr]  # never the user's file
    assert dialog.pages.currentWidget() is dialog.masses_page and dialog.masses() == [2.0, 5.0, 10.0]
    # Masses list: remove one, add a duplicate (refused), add a new one.
    dialog.mass_list.setCurrentRow(2)
    dialog.remove_button.click()
    dialog.mass_input.setValue(5.0)
    dialog.add_button.click()
    assert "already in the list" in dialog.masses_error.text()
    dialog.mass_input.setValue(8.0)
    dialog.add_button.click()
    assert dialog.masses() == [2.0, 5.0, 8.0]
    dialog.start_button.click()
    assert dialog.pages.currentWidget() is dialog.capture_page and dialog.runner is not None
    assert "Step 1 of 4" in dialog.step_title.text()
    wizard = dialog.runner.wizard
    sim = current_simulation()
    assert sim is not None and sim.rig is not None

    await until(wizard.ready)
    dialog.capture_button.click()  # unloaded
    assert "Step 2 of 4: 2 kg" in dialog.step_title.text()
    # Right after the bench hangs 2 kg it bounces: once the window is full, "moving" and a refused capture.
    await until(lambda: wizard.window().full)
    dialog.refresh_live()
    assert "moving" in dialog.still_label.text()
    dialog.capture_button.click()
    assert "The load is still moving: wait until it hangs still" in dialog.capture_message.text()
    assert len(wizard.points) == 1
    for _ in range(3):
        await until(wizard.ready)
        dialog.refresh_live()
        assert "still" in dialog.still_label.text() and "moving" not in dialog.still_label.text()
        dialog.capture_button.click()

    assert wizard.step is Step.FIT
    assert dialog.pages.currentWidget() is dialog.result_page
    assert dialog.fit is not None and "Linearity error" in dialog.fit_summary.text()
    assert dialog.points_table.rowCount() == 4
    assert dialog.fit.calibration.newtons_per_count == pytest.approx(sim.belt.gain, rel=0.001)  # type: ignore[attr-defined]
    dialog.save_button.click()
    await until(lambda: dialog.saved is not None or "Not saved" in dialog.save_message.text())
    assert dialog.saved is not None, dialog.save_message.text()
    assert "Written to the belt and read back" in dialog.save_message.text()
    stored = store.get("GMB-0001E240")
    assert stored is not None and stored.newtons_per_count == dialog.fit.calibration.newtons_per_count
    assert sim.belt.stored_calibration == dialog.saved.device_readback  # type: ignore[attr-defined]
    dialog.close_button.click()
    assert sim.rig is None  # back on the patient
    await window.shutdown()


def test_the_wizard_offers_only_zero_for_a_progressor(qasync_loop: asyncio.AbstractEventLoop) -> None:
    async def zero_it() -> None:
        _controller, window = await connected_window(device="progressor")
        dialog = window.connect_screen.open_calibration()
        assert isinstance(dialog, CalibrationDialog)
        assert dialog.pages.currentWidget() is dialog.tare_page
        dialog.tare_button.click()
        assert not dialog.tare_button.isEnabled()
        await until(lambda: dialog.tare_button.isEnabled())
        assert "Zeroed:" in dialog.tare_message.text() and " N removed" in dialog.tare_message.text()
        dialog.close()
        await window.shutdown()

    qasync_loop.run_until_complete(zero_it())
