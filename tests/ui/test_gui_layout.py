"""What a newcomer hit in the window (issue 14): sizes, clipping, words, looks.

The window-size tests run tests/ui/layout_probe.py in a fresh process per screen
(the offscreen screen's size is fixed when Qt starts) and assert that every
primary control of every screen lies inside the window, unclipped, with no
overlaps and no table scrolling sideways. Nothing here depends on wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.storage.history import Adherence, AdherenceDay
from sensorapp.ui import theme

pytestmark = pytest.mark.gui

PROBE = Path(__file__).with_name("layout_probe.py")


def run_probe(size: str, scale: float, shots: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QT_SCALE_FACTOR")}
    cmd = [sys.executable, str(PROBE), size, "--scale", str(scale), "--shots", str(shots)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("size", "scale", "logical"),
    [("1024x600", 1.0, (1024, 600)), ("1280x720", 1.0, (1280, 720)), ("1920x1080", 1.0, (1920, 1080)), ("1920x1080", 1.5, (1280, 720))],
)
def test_every_screen_fits_the_window_and_the_window_fits_the_screen(size: str, scale: float, logical: tuple[int, int], tmp_path: Path) -> None:
    report = run_probe(size, scale, tmp_path)
    assert report["problems"] == []
    assert report["checked"] >= 80  # the probe really looked at the controls
    assert tuple(report["screen"]) == logical
    w, h = report["window"]
    assert w <= logical[0] and h <= logical[1]  # the whole window is on the screen
    assert (w, h) == (min(1280, logical[0]), min(820, logical[1]))  # preferred size where it fits, else the screen
    assert len(report["shots"]) >= 7 and all(Path(p).stat().st_size > 5000 for p in report["shots"])
    # History with one session: a date axis at least a day wide, LSI read in percent.
    assert report["one_session_x_span_s"] >= 86400.0
    lo, hi = report["one_session_lsi_y"]
    assert 0.0 <= lo <= 85.0 and 100.0 <= hi <= 120.0
    assert "0 of 0" not in report["adherence_one"] and report["adherence_one"].startswith("1 session on 1 day.")


# ------------------------------------------------------------ looks, in-process


def grab(widget) -> QImage:  # type: ignore[no-untyped-def]
    widget.show()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    return widget.grab().toImage()


def colour_fraction(image: QImage, colour: str, x0: int, y0: int, x1: int, y1: int, tolerance: int = 40) -> float:
    target = QColor(colour)
    hits = total = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            c = image.pixelColor(x, y)
            total += 1
            hits += abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) <= tolerance
    return hits / max(1, total)


@pytest.fixture
def styled(qapp: object) -> object:
    theme.apply(qapp)  # type: ignore[arg-type]
    return qapp


def test_a_disabled_primary_button_does_not_look_enabled(styled: object) -> None:
    from PySide6.QtWidgets import QPushButton

    enabled = theme.named(QPushButton("Start exercise"), "primary")
    disabled = theme.named(QPushButton("Start exercise"), "primary")
    disabled.setEnabled(False)
    for b in (enabled, disabled):
        b.resize(240, 60)
    on, off = grab(enabled), grab(disabled)
    # Sample the fill away from the text and border.
    assert colour_fraction(on, theme.BLUE, 6, 6, 30, 54) > 0.8
    assert colour_fraction(off, theme.BLUE, 6, 6, 30, 54) < 0.05


def test_spin_box_arrows_are_visible(styled: object) -> None:
    from PySide6.QtWidgets import QSpinBox

    spin = QSpinBox()
    spin.resize(160, 44)
    image = grab(spin)
    w = image.width()
    near_white = colour_fraction(image, theme.TEXT, w - 26, 2, w - 2, image.height() - 2, tolerance=90)
    assert near_white > 0.04  # two solid triangles in the button column


@pytest.mark.parametrize("size", [(400, 260), (260, 400), (300, 300)])
def test_the_hold_dial_ring_is_never_cut_by_the_widget_edge(qapp: object, size: tuple[int, int]) -> None:
    from sensorapp.ui.hold_dial import HoldDial

    dial = HoldDial()
    dial.resize(*size)
    dial.show_hold(6.0, 6.0, done=True)  # a full green ring
    image = grab(dial)
    w, h = image.width(), image.height()
    for name, box in (("left", (0, 0, 2, h)), ("right", (w - 2, 0, w, h)), ("top", (0, 0, w, 2)), ("bottom", (0, h - 2, w, h))):
        assert colour_fraction(image, theme.GREEN, *box) == 0.0, f"the ring touches the {name} edge"
    # ...and it is really drawn: green on the ring's horizontal diameter.
    assert colour_fraction(image, theme.GREEN, 0, h // 2 - 2, w, h // 2 + 2) > 0.05


def test_turn_over_shows_a_countdown_not_the_hold(qapp: object) -> None:
    from sensorapp.ui.hold_dial import HoldDial

    dial = HoldDial()
    dial.show_turn_over(5.2)
    assert dial.texts() == ("6", "turn over")
    dial.show_turn_over(0.0)
    assert dial.texts() == ("", "lie still")
    dial.show_idle(6.0)
    assert dial.texts() == ("6", "second hold")


def test_the_trace_takes_the_side_colour_and_the_threshold_is_labelled(qapp: object) -> None:
    from sensorapp.acquisition.ring_buffer import MirroredRing
    from sensorapp.ui.live_plot import LiveForcePlot

    plot = LiveForcePlot(MirroredRing(100))
    plot.set_side("left")
    assert plot.curve.opts["pen"].color().name().lower() == theme.SKY.lower()
    plot.set_side("right")
    assert plot.curve.opts["pen"].color().name().lower() == theme.ORANGE.lower()
    assert plot.threshold.label is not None and "press" in plot.threshold.label.toPlainText()


def test_feedback_from_the_last_session_does_not_carry_into_the_next(qapp: object) -> None:
    from sensorapp.ui.controller import AppController
    from sensorapp.ui.session_screen import SessionScreen

    controller = AppController(None)
    screen = SessionScreen(controller)
    session = GuidedSession(ExerciseProtocol())
    session.feedback = "Rep 7: held 6.9 s at 81 N, target met."
    session.phase = Phase.DONE
    controller.session = session
    screen.refresh()
    assert screen.feedback.text().startswith("Rep 7")
    controller.session = None  # "New session"
    screen.refresh()
    assert screen.feedback.text() == ""


# ------------------------------------------------------------ words


def _summary_with_asymmetry():  # type: ignore[no-untyped-def]
    patient = VirtualPatient(PatientProfile(seed=1))
    t = np.arange(0, patient.duration_s + 5, 0.01)
    f = patient.force_at(t)
    s = GuidedSession(ExerciseProtocol())
    s.start()
    for i in range(0, t.size, 20):
        s.feed(t[i : i + 20], f[i : i + 20])
    assert s.phase == Phase.DONE
    return s.summary()


def test_the_patient_reads_plain_words_and_the_lsi_is_on_the_detail_line(qapp: object) -> None:
    from sensorapp.ui.summary_screen import symmetry_text

    summary = _summary_with_asymmetry()
    sym = summary.symmetry
    assert sym is not None
    headline, detail, _band = symmetry_text(summary)
    stronger = "right" if sym.weaker_side == "left" else "left"
    assert f"{sym.weaker_side.capitalize()} side {sym.asymmetry_pct:.0f} % weaker than {stronger}" in headline
    assert "LSI" not in headline and "plateau" not in headline
    assert f"LSI {sym.lsi_pct:.0f} %" in detail


def test_bluetooth_missing_is_said_plainly_with_the_details_apart(qasync_loop: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from sensorapp.devices.base import BluetoothUnavailableError
    from sensorapp.ui.connect_screen import BLUETOOTH_MISSING
    from sensorapp.ui.controller import AppController
    from sensorapp.ui.main_window import MainWindow

    controller = AppController(None)

    async def no_bluez(timeout_s: float = 4.0) -> list:
        raise BluetoothUnavailableError("Bluetooth is not available (no BlueZ system service: No such file or directory)")

    monkeypatch.setattr(controller, "scan", no_bluez)
    window = MainWindow(controller)
    window.show()
    window.connect_screen.scan()
    qasync_loop.run_until_complete(asyncio.sleep(0.2))  # type: ignore[attr-defined]
    screen = window.connect_screen
    assert screen.bt_state.text() == BLUETOOTH_MISSING
    assert "BlueZ" not in screen.bt_state.text() and "No such file" not in screen.bt_state.text()
    assert screen.bt_detail.isVisible() and "no BlueZ system service" in screen.bt_detail.text()


def _day(d: date, sessions: int, status: str) -> AdherenceDay:
    return AdherenceDay(d, sessions, sessions, sessions, status)


def test_adherence_reads_well_for_none_one_and_many_sessions() -> None:
    from sensorapp.ui.history_screen import adherence_text

    today = date(2026, 12, 3)
    assert adherence_text(None) == "No sessions yet."
    assert adherence_text(Adherence(1, 2, 3, ())) == "No sessions yet."
    one = adherence_text(Adherence(1, 2, 3, (_day(today, 1, "today"),)))
    assert one == "1 session on 1 day. Today so far: 1 of 2\u20133."
    days = tuple(_day(today - timedelta(days=k), n, s) for k, n, s in ((3, 2, "met"), (2, 1, "below"), (1, 3, "met"), (0, 1, "today")))
    many = adherence_text(Adherence(1, 2, 3, days))
    assert many.startswith("7 sessions on 4 days. 2 of 3 finished days had the prescribed 2\u20133 sessions (2.0 a day on average).")
    assert many.endswith("Today so far: 1 of 2\u20133.")
    assert "(s)" not in one + many and "0 of 0" not in one + many
