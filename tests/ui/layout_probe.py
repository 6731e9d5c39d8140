"""Lay the real window out on an offscreen screen of a given size and report,
for every screen, whether each primary control lies fully inside the window and
is not clipped by its parents. Run in its own process (the screen size is fixed
when the QApplication starts):

    python tests/ui/layout_probe.py WIDTHxHEIGHT [--scale 1.5] [--shots DIR]

Prints one JSON object: {"window": [w, h], "screen": [w, h], "problems": [...], "checked": N, ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path


def offscreen_screen(width: int, height: int, directory: Path) -> str:
    """QT_QPA_PLATFORM value for an offscreen screen of this size (the plugin's configfile option)."""
    config = directory / f"screen-{width}x{height}.json"
    config.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={config}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--shots", type=Path)
    ap.add_argument("--large-text", action="store_true", help="the large-text / high-contrast mode of the settings")
    args = ap.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="sensorapp-layout-"))
    os.environ["QT_QPA_PLATFORM"] = offscreen_screen(width, height, tmp)
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    os.environ["SENSORAPP_DATA_DIR"] = str(tmp / "data")

    import numpy as np
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTableWidget, QWidget

    from sensorapp.devices.base import DeviceDescriptor
    from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase
    from sensorapp.simulation.patient import PatientProfile, VirtualPatient
    from sensorapp.storage import SessionStore
    from sensorapp.ui import theme
    from sensorapp.ui.controller import AppController
    from sensorapp.ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    theme.apply(app, large_text=args.large_text)
    controller = AppController(None)
    controller.settings.large_text = args.large_text
    controller.open_store()
    window = MainWindow(controller)
    if hasattr(window, "fit_to_screen"):
        geometry = window.fit_to_screen()
    else:  # the code before the fix (for "before" figures): a fixed size, as its app.py did
        window.resize(1280, 820)
        geometry = window.geometry()
    window.show()
    app.processEvents()
    problems: list[str] = []
    checked = 0
    shots: list[str] = []

    def settle() -> None:
        for _ in range(3):
            app.processEvents()

    def check(screen: str, name: str, w: QWidget) -> None:
        nonlocal checked
        checked += 1
        if not w.isVisible():
            problems.append(f"{screen}: {name} is not visible")
            return
        top_left = w.mapTo(window, QPoint(0, 0))
        rect = QRect(top_left, w.size())
        if not window.rect().contains(rect):
            problems.append(f"{screen}: {name} at {rect.getRect()} is outside the window {window.rect().getRect()}")
        shown = w.visibleRegion().boundingRect()
        if shown.width() < w.width() or shown.height() < w.height():
            problems.append(f"{screen}: {name} is clipped to {shown.width()}x{shown.height()} of {w.width()}x{w.height()}")
        text = w.text() if isinstance(w, QLabel | QAbstractButton) else ""
        if text and not (isinstance(w, QLabel) and w.wordWrap()) and "\n" not in text:
            need = w.fontMetrics().horizontalAdvance(text)
            if need > w.contentsRect().width():
                problems.append(f"{screen}: {name} text {text!r} needs {need} px, has {w.contentsRect().width()}")

    def window_rect(w: QWidget) -> QRect:
        return QRect(w.mapTo(window, QPoint(0, 0)), w.size())

    def no_overlaps(screen: str, owner: object, names: list[str]) -> None:
        """Sibling controls must not lie on top of each other (a layout squeezed below its minimum)."""
        widgets = [(n, getattr(owner, n)) for n in names]
        for a, (na, wa) in enumerate(widgets):
            for nb, wb in widgets[a + 1 :]:
                if wa.isAncestorOf(wb) or wb.isAncestorOf(wa):
                    continue
                both = window_rect(wa).intersected(window_rect(wb))
                if both.width() > 2 and both.height() > 2:
                    problems.append(f"{screen}: {na} and {nb} overlap by {both.width()}x{both.height()}")

    def fits(screen: str, page: QWidget) -> None:
        need = page.minimumSizeHint()
        if need.width() > page.width() or need.height() > page.height():
            problems.append(f"{screen}: needs {need.width()}x{need.height()}, has {page.width()}x{page.height()}")

    def table_fits(screen: str, table: QTableWidget) -> None:
        if table.horizontalScrollBar().isVisible():
            problems.append(f"{screen}: the table scrolls sideways")
        for col in range(table.columnCount()):
            if table.sizeHintForColumn(col) > table.columnWidth(col) + 1:
                problems.append(f"{screen}: column {col} needs {table.sizeHintForColumn(col)} px, has {table.columnWidth(col)}")

    def wrapped_table_fits(screen: str, table: QTableWidget) -> None:
        """A table whose cells wrap: no sideways scrolling, no word wider than its column,
        and every row tall enough for its wrapped text (so nothing is cut)."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QStyle

        if table.horizontalScrollBar().isVisible():
            problems.append(f"{screen}: the table scrolls sideways")
        pad = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)  # the item view's text margins
        for row in range(table.rowCount()):
            for col in range(table.columnCount()):
                item = table.item(row, col)
                if item is None or not item.text():
                    continue
                width = table.columnWidth(col) - pad
                wrapped = table.fontMetrics().boundingRect(QRect(0, 0, max(1, width), 10000), int(Qt.TextFlag.TextWordWrap), item.text())
                if wrapped.width() > width:  # a word that cannot be broken is wider than its column
                    problems.append(f"{screen}: row {row} column {col}: {item.text()!r} needs {wrapped.width()} px, has {width}")
                need = wrapped.height()
                if need > table.rowHeight(row):
                    problems.append(f"{screen}: row {row} column {col} needs {need} px of height, has {table.rowHeight(row)}")

    def grab(name: str) -> None:
        if args.shots is not None:
            args.shots.mkdir(parents=True, exist_ok=True)
            path = args.shots / f"{name}-{width}x{height}{'-x' + str(args.scale) if args.scale != 1.0 else ''}{'-large-text' if args.large_text else ''}.png"
            window.grab().save(str(path))
            shots.append(str(path))

    def strip(screen: str) -> None:
        for name in ("device_button", "exercise_button", "history_button", "patients_button", "device_label", "battery_label", "link_label"):
            check(screen, name, getattr(window, name))
        if window.minimumSizeHint().width() > window.width() or window.minimumSizeHint().height() > window.height():
            problems.append(f"{screen}: the window needs {window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}")

    # The status strip as it reads when connected, with a long message.
    window.device_label.setText("GMBelt-E240 (simulated)")
    window.battery_label.setText("\u00b7  battery 87 %")
    window.link_label.setText("\u00b7  streaming  \u00b7")
    window._say("Connected to GMBelt-E240 (simulated). Recovered 2 interrupted sessions; they are in History, marked incomplete.")
    settle()
    # Connect screen, with two devices found.
    window.connect_screen.populate(
        [DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40", -58), DeviceDescriptor("progressor", "E8:3B:12:77:90:02", "Progressor_7702", -71)]
    )
    settle()
    cs = window.connect_screen
    for name in ("scan_button", "connect_button", "disconnect_button", "tare_button", "continue_button", "live_force", "devices"):
        check("connect", name, getattr(cs, name))
    strip("connect")
    fits("connect", cs)
    no_overlaps("connect", cs, ["devices", "scan_button", "connect_button", "disconnect_button", "tare_button", "continue_button", "live_force"])
    if cs.devices.horizontalScrollBar().isVisible():
        problems.append("connect: the device list scrolls sideways")
    grab("connect")

    # Exercise screen before the start: the settings beside the plot.
    window.show_session()
    settle()
    ss = window.session_screen
    for name in ("counter", "force_label", "instruction", "dial", "plot", "start_button", "abort_button"):
        check("session-idle", name, getattr(ss, name))
    for name in ("patient", "reps", "hold", "rest", "first", "both", "band", "band_lo", "band_hi"):
        check("session-idle", f"form.{name}", getattr(ss.form, name))
    idle_plot_px = [ss.plot.width(), ss.plot.height()]
    if ss.plot.height() < 0.3 * window.height():
        problems.append(f"session-idle: the plot is only {ss.plot.height()} px high in a {window.height()} px window")
    strip("session-idle")
    fits("session-idle", ss)
    no_overlaps("session-idle", ss, ["counter", "force_label", "instruction", "dial", "plot", "form", "start_button", "abort_button"])
    grab("session-idle")

    # A session in its first hold (samples fed directly; no belt needed).
    patient = VirtualPatient(PatientProfile(seed=1))
    rate = 100.0
    t = np.arange(0, patient.duration_s + 5, 1 / rate)
    f = patient.force_at(t)
    session = GuidedSession(ExerciseProtocol())
    controller.session = session
    session.start()
    hold_at = patient.truth[0].hold_start_s + 3.0
    i = 0
    while i < t.size and t[i] < hold_at:
        session.feed(t[i : i + 20], f[i : i + 20])
        i += 20
    controller.ring.write(t[:i], f[:i])
    ss.refresh()
    settle()
    for name in ("counter", "force_label", "instruction", "dial", "plot", "feedback", "start_button", "abort_button"):
        check("session-hold", name, getattr(ss, name))
    numeral_px = 0.40 * min(ss.dial.width(), ss.dial.height())
    hold_numeral_px = round(numeral_px)
    numeral_cap_px = ss.dial.numeral_ink_height_px()
    if numeral_px < 80:
        problems.append(f"session-hold: the hold numeral is only {numeral_px:.0f} px")
    strip("session-hold")
    fits("session-hold", ss)
    no_overlaps("session-hold", ss, ["counter", "force_label", "instruction", "dial", "plot", "feedback", "start_button", "abort_button"])
    grab("session-hold")
    while i < t.size and session.phase != Phase.TURN_OVER:
        session.feed(t[i : i + 20], f[i : i + 20])
        i += 20
    controller.ring.write(t[max(0, i - 2500) : i], f[max(0, i - 2500) : i])
    ss.refresh()
    settle()
    for name in ("counter", "instruction", "dial", "feedback", "start_button", "abort_button"):
        check("session-turn-over", name, getattr(ss, name))
    grab("session-turn-over")
    while i < t.size and not session.finished:
        session.feed(t[i : i + 20], f[i : i + 20])
        i += 20

    # Summary of that session.
    window.summary_screen.show_session(session)
    window.stack.setCurrentWidget(window.summary_screen)
    settle()
    sm = window.summary_screen
    for name in ("sym_headline", "sym_detail", "side_lines", "table", "bars", "again_button", "export_button", "bundle_button", "device_button"):
        check("summary", name, getattr(sm, name))
    if sm.table.horizontalScrollBar().isVisible() or sm.table.horizontalHeader().length() > sm.table.viewport().width():
        problems.append("summary: the rep table's columns do not fit its width")
    strip("summary")
    fits("summary", sm)
    table_fits("summary", sm.table)
    no_overlaps("summary", sm, ["sym_headline", "sym_detail", "side_lines", "table", "bars", "again_button", "export_button", "bundle_button", "device_button"])
    grab("summary")

    # History with 0, 1 and many sessions.
    def history(label: str) -> None:
        window.show_history()
        window.history_screen.refresh()
        settle()
        hs = window.history_screen
        for name in ("patient", "adherence_label", "table", "trend", "lsi", "open_button", "import_button"):
            check(label, name, getattr(hs, name))
        for fmt, button in hs.export_buttons.items():
            check(label, f"export {fmt}", button)
        table = hs.table
        if table.horizontalHeader().length() > table.viewport().width() + 1:
            problems.append(f"{label}: the session table's columns need {table.horizontalHeader().length()} px, have {table.viewport().width()}")
        strip(label)
        fits(label, hs)
        table_fits(label, table)
        no_overlaps(label, hs, ["patient", "adherence_label", "table", "trend", "lsi", "open_button", "import_button"])
        widths = [table.columnWidth(c) for c in range(table.columnCount())]
        print(f"# {label}: table {table.width()} min {table.minimumWidth()} columns {widths}", file=sys.stderr)
        view = hs.lsi.getPlotItem().getViewBox().sceneBoundingRect()
        for item in hs.lsi.getPlotItem().items:
            tag = getattr(item, "label", None)  # the 85/90 % reference lines' labels
            if tag is not None and tag.isVisible() and tag.sceneBoundingRect().right() > view.right() + 1:
                problems.append(f"{label}: the LSI line label {tag.toPlainText()!r} runs past the plot's right edge")
        for plot in ("trend", "lsi"):
            if getattr(hs, plot).width() < 0.3 * window.width():
                problems.append(f"{label}: the {plot} plot is only {getattr(hs, plot).width()} px wide")
        grab(label)

    history("history-0")
    with SessionStore.open() as store:
        person = store.add_patient("Patient")
        rec = store.begin_session(patient_id=person.id, protocol=ExerciseProtocol().as_dict(), device={"kind": "simulated", "name": "probe"})
        switch = int(np.searchsorted(t, patient.truth[7].onset_s - 2.0))
        rec.set_side("left")
        rec.add_samples(t[:switch], f[:switch])
        rec.set_side("right")
        rec.add_samples(t[switch:], f[switch:])
        rec.finish(complete=True)
    controller.history_changed.emit()
    history("history-1")
    hs = window.history_screen
    trend_x = hs.trend.getPlotItem().getViewBox().viewRange()[0]

    # The therapist's screens (issue 9): the patient list, the patient and prescription editors, the pain prompt.
    from sensorapp.clinic.prescription import Prescription

    with SessionStore.open() as store:
        first = store.patients()[0]
        store.update_patient(first.id, external_id="MRN-000123", involved_side="left", birth_year=1958, sex="female", body_mass_kg=71.0)
        store.set_prescription(first.id, Prescription(reps_per_side=5, hold_s=6.0, rest_s=10.0, target_kind="percent_of_best", target_low=70, target_high=90))
        store.set_prescription(first.id, Prescription(reps_per_side=7, hold_s=8.0, rest_s=12.0, first_side="right", sessions_per_day=2))
        store.add_patient("Bartholomew Featherstonehaugh-Wright", external_id="MRN-000124", involved_side="right")
        store.add_patient("Chloe Dubois")
    window.show_patients()
    settle()
    ps = window.patients_screen
    ps.select_patient(first.id)
    settle()
    patient_controls = ["table", "search", "show_archived", "detail", "new_button", "edit_button", "archive_button", "prescription_button", "exercise_button"]
    for name in patient_controls:
        check("patients", name, getattr(ps, name))
    strip("patients")
    fits("patients", ps)
    wrapped_table_fits("patients", ps.table)
    no_overlaps("patients", ps, patient_controls)
    grab("patients")

    def check_dialog(label: str, dialog: QWidget, names: list[str]) -> None:
        """A dialog: on the screen, laid out at no less than it needs, each control inside it and unclipped."""
        nonlocal checked
        settle()
        avail = window.screen().availableGeometry()
        if dialog.width() > avail.width() or dialog.height() > avail.height():
            problems.append(f"{label}: {dialog.width()}x{dialog.height()} does not fit the screen {avail.width()}x{avail.height()}")
        need = dialog.minimumSizeHint()
        if need.width() > dialog.width() or need.height() > dialog.height():
            problems.append(f"{label}: needs {need.width()}x{need.height()}, has {dialog.width()}x{dialog.height()}")
        for name in names:
            w = getattr(dialog, name) if isinstance(name, str) else name
            checked += 1
            if not w.isVisible():
                problems.append(f"{label}: {name} is not visible")
                continue
            rect = QRect(w.mapTo(dialog, QPoint(0, 0)), w.size())
            if not dialog.rect().contains(rect):
                problems.append(f"{label}: {name} at {rect.getRect()} is outside the dialog {dialog.rect().getRect()}")
            shown = w.visibleRegion().boundingRect()
            if shown.width() < w.width() or shown.height() < w.height():
                problems.append(f"{label}: {name} is clipped to {shown.width()}x{shown.height()} of {w.width()}x{w.height()}")
            text = w.text() if isinstance(w, QAbstractButton) else ""
            if text and w.fontMetrics().horizontalAdvance(text) > w.contentsRect().width():
                problems.append(f"{label}: {name} text {text!r} does not fit")
        if args.shots is not None:
            path = args.shots / f"{label}-{width}x{height}{'-x' + str(args.scale) if args.scale != 1.0 else ''}{'-large-text' if args.large_text else ''}.png"
            dialog.grab().save(str(path))
            shots.append(str(path))

    editor = ps.edit_selected()
    assert editor is not None
    check_dialog("patient-editor", editor, ["name", "external_id", "birth_year", "sex", "involved", "body_mass", "lever_arm", "notes", "archived", "save_button", "cancel_button"])
    editor.reject()
    prescription = ps.edit_prescription()
    assert prescription is not None
    check_dialog("prescription-editor", prescription, ["reps", "hold", "rest", "first", "target_kind", "target_low", "target_high", "per_day", "start_date", "history", "save_button", "close_button"])
    table_fits("prescription-editor", prescription.history)  # type: ignore[attr-defined]
    prescription.reject()
    from sensorapp.ui.pain_prompt import PainPrompt

    pain = PainPrompt("before", lambda _v: None, window)
    pain.open()
    check_dialog("pain-prompt", pain, ["question", "scale_words", "skip_button", *pain.buttons])
    pain.reject()
    lsi_y = hs.lsi.getPlotItem().getViewBox().viewRange()[1]
    report = {
        "window": [window.width(), window.height()],
        "geometry": list(geometry.getRect()),
        "screen": [window.screen().availableGeometry().width(), window.screen().availableGeometry().height()],
        "problems": problems,
        "checked": checked,
        "idle_plot_px": idle_plot_px,
        "hold_numeral_px": hold_numeral_px,
        "hold_numeral_cap_px": numeral_cap_px,
        "hold_numeral_cap_share": numeral_cap_px / window.height(),
        "one_session_x_span_s": trend_x[1] - trend_x[0],
        "one_session_lsi_y": lsi_y,
        "adherence_one": hs.adherence_label.text(),
        "adherence_zero_expected": "No sessions yet.",
        "shots": shots,
    }
    print(json.dumps(report))
    window.controller.close_store()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
