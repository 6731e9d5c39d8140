"""Keyboard and screen-reader use, large text, the About and Settings dialogs, and units shown.

Keys are sent as real key events to the focused widget (QTest), names are read back through
Qt's accessibility interface (what a screen reader gets). Nothing here depends on wall time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from calibration.units import LBF_IN_N, STANDARD_GRAVITY
from sensorapp.devices.base import DeviceDescriptor
from sensorapp.licences import bundled_parts
from sensorapp.session.guided import ExerciseProtocol, GuidedSession
from sensorapp.settings import Settings
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.ui import theme
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow
from sensorapp.ui.shortcuts import SHORTCUTS, key_text

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("layout_probe.py")


@pytest.fixture
def window(qapp: QApplication) -> Iterator[MainWindow]:
    theme.apply(qapp)
    controller = AppController(None)
    controller.open_store()
    w = MainWindow(controller)
    w.resize(1280, 720)
    w.show()
    w.activateWindow()
    QApplication.processEvents()
    yield w
    controller.close_store()
    w.deleteLater()
    theme.apply(qapp, large_text=False)  # module state: the next test starts in normal mode


def finished_session() -> GuidedSession:
    patient = VirtualPatient(PatientProfile(seed=1))
    t = np.arange(0, patient.duration_s + 5, 0.01)
    f = patient.force_at(t)
    session = GuidedSession(ExerciseProtocol())
    session.start()
    for i in range(0, t.size, 20):
        session.feed(t[i : i + 20], f[i : i + 20])
        if session.finished:
            break
    assert session.finished
    return session


def screens(w: MainWindow) -> list[tuple[str, QWidget]]:
    w.connect_screen.populate([DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40", -58)])
    w.summary_screen.show_session(finished_session())
    return [("connect", w.connect_screen), ("session", w.session_screen), ("summary", w.summary_screen), ("history", w.history_screen), ("patients", w.patients_screen)]


def controls(root: QWidget, visible_only: bool = False) -> list[QWidget]:
    return [c for c in root.findChildren(QWidget) if theme.is_control(c) and (c.isVisible() or not visible_only)]


def screen_reader_name(w: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(w)
    return iface.text(QAccessible.Text.Name) if iface is not None else ""


# ------------------------------------------------------------ names for screen readers


def test_every_control_on_every_screen_and_dialog_has_an_accessible_name(window: MainWindow) -> None:
    from sensorapp.ui.about_dialog import AboutDialog
    from sensorapp.ui.settings_dialog import SettingsDialog
    from sensorapp.ui.shortcuts import ShortcutsDialog

    checked = 0
    for name, page in screens(window):
        window.stack.setCurrentWidget(page)
        QApplication.processEvents()
        assert theme.name_controls(window) == [], name
        for c in controls(page) + controls(window.centralWidget()):
            assert c.accessibleName().strip(), f"{name}: {type(c).__name__} {c.objectName()!r} has no accessible name"
            # What a screen reader gets. On Linux Qt names a combo box by its current value and
            # gives its label through the "labelled by" relation, so there the name is the value.
            if isinstance(c, QComboBox) and sys.platform.startswith("linux"):
                assert screen_reader_name(c) in (c.currentText(), c.accessibleName())
            else:
                assert screen_reader_name(c) == c.accessibleName()
            checked += 1
    for dialog in (AboutDialog(Path("/d"), Path("/c"), window), SettingsDialog(window.controller.settings, None, window), ShortcutsDialog(window)):
        assert theme.name_controls(dialog) == []
        found = controls(dialog)
        assert found, type(dialog).__name__
        for c in found:
            assert c.accessibleName().strip(), f"{type(dialog).__name__}: {type(c).__name__} has no accessible name"
            checked += 1
    assert checked >= 60
    # Names are what the patient reads, without key hints: "Start", not "Start  (space)".
    assert window.session_screen.start_button.accessibleName() == "Start"
    assert window.session_screen.form.reps.accessibleName() == "Reps per side"  # its form label
    assert window.menu_button.accessibleName() == "Settings and help"  # an icon button named by hand
    dial = window.session_screen.dial
    dial.show_hold(3.2, 6.0, done=False)
    assert dial.accessibleName() == "Hold countdown" and dial.accessibleDescription() == "3, held 3.2 of 6 s"
    dial.show_hold(6.0, 6.0, done=True)
    assert dial.accessibleDescription() == "done, release slowly"


def test_spoken_text_drops_key_hints_and_marks() -> None:
    assert theme.spoken_text("Start  (space)") == "Start"
    assert theme.spoken_text("&Export CSV\u2026") == "Export CSV"
    assert theme.spoken_text("Start exercise \u2192") == "Start exercise"
    assert theme.spoken_text("Salt && pepper") == "Salt & pepper"


# ------------------------------------------------------------ keyboard alone


def tab_cycle(w: MainWindow, presses: int = 80) -> list[QWidget]:
    seen: list[QWidget] = []
    for _ in range(presses):
        target = QApplication.focusWidget() or w
        QTest.keyClick(target, Qt.Key.Key_Tab)
        QApplication.processEvents()
        focused = QApplication.focusWidget()
        if focused is not None and focused not in seen:
            seen.append(focused)
    return seen


@pytest.mark.parametrize("screen", ["connect", "session", "summary", "history", "patients"])
def test_tab_reaches_every_control_of_each_screen_and_the_top_bar(window: MainWindow, screen: str) -> None:
    page = dict(screens(window))[screen]
    window.stack.setCurrentWidget(page)
    QApplication.processEvents()
    reached = tab_cycle(window)
    expected = [
        c for c in controls(page, visible_only=True) + controls(window.centralWidget(), visible_only=True)
        if c.isEnabled() and c.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]  # fmt: skip
    assert expected
    missing = [f"{type(c).__name__}:{c.accessibleName()}" for c in expected if not any(r is c or c.isAncestorOf(r) for r in reached)]
    assert missing == []
    for b in (window.device_button, window.exercise_button, window.history_button, window.patients_button, window.menu_button):
        assert b in reached
    assert not [r for r in reached if r.inherits("QGraphicsView")]  # the plots take no keys: Tab skips them
    names = [r.accessibleName() for r in reached if theme.is_control(r)]
    assert len(names) == len(set(names)), f"two controls share a name: {names}"


def test_switching_screens_by_key_and_space_starts_the_session(window: MainWindow) -> None:
    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.history_screen
    QTest.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.connect_screen
    # Outside the Exercise screen, space presses the focused control.
    lsl = window.connect_screen.lsl_check
    lsl.setFocus()
    QTest.keyClick(lsl, Qt.Key.Key_Space)
    assert lsl.isChecked()
    assert window.controller.session is None
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.session_screen
    focused = QApplication.focusWidget()
    assert focused is not None and "LineEdit" not in type(focused).__name__  # not in the patient's name
    QTest.keyClick(focused, Qt.Key.Key_Space)
    session = window.controller.session
    assert session is not None and session.active
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert session.finished


def test_every_shortcut_is_bound_and_listed_in_the_docs(window: MainWindow) -> None:
    docs = (ROOT / "docs" / "gui.md").read_text()
    section = docs[docs.index("## Keyboard") :]
    for s in SHORTCUTS:
        if s.action:
            assert window.shortcuts[s.action].key().toString() == s.keys.replace(" ", "")
            assert callable(getattr(window, s.action))
        for key in re.split(r",\s+", s.keys):
            assert f"`{key}`" in section, f"docs/gui.md does not list {key}"
    assert key_text(SHORTCUTS[0]) == "Space"


def count_colour(image: QImage, colour: str, tolerance: int = 30) -> int:
    target = QColor(colour)
    hits = 0
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            hits += abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) <= tolerance
    return hits


def test_the_focused_control_has_a_visible_yellow_ring(window: MainWindow) -> None:
    page = window.connect_screen
    window.stack.setCurrentWidget(page)
    for widget in (page.scan_button, page.lsl_check, page.devices, window.history_button):
        window.menu_button.setFocus()
        QApplication.processEvents()
        before = count_colour(widget.grab().toImage(), theme.FOCUS)
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        QApplication.processEvents()
        after = count_colour(widget.grab().toImage(), theme.FOCUS)
        assert before == 0 and after > 2 * (widget.width() + widget.height()), f"{type(widget).__name__}: {before} -> {after} yellow pixels"


# ------------------------------------------------------------ large text


def run_probe(size: str, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "QT_SCALE_FACTOR")}
    done = subprocess.run([sys.executable, str(PROBE), size, "--large-text", "--shots", str(tmp)], capture_output=True, text=True, env=env, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("size", "min_cap_px"), [("1024x600", 70), ("1280x720", 90)])
def test_large_text_mode_still_fits_every_screen(size: str, min_cap_px: int, tmp_path: Path) -> None:
    report = run_probe(size, tmp_path)
    assert report["problems"] == []
    assert report["checked"] >= 80
    assert all(p.endswith("-large-text.png") for p in report["shots"])
    # The hold numeral from 2 m: >= 6 mm of cap height is enough (1 cm per 3.5 m); 96 dpi is 0.265 mm a pixel.
    cap = report["hold_numeral_cap_px"]
    assert cap >= min_cap_px and cap * 25.4 / 96 >= 6.0
    assert report["hold_numeral_cap_share"] >= 0.12


def test_large_text_scales_fonts_live_and_back(window: MainWindow, qapp: QApplication) -> None:
    counter = window.session_screen.counter
    body = QApplication.font().pointSizeF()
    normal = counter.font().pointSizeF()
    device_label = window.device_label.font().pointSizeF()
    theme.apply(qapp, large_text=True)
    assert counter.font().pointSizeF() == pytest.approx(normal * theme.HEADLINE_SCALE)
    assert QApplication.font().pointSizeF() == pytest.approx(body * theme.BODY_SCALE)
    assert window.device_label.font().pointSizeF() == device_label  # the top bar keeps its size
    assert theme.TEXT == "#FFFFFF" and theme.BACKGROUND == "#000000"
    theme.apply(qapp, large_text=False)
    assert counter.font().pointSizeF() == pytest.approx(normal)
    assert QApplication.font().pointSizeF() == pytest.approx(body)
    assert theme.NORMAL_COLOURS["TEXT"] == theme.TEXT


# ------------------------------------------------------------ settings, units, about


def test_settings_dialog_saves_and_the_screens_show_the_chosen_unit(qapp: QApplication, tmp_path: Path) -> None:
    from sensorapp.ui.settings_dialog import SettingsDialog

    theme.apply(qapp)
    settings = Settings(path=tmp_path / "settings.json")
    controller = AppController(settings)
    controller.open_store()
    w = MainWindow(controller)
    try:
        w.summary_screen.show_session(finished_session())
        w.resize(1280, 720)
        w.show()
        controller.last_force_n = 98.0665
        dialog = SettingsDialog(settings, None, w)
        dialog.units.setCurrentIndex(dialog.units.findData("kgf"))
        dialog.volume.setValue(40)
        dialog.sound_on.setChecked(False)
        assert controller.pain_prompts is True
        dialog.pain_prompts.setChecked(False)
        assert dialog.apply_to(settings) is True
        controller.apply_settings()
        saved = Settings.load(tmp_path / "settings.json")
        assert (saved.units, saved.volume_pct, saved.sound_on, saved.pain_prompts) == ("kgf", 40, False, False)
        assert controller.pain_prompts is False  # the next session asks nothing
        assert (w.session_screen.sound.sound_on, w.session_screen.sound.volume_pct) == (False, 40)
        w.session_screen.refresh()
        assert w.session_screen.force_label.text() == "10.0 kgf"
        table = w.summary_screen.table
        assert table.horizontalHeaderItem(3).text() == "Force\n(kgf)"
        rep = w.summary_screen.summary.reps[0]
        assert table.item(0, 3).text() == f"{rep.plateau_n / STANDARD_GRAVITY:.1f}"
        axis = w.session_screen.plot.widget.getPlotItem().getAxis("left")
        assert axis.labelUnits == "kgf" and axis.scale == pytest.approx(1 / STANDARD_GRAVITY)
        w.history_screen.refresh_sessions()
        assert w.history_screen.table.horizontalHeaderItem(3).text() == "Force\nL / R (kgf)"
        settings.units = "lbf"
        controller.apply_settings()
        assert w.session_screen.force_label.text() == f"{98.0665 / LBF_IN_N:.1f} lbf"
        assert table.horizontalHeaderItem(4).text() == "Peak\n(lbf)"
    finally:
        controller.close_store()
        w.deleteLater()


def test_window_geometry_and_last_belt_are_remembered(qapp: QApplication, tmp_path: Path) -> None:
    avail = QApplication.primaryScreen().availableGeometry()
    saved = [avail.x() + 10, avail.y() + 20, avail.width() - 40, avail.height() - 60]
    settings = Settings(path=tmp_path / "settings.json", window_geometry=saved)
    controller = AppController(settings)
    w = MainWindow(controller)
    assert w.restore_geometry() is True
    assert [w.x(), w.y(), w.width(), w.height()] == saved
    settings.window_geometry = [50000, 50000, 700, 500]  # on a screen that is gone
    assert w.restore_geometry() is False
    controller._remember(DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40"))
    assert Settings.load(tmp_path / "settings.json").last_belt is not None
    assert controller.last_device() == DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40")
    w.deleteLater()


def test_old_qsettings_values_move_into_the_settings_file_once(qapp: QApplication, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from sensorapp.ui.app import migrate_qsettings

    old = QSettings(str(tmp_path / "old.ini"), QSettings.Format.IniFormat)
    old.setValue("patient", "Anna")
    old.setValue("last_device", {"kind": "belt", "address": "AA:BB", "name": "GMBelt-AABB"})
    settings = Settings(path=tmp_path / "settings.json")
    assert migrate_qsettings(old, settings) is True
    assert settings.patient_name == "Anna" and settings.last_belt is not None and settings.last_belt.address == "AA:BB"
    assert migrate_qsettings(QSettings(str(tmp_path / "empty.ini"), QSettings.Format.IniFormat), Settings()) is False


EXPECTED_LICENCES = {
    "PySide6-Essentials": "LGPL-3.0",
    "shiboken6": "LGPL-3.0",
    "pyqtgraph": "MIT",
    "bleak": "MIT",
    "numpy": "BSD-3-Clause",
    "qasync": "BSD-2-Clause",
    "platformdirs": "MIT",
    "pylsl": "MIT",
}


def test_about_lists_the_bundled_parts_with_their_metadata_licences(window: MainWindow) -> None:
    from sensorapp.ui.about_dialog import AboutDialog

    parts = {p.name: p for p in bundled_parts()}
    for name, licence in EXPECTED_LICENCES.items():
        assert licence in parts[name].licence, f"{name}: metadata says {parts[name].licence!r}"
        if name != "pylsl":  # pylsl's wheel ships no licence file; its metadata names MIT
            assert parts[name].licence_files, f"{name} has no licence text to show"
    dialog = AboutDialog(Path("/data/here"), Path("/config/here"), window)
    assert "/data/here" in dialog.facts.text() and "/config/here" in dialog.facts.text()
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert names[0] == "Python" and set(EXPECTED_LICENCES) <= set(names)
    dialog.table.selectRow(names.index("PySide6-Essentials"))
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in dialog.text.toPlainText()
    assert "GNU GENERAL PUBLIC LICENSE" in dialog.text.toPlainText()  # the LGPL builds on the GPL text
    dialog.table.selectRow(names.index("pyqtgraph"))
    assert "Permission is hereby granted" in dialog.text.toPlainText()  # the MIT text from its wheel
