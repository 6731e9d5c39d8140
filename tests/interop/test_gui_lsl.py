"""The GUI's LSL toggle: the connect screen's checkbox streams the connected belt and the session's side to LSL."""

from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("PySide6", reason="the GUI tests need PySide6 (in requirements/dev.lock)")
pylsl = pytest.importorskip("pylsl", reason="pylsl is a runtime dependency (requirements/app.lock)")

pytestmark = pytest.mark.gui


def test_checkbox_streams_force_and_the_session_side(qasync_loop: asyncio.AbstractEventLoop) -> None:
    from sensorapp.ui.connect_screen import ConnectScreen
    from sensorapp.ui.controller import AppController

    controller = AppController(simulation_speed=5.0)
    screen = ConnectScreen(controller)
    screen.lsl_check.setChecked(True)
    assert controller.lsl_enabled and controller.lsl is None  # on, but nothing to stream until connected

    values: list = []
    markers: list = []

    def pull(inlet: object, into: list) -> None:
        try:
            while True:
                chunk, _ = inlet.pull_chunk(timeout=0.2)  # type: ignore[attr-defined]
                into += chunk
        except pylsl.util.LostError:
            pass

    async def scenario() -> None:
        await controller.connect_to(controller.simulated_descriptor())
        assert controller.lsl is not None
        serial = controller.source.info.serial  # type: ignore[union-attr]
        found = await asyncio.to_thread(pylsl.resolve_byprop, "source_id", serial, 1, 60.0)
        found_markers = await asyncio.to_thread(pylsl.resolve_byprop, "source_id", serial + "-markers", 1, 60.0)
        assert found and found_markers and found[0].type() == "Force"
        inlet, marker_inlet = (pylsl.StreamInlet(f[0], max_buflen=600, recover=False) for f in (found, found_markers))
        await asyncio.to_thread(inlet.open_stream, 60.0)
        await asyncio.to_thread(marker_inlet.open_stream, 60.0)
        threads = [threading.Thread(target=pull, args=a, daemon=True) for a in ((inlet, values), (marker_inlet, markers))]
        for t in threads:
            t.start()
        controller.start_session()
        pushed = controller.lsl.outlet.samples_pushed
        while controller.lsl.outlet.samples_pushed < pushed + 300:  # 3 s of device time after the session started
            await asyncio.sleep(0.05)
        guard = asyncio.get_running_loop().time() + 60.0  # only stops a hang: no timing is asserted
        while (len(values) < 300 or not markers) and asyncio.get_running_loop().time() < guard:
            await asyncio.sleep(0.05)  # the inlets pull what is on its way before the outlet goes
        screen.lsl_check.setChecked(False)
        assert controller.lsl is None and not controller.lsl_enabled
        for t in threads:
            t.join(30)
        controller.abort_session()
        await controller.disconnect()

    qasync_loop.run_until_complete(scenario())
    assert len(values) >= 300
    assert ["side change: left"] in markers
