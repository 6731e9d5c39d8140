"""History for the therapist: sessions, the trend per side, LSI over time with
its uncertainty band, adherence against 2-3 sessions a day, export and import."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorapp.reporting import ReportError, build_patient_report, build_session_report
from sensorapp.storage import StorageError
from sensorapp.storage.bundle import import_bundle
from sensorapp.storage.export import export_session
from sensorapp.storage.history import Adherence, PatientTrend, adherence, patient_trend, prescribed_per_day

from . import theme
from .controller import AppController
from .force_units import force_number, set_force_axis
from .patients_screen import PatientOverviewRow
from .report_pdf import RenderedReport, ReportRenderError, default_paper, render_report_pdf

SESSION_COLUMNS = ("Started", "State", "Reps\nL / R", "Force\nL / R (N)", "Hold\nL / R (s)", "LSI", "Pain")
SESSION_COLUMN_TIPS = (
    "",
    "complete, stopped early, or incomplete (recovered after a crash)",
    "Reps counted on the left / right side",
    "Mean force of the best 3 reps (plateau), left / right",
    "Mean hold, left / right",
    "Limb symmetry index: weaker side / stronger side; ~ marks a difference within one session's measurement error",
    "Pain in the hip before \u2192 after the session, 0 (none) to 10 (worst imaginable); \u2013 when not asked or skipped",
)
DAY_S = 86400.0
CHANGE_POLL_MS = 3000  # how often a shown History screen asks the store whether anything changed
EXPORT_FORMATS = {"csv": "CSV files (*.csv)", "json": "JSON files (*.json)", "bundle": "Session bundles (*.zip)"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def adherence_text(adh: Adherence | None) -> str:
    """One line on sessions per day against the prescription, in words that read
    well for 0, 1 or many sessions and days, with or without finished days."""
    if adh is None or not adh.days or adh.sessions == 0:
        return "No sessions yet."
    # One number when the prescription gives one (a patient's prescription: "3 a day").
    same = adh.prescribed_min == adh.prescribed_max
    prescribed = f"{adh.prescribed_min}" if same else f"{adh.prescribed_min}\u2013{adh.prescribed_max}"
    text = f"{_plural(adh.sessions, 'session')} on {_plural(sum(d.sessions > 0 for d in adh.days), 'day')}."
    judged = adh.judged_days
    if judged:
        met = sum(d.status in ("met", "above") for d in judged)
        text += f" {met} of {_plural(len(judged), 'finished day')} had the prescribed {prescribed} session{'' if prescribed == '1' else 's'}"
        mean = adh.mean_sessions_per_day
        text += f" ({mean:.1f} a day on average)." if mean is not None else "."
    today = next((d for d in adh.days if d.status == "today"), None)
    if today is not None:
        text += f" Today so far: {today.sessions} of {prescribed}."
    return text


def time_range(t_posix_s: np.ndarray) -> tuple[float, float]:
    """An x range that reads as dates: at least a day wide around the sessions."""
    if t_posix_s.size == 0:
        now = time.time()
        return now - 14 * DAY_S, now
    lo, hi = float(np.min(t_posix_s)), float(np.max(t_posix_s))
    pad = max(DAY_S, 0.05 * (hi - lo))
    return lo - pad, hi + pad


def _pair(sides: dict, key: str, fmt: str | Callable[[float], str]) -> str:
    values = []
    for side in ("left", "right"):
        v = (sides.get(side) or {}).get(key)
        values.append((fmt.format(v) if isinstance(fmt, str) else fmt(v)) if v is not None else "\u2013")
    return " / ".join(values)


def pain_text(before: int | None, after: int | None) -> str:
    """Pain before and after, "3 \u2192 5"; "\u2013" for a rating not given, and for none at all."""
    dash = "\u2013"
    if before is None and after is None:
        return dash
    return f"{dash if before is None else before} \u2192 {dash if after is None else after}"


LSI_LABEL_WORDS_MIN_PX = 420  # below this plot width the 85/90 % lines are labelled with their numbers only


class HistoryScreen(QWidget):
    open_session_requested = Signal(int)

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        title = QLabel("History")
        title.setFont(theme.font(28, bold=True))
        self.patient = theme.accessible(QComboBox(), "Patient", "Whose sessions are shown")
        self.patient.setMinimumWidth(220)
        self.patient.currentIndexChanged.connect(lambda _i: self.refresh_sessions())
        self.adherence_label = theme.named(QLabel(""), "muted")
        self.adherence_label.setWordWrap(True)
        self.status = theme.named(QLabel(""), "muted")
        self.status.setWordWrap(True)

        self.table = theme.accessible(QTableWidget(0, len(SESSION_COLUMNS)), "Sessions", "One row per session, newest first; Open summary shows the selected one")
        self.table.setHorizontalHeaderLabels(SESSION_COLUMNS)
        for col, tip in enumerate(SESSION_COLUMN_TIPS):
            header_item = self.table.horizontalHeaderItem(col)
            if tip and header_item is not None:
                header_item.setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        # Columns as wide as their contents, the last takes what is left; the
        # table asks the layout for the sum (theme.fit_table_width), so none is cut.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        header.setDefaultSectionSize(60)  # the stretched last column never grows past the table for this
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.trend = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.trend.setMenuEnabled(False)
        set_force_axis(self.trend.getPlotItem(), controller.settings.unit())
        self.trend.setToolTip("Mean force of the best 3 reps (plateau) per side, each session")
        self.trend.addLegend(offset=(10, 10))
        self.lsi = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.lsi.setMenuEnabled(False)
        self.lsi.setLabel("left", "LSI", units="%")
        self.lsi.setXLink(self.trend)
        for plot in (self.trend, self.lsi):
            plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)  # never "kN" or "x0.001"

        self.export_buttons = {}
        buttons = QHBoxLayout()
        for fmt, label in (("csv", "Export CSV\u2026"), ("json", "Export JSON\u2026"), ("bundle", "Export bundle\u2026")):
            b = QPushButton(label)
            b.clicked.connect(lambda _c=False, f=fmt: self.export_dialog(f))
            b.setEnabled(False)
            self.export_buttons[fmt] = b
            buttons.addWidget(b)
        self.open_button = QPushButton("Open summary")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_selected)
        buttons.addWidget(self.open_button)
        self.report_button = QPushButton("Report (PDF)\u2026")
        self.report_button.setToolTip("A PDF progress report of the chosen patient (with All patients: of the chosen session)")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.report_dialog)
        buttons.addStretch(1)
        self.import_button = QPushButton("Import bundle\u2026")
        self.import_button.clicked.connect(self.import_dialog)
        buttons.addWidget(self.import_button)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(QLabel("Patient"))
        top.addWidget(self.patient)
        top.addWidget(self.report_button)  # beside the patient it reports on (the export row is full at 1024 px)
        plots = QVBoxLayout()
        plots.addWidget(self.trend, 3)
        plots.addWidget(self.lsi, 2)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 1)
        middle.addLayout(plots, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.adherence_label)
        lay.addLayout(middle, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self._session_ids: list[int] = []
        controller.history_changed.connect(self.refresh)
        # Sessions recorded in other rooms (a shared PostgreSQL store) or by `sensorapp record` appear
        # without a click: while the screen is shown, a cheap query every few seconds says whether to redraw.
        self._seen_change: tuple[object, ...] | None = None
        self._lsi_lines: list[tuple[pg.InfiniteLine, str]] = []
        self.change_poll = QTimer(self)
        self.change_poll.setInterval(CHANGE_POLL_MS)
        self.change_poll.timeout.connect(self.poll_changes)

    # ------------------------------------------------------------ data

    def showEvent(self, event: object) -> None:
        self.refresh()
        self.change_poll.start()
        super().showEvent(event)  # type: ignore[arg-type]

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._label_lsi_lines()

    def _label_lsi_lines(self) -> None:
        """A narrow plot (a 1024 px screen) labels the 85/90 % lines with their numbers only: the words would run past its edge."""
        wide = self.lsi.width() >= LSI_LABEL_WORDS_MIN_PX
        for line, words in self._lsi_lines:
            line.label.setFormat(words if wide else words.split(":")[0])

    def hideEvent(self, event: object) -> None:
        self.change_poll.stop()
        super().hideEvent(event)  # type: ignore[arg-type]

    def poll_changes(self) -> bool:
        """Redraw when the store changed since the last look; True when it did."""
        store = self.controller.store
        if store is None:
            return False
        try:
            change = store.latest_change()
        except StorageError as exc:
            self.status.setText(str(exc))
            return False
        if change == self._seen_change:
            return False
        self.refresh()
        return True

    def refresh(self) -> None:
        store = self.controller.store
        if store is None:
            self.status.setText(f"No session store: {self.controller.store_error or 'not opened'}")
            return
        try:
            self._seen_change = store.latest_change()
        except StorageError as exc:
            self.status.setText(str(exc))
            return
        current = self.patient.currentData()
        self.patient.blockSignals(True)
        self.patient.clear()
        for p in store.patients(include_archived=True):  # an archived patient's sessions stay reachable
            self.patient.addItem(p.name + (" (archived)" if p.archived else ""), p.id)
        self.patient.addItem("All patients", None)
        if current is None:
            current = self.controller.patient_id
        index = self.patient.findData(current) if current is not None else self.patient.findText(self.controller.patient_name)
        self.patient.setCurrentIndex(max(0, index))
        self.patient.blockSignals(False)
        self.refresh_sessions()

    def refresh_sessions(self) -> None:
        store = self.controller.store
        if store is None:
            return
        patient_id = self.patient.currentData()
        try:
            records = store.sessions(patient_id)
            trend = patient_trend(store, patient_id)
            # Judged against the patient's prescribed sessions a day, as `sessions --adherence` does.
            adh = adherence(store, patient_id, prescribed_per_day=prescribed_per_day(store, patient_id), records=records) if records else None
        except StorageError as exc:
            self.status.setText(str(exc))
            return
        records = sorted(records, key=lambda r: r.started_at, reverse=True)
        unit = self.controller.settings.unit()
        force_header = self.table.horizontalHeaderItem(3)
        if force_header is not None:
            force_header.setText(f"Force\nL / R ({unit.label})")
        set_force_axis(self.trend.getPlotItem(), unit)
        self._session_ids = [r.id for r in records]
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            sides = r.side_summaries()
            sym = r.symmetry
            lsi = "\u2013"
            if sym:
                lsi = f"{theme.BAND_SYMBOLS.get(sym.get('band', ''), '')} {'~' if sym.get('uncertain') else ''}{sym['lsi_pct']:.0f} %"
            values = (
                r.started_at.astimezone().strftime("%d %b %H:%M"),
                r.state,
                _pair(sides, "reps", "{}"),
                _pair(sides, "plateau_n", lambda v: force_number(v, unit)),
                _pair(sides, "mean_hold_s", "{:.1f}"),
                lsi,
                pain_text(r.pain_before, r.pain_after),
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if col == 5 and sym:
                    item.setForeground(pg.mkColor(theme.BAND_COLOURS.get(sym.get("band", ""), theme.TEXT)))
                    if sym.get("uncertain"):
                        item.setToolTip("Uncertain: within the measurement error of a single session")
                self.table.setItem(row, col, item)
        self._draw_trend(trend)
        flags = ""
        if patient_id is not None:
            overview = PatientOverviewRow(store, store.patient(patient_id))
            flags = "  Flags: " + "; ".join(overview.flag_lines) if overview.flags else ""
        self.adherence_label.setText(adherence_text(adh) + flags)
        theme.fit_table_width(self.table)
        self._selection_changed()

    def _draw_trend(self, trend: PatientTrend) -> None:
        """Both plots on one date axis. Ranges are set, never auto: one session
        gets a day-wide axis, not seconds, and LSI always reads in percent."""
        self.trend.clear()
        self.lsi.clear()
        times: list[np.ndarray] = []
        top_n = 0.0
        for side in ("left", "right"):
            series = trend.side(side)
            ok = np.isfinite(series.plateau_n)
            if ok.any():
                colour = theme.SIDE_COLOURS[side]
                self.trend.plot(
                    series.t_posix_s[ok], series.plateau_n[ok], pen=pg.mkPen(colour, width=2),
                    symbol="o" if side == "left" else "s", symbolSize=10, symbolBrush=colour, symbolPen=None, name=side,
                )  # fmt: skip
                times.append(series.t_posix_s[ok])
                top_n = max(top_n, float(np.max(series.plateau_n[ok])))
        lsi = trend.lsi
        low_pct = 50.0
        if lsi.lsi_pct.size:
            t = lsi.t_posix_s
            times.append(t)
            low = pg.PlotDataItem(t, lsi.low_pct, pen=pg.mkPen(None))
            high = pg.PlotDataItem(t, lsi.high_pct, pen=pg.mkPen(None))
            self.lsi.addItem(low)
            self.lsi.addItem(high)
            self.lsi.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(theme.SKY + "40")))
            self.lsi.plot(t, lsi.lsi_pct, pen=pg.mkPen(theme.TEXT, width=2), symbol="o", symbolSize=10, symbolBrush=theme.TEXT, symbolPen=None)
            finite_low = lsi.low_pct[np.isfinite(lsi.low_pct)]
            if finite_low.size:
                low_pct = min(low_pct, float(np.min(finite_low)) - 5.0)
        self._lsi_lines = []
        for level, colour, words in ((90, theme.GREEN, "90 %: normal above"), (85, theme.VERMILLION, "85 %: asymmetric below")):
            line = pg.InfiniteLine(
                pos=level, angle=0, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                label=words, labelOpts={"position": 0.02, "color": colour, "anchors": [(0, 1), (0, 1)] if level == 90 else [(0, 0), (0, 0)]},
            )  # fmt: skip
            self.lsi.addItem(line)
            self._lsi_lines.append((line, words))
        self._label_lsi_lines()
        x_lo, x_hi = time_range(np.concatenate(times) if times else np.empty(0))
        self.trend.setXRange(x_lo, x_hi, padding=0)
        self.trend.setYRange(0.0, max(50.0, top_n * 1.25), padding=0)
        self.lsi.setYRange(max(0.0, low_pct), 110.0, padding=0)

    # ------------------------------------------------------------ actions

    def selected_session_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self._session_ids[rows[0].row()]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _selection_changed(self) -> None:
        has = self.selected_session_id() is not None
        for b in self.export_buttons.values():
            b.setEnabled(has)
        self.open_button.setEnabled(has)
        self.report_button.setEnabled(has or (self.patient.currentData() is not None and bool(self._session_ids)))

    def _open_selected(self) -> None:
        sid = self.selected_session_id()
        if sid is not None:
            self.open_session_requested.emit(sid)

    def export(self, fmt: str, path: Path) -> list[Path]:
        sid = self.selected_session_id()
        if sid is None or self.controller.store is None:
            raise StorageError("choose a session first")
        written = export_session(self.controller.store, sid, fmt, path)
        self.status.setText("Saved " + ", ".join(p.name for p in written))
        return written

    def write_report(self, path: Path) -> RenderedReport:
        """The chosen patient's progress report over all their sessions; with "All patients", the chosen session's."""
        store = self.controller.store
        if store is None:
            raise StorageError("no session store is open")
        patient_id = self.patient.currentData()
        if patient_id is not None:
            report = build_patient_report(store, store.patient(patient_id))
        else:
            sid = self.selected_session_id()
            if sid is None:
                raise StorageError("choose a patient or a session first")
            report = build_session_report(store, sid)
        rendered = render_report_pdf(report, path, paper=default_paper())
        self.status.setText(f"Saved the report {path.name} ({rendered.pages} page{'s' if rendered.pages != 1 else ''}, {len(report.rows)} sessions).")
        return rendered

    def report_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save the report", str(Path.home() / "report.pdf"), "PDF files (*.pdf)")
        if not name:
            return
        try:
            self.write_report(Path(name))
        except (StorageError, OSError, ReportError, ReportRenderError) as exc:
            self.status.setText(f"Could not save the report: {exc}")

    def export_dialog(self, fmt: str) -> None:
        suffix = {"csv": ".csv", "json": ".json", "bundle": ".zip"}[fmt]
        name, _ = QFileDialog.getSaveFileName(self, f"Export session ({fmt})", str(Path.home() / f"session{suffix}"), EXPORT_FORMATS[fmt])
        if not name:
            return
        try:
            self.export(fmt, Path(name))
        except (StorageError, OSError) as exc:
            self.status.setText(f"Could not export: {exc}")

    def import_file(self, path: Path) -> str:
        if self.controller.store is None:
            raise StorageError("no session store is open")
        result = import_bundle(self.controller.store, path)
        self.status.setText(result.message)
        self.controller.history_changed.emit()
        return result.message

    def import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a session bundle", str(Path.home()), EXPORT_FORMATS["bundle"])
        if not name:
            return
        try:
            self.import_file(Path(name))
        except (StorageError, OSError) as exc:
            self.status.setText(f"Could not import: {exc}")
