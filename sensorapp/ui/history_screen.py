"""History for the therapist: sessions, the trend per side, LSI over time with
its uncertainty band, adherence against 2-3 sessions a day, export and import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
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

from sensorapp.storage import StorageError
from sensorapp.storage.bundle import import_bundle
from sensorapp.storage.export import export_session
from sensorapp.storage.history import adherence, patient_trend

from . import theme
from .controller import AppController

SESSION_COLUMNS = ("Started", "State", "Reps L / R", "Plateau L / R (N)", "Hold L / R (s)", "LSI")
EXPORT_FORMATS = {"csv": "CSV files (*.csv)", "json": "JSON files (*.json)", "bundle": "Session bundles (*.zip)"}


def _pair(sides: dict, key: str, fmt: str) -> str:
    values = []
    for side in ("left", "right"):
        v = (sides.get(side) or {}).get(key)
        values.append(fmt.format(v) if v is not None else "\u2013")
    return " / ".join(values)


class HistoryScreen(QWidget):
    open_session_requested = Signal(int)

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        title = QLabel("History")
        title.setFont(theme.font(28, bold=True))
        self.patient = QComboBox()
        self.patient.setMinimumWidth(220)
        self.patient.currentIndexChanged.connect(lambda _i: self.refresh_sessions())
        self.adherence_label = QLabel("", objectName="muted")
        self.adherence_label.setWordWrap(True)
        self.status = QLabel("", objectName="muted")
        self.status.setWordWrap(True)

        self.table = QTableWidget(0, len(SESSION_COLUMNS))
        self.table.setHorizontalHeaderLabels(SESSION_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.trend = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.trend.setMenuEnabled(False)
        self.trend.setLabel("left", "best-3 plateau", units="N")
        self.trend.addLegend(offset=(10, 10))
        self.lsi = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.lsi.setMenuEnabled(False)
        self.lsi.setLabel("left", "LSI", units="%")

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
        buttons.addStretch(1)
        self.import_button = QPushButton("Import bundle\u2026")
        self.import_button.clicked.connect(self.import_dialog)
        buttons.addWidget(self.import_button)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(QLabel("Patient"))
        top.addWidget(self.patient)
        plots = QVBoxLayout()
        plots.addWidget(self.trend, 3)
        plots.addWidget(self.lsi, 2)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 11)
        middle.addLayout(plots, 10)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.adherence_label)
        lay.addLayout(middle, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self._session_ids: list[int] = []
        controller.history_changed.connect(self.refresh)

    # ------------------------------------------------------------ data

    def showEvent(self, event: object) -> None:
        self.refresh()
        super().showEvent(event)  # type: ignore[arg-type]

    def refresh(self) -> None:
        store = self.controller.store
        if store is None:
            self.status.setText(f"No session store: {self.controller.store_error or 'not opened'}")
            return
        current = self.patient.currentData()
        self.patient.blockSignals(True)
        self.patient.clear()
        for p in store.patients():
            self.patient.addItem(p.name, p.id)
        self.patient.addItem("All patients", None)
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
            adh = adherence(store, patient_id) if records else None
        except StorageError as exc:
            self.status.setText(str(exc))
            return
        records = sorted(records, key=lambda r: r.started_at, reverse=True)
        self._session_ids = [r.id for r in records]
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            sides = r.side_summaries()
            sym = r.symmetry
            lsi = "\u2013"
            if sym:
                lsi = f"{theme.BAND_SYMBOLS.get(sym.get('band', ''), '')} {sym['lsi_pct']:.0f} %"
                if sym.get("uncertain"):
                    lsi += " (uncertain)"
            values = (
                r.started_at.astimezone().strftime("%a %d %b %H:%M"),
                r.state,
                _pair(sides, "reps", "{}"),
                _pair(sides, "plateau_n", "{:.0f}"),
                _pair(sides, "mean_hold_s", "{:.1f}"),
                lsi,
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if col == 5 and sym:
                    item.setForeground(pg.mkColor(theme.BAND_COLOURS.get(sym.get("band", ""), theme.TEXT)))
                self.table.setItem(row, col, item)
        self._draw_trend(trend)
        if adh is not None and adh.days:
            mean = adh.mean_sessions_per_day
            frac = adh.fraction_days_met
            judged = len(adh.judged_days)
            self.adherence_label.setText(
                f"Adherence: {adh.sessions} session(s) over {len(adh.days)} day(s); "
                f"{adh.days_met} of {judged} finished day(s) met {adh.prescribed_min}\u2013{adh.prescribed_max} a day"
                + (f" ({100 * frac:.0f} %)" if frac is not None else "")
                + (f"; {mean:.1f} a day on average." if mean is not None else ".")
            )
        else:
            self.adherence_label.setText("No sessions yet.")
        self._selection_changed()

    def _draw_trend(self, trend: object) -> None:
        self.trend.clear()
        self.lsi.clear()
        for side in ("left", "right"):
            series = trend.side(side)  # type: ignore[attr-defined]
            ok = np.isfinite(series.plateau_n)
            if ok.any():
                colour = theme.SIDE_COLOURS[side]
                self.trend.plot(
                    series.t_posix_s[ok], series.plateau_n[ok], pen=pg.mkPen(colour, width=2),
                    symbol="o" if side == "left" else "s", symbolBrush=colour, symbolPen=None, name=side,
                )
        lsi = trend.lsi  # type: ignore[attr-defined]
        if lsi.lsi_pct.size:
            t = lsi.t_posix_s
            low = pg.PlotDataItem(t, lsi.low_pct, pen=pg.mkPen(None))
            high = pg.PlotDataItem(t, lsi.high_pct, pen=pg.mkPen(None))
            self.lsi.addItem(low)
            self.lsi.addItem(high)
            self.lsi.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(theme.SKY + "40")))
            self.lsi.plot(t, lsi.lsi_pct, pen=pg.mkPen(theme.TEXT, width=2), symbol="o", symbolBrush=theme.TEXT, symbolPen=None)
            for level, colour in ((90, theme.GREEN), (85, theme.VERMILLION)):
                self.lsi.addItem(pg.InfiniteLine(pos=level, angle=0, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)))
            self.lsi.setYRange(max(0.0, float(np.nanmin(lsi.low_pct)) - 5), 105, padding=0)

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
