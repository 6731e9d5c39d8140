"""After the session: every rep, per-side bars, left/right symmetry, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
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

from calibration.units import Unit
from sensorapp.session.export import export_session_csv
from sensorapp.session.guided import GuidedSession
from sensorapp.signal import SessionSummary
from sensorapp.storage import StorageError

from . import theme
from .force_units import force_number, force_text
from .report_pdf import RenderedReport, ReportRenderError

REP_COLUMNS = ("Side", "Rep", "Held\n(s)", "Force\n(N)", "Peak\n(N)", "Target")
FORCE_COLUMNS = {3: "Force", 4: "Peak"}  # their headers name the unit shown
REP_COLUMN_TIPS = ("", "", "How long the hold lasted", "The steady force of the hold (its plateau)", "The highest force in the rep", "Held for the target time?")


def symmetry_text(summary: SessionSummary) -> tuple[str, str, str]:
    """(headline, detail, band) for the symmetry box; band '' when one side only.

    The headline is for the patient, in plain words; the therapist's figures
    (LSI, its band, how it is computed) are on the detail line."""
    s = summary.symmetry
    if s is None:
        return "Symmetry needs both sides", "Only one side was exercised in this session.", ""
    stronger = "right" if s.weaker_side == "left" else "left"
    if round(s.asymmetry_pct) == 0:
        headline = f"{theme.BAND_SYMBOLS[s.band]}  Both sides equally strong"
    else:
        headline = f"{theme.BAND_SYMBOLS[s.band]}  {s.weaker_side.capitalize()} side {s.asymmetry_pct:.0f} % weaker than {stronger}"
    detail = (
        f"{theme.BAND_PLAIN_WORDS[s.band].capitalize()}. For the therapist: LSI {s.lsi_pct:.0f} %, "
        f"{theme.BAND_WORDS[s.band]}; from the mean force of the best 3 reps per side"
    )
    if s.involved_side:
        detail += f" (involved side: {s.involved_side})"
    if s.uncertain:
        detail += ".\nUncertain: this difference is within the measurement error of a single session; look at the trend over several sessions."
    return headline, detail, s.band


class SummaryScreen(QWidget):
    new_session_requested = Signal()
    device_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: GuidedSession | None = None
        self.summary: SessionSummary | None = None
        self.unit = Unit.N  # forces shown in (the main window sets it from the settings)
        self.last_export: tuple[Path, Path] | None = None
        self._csv_exporter: Callable[[Path], tuple[Path, Path]] | None = None
        self.bundle_exporter: Callable[[Path], Path] | None = None
        self.report_writer: Callable[[Path], RenderedReport] | None = None  # the stored session's PDF report
        title = QLabel("Session summary")
        title.setFont(theme.font(28, bold=True))
        self.status = theme.named(QLabel(""), "muted")
        self.sym_headline = QLabel("")
        self.sym_headline.setFont(theme.font(24, bold=True))
        self.sym_headline.setWordWrap(True)
        self.sym_detail = theme.named(QLabel(""), "muted")
        self.sym_detail.setWordWrap(True)
        self.side_lines = QLabel("")
        self.side_lines.setFont(theme.font(16))
        self.side_lines.setWordWrap(True)
        self.table = theme.accessible(QTableWidget(0, len(REP_COLUMNS)), "Reps", "Each rep: side, number, hold, force, peak, target met")
        self.table.setHorizontalHeaderLabels(REP_COLUMNS)
        for col, tip in enumerate(REP_COLUMN_TIPS):
            header_item = self.table.horizontalHeaderItem(col)
            if tip and header_item is not None:
                header_item.setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        # Columns as wide as their contents, the last takes what is left; the
        # table asks the layout for the sum (theme.fit_table_width), so none is cut.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        header.setDefaultSectionSize(60)  # the stretched last column never grows past the table for this
        self.bars = pg.PlotWidget()
        self.bars.setMenuEnabled(False)
        self.bars.setMouseEnabled(x=False, y=False)
        self.bars.hideButtons()
        # Each bar carries its side and value in its label: no axis to be cut off.
        self.bars.hideAxis("bottom")
        self.bars.hideAxis("left")
        self.bars.setToolTip("Force of the best 3 reps on each side (mean plateau)")
        self.export_button = QPushButton("Export CSV\u2026")
        self.export_button.clicked.connect(self.export_dialog)
        self.bundle_button = QPushButton("Send to therapist (bundle)\u2026")
        self.bundle_button.clicked.connect(self.bundle_dialog)
        self.bundle_button.setEnabled(False)
        self.report_button = QPushButton("Report (PDF)\u2026")
        self.report_button.setToolTip("A PDF report of this session for the patient's file")
        self.report_button.clicked.connect(self.report_dialog)
        self.report_button.setEnabled(False)
        self.again_button = theme.named(QPushButton("New session"), "primary")
        self.again_button.clicked.connect(self.new_session_requested.emit)
        self.device_button = QPushButton("Device")
        self.device_button.clicked.connect(self.device_requested.emit)

        sym_panel = theme.named(QWidget(), "panel")
        sym = QVBoxLayout(sym_panel)
        sym.addWidget(self.sym_headline)
        sym.addWidget(self.sym_detail)
        sym.addWidget(self.side_lines)
        right = QVBoxLayout()
        right.addWidget(sym_panel)
        right.addWidget(self.bars, 1)
        middle = QHBoxLayout()
        middle.addWidget(self.table, 11)
        middle.addLayout(right, 10)
        buttons = QHBoxLayout()
        buttons.addWidget(self.again_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.bundle_button)
        buttons.addWidget(self.report_button)
        buttons.addWidget(self.device_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.status)
        lay.addLayout(middle, 1)
        lay.addLayout(buttons)

    def show_session(
        self,
        session: GuidedSession,
        bundle_exporter: Callable[[Path], Path] | None = None,
        report_writer: Callable[[Path], RenderedReport] | None = None,
    ) -> None:
        """The session just done; export works from its samples in memory."""
        self.session = session
        state = "complete" if session.phase.value == "done" else "stopped early"
        summary = session.summary()

        def csv_exporter(path: Path) -> tuple[Path, Path]:
            return export_session_csv(session.samples, summary, path)

        status = f"{len(summary.reps)} reps counted; session {state}. Every rep here was seen by the belt."
        self.show_summary(summary, status, csv_exporter, bundle_exporter, report_writer)

    def show_summary(
        self,
        summary: SessionSummary,
        status: str,
        csv_exporter: Callable[[Path], tuple[Path, Path]],
        bundle_exporter: Callable[[Path], Path] | None = None,
        report_writer: Callable[[Path], RenderedReport] | None = None,
    ) -> None:
        self.summary = summary
        self.report_writer = report_writer
        self.report_button.setEnabled(report_writer is not None)
        self._csv_exporter = csv_exporter
        self.bundle_exporter = bundle_exporter
        self.bundle_button.setEnabled(bundle_exporter is not None)
        reps = list(summary.reps)
        unit = self.unit
        for col, word in FORCE_COLUMNS.items():
            header_item = self.table.horizontalHeaderItem(col)
            if header_item is not None:
                header_item.setText(f"{word}\n({unit.label})")
        self.table.setRowCount(len(reps))
        for row, rep in enumerate(reps):
            met = "\u2714 met" if rep.target_met else "\u2716 short"
            values = (rep.side or "", str(rep.index), f"{rep.hold_s:.1f}", force_number(rep.plateau_n, unit), force_number(rep.peak_n, unit), met)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if col == 5:
                    item.setForeground(pg.mkColor(theme.GREEN if rep.target_met else theme.VERMILLION))
                self.table.setItem(row, col, item)
        headline, detail, band = symmetry_text(summary)
        self.sym_headline.setText(headline)
        self.sym_headline.setStyleSheet(f"color: {theme.BAND_COLOURS[band]};" if band else "")
        self.sym_detail.setText(detail)
        lines = []
        for side, s in summary.sides.items():
            if s.reps == 0:
                continue
            hold = f"{s.mean_hold_s:.1f} s" if s.mean_hold_s is not None else "\u2013"
            lines.append(f"{side.capitalize()}: {s.reps_target_met} of {s.reps} held {summary.target_hold_s:.0f} s, mean {hold}")
        self.side_lines.setText("\n".join(lines))
        theme.fit_table_width(self.table)
        self._draw_bars(summary)
        self.status.setText(status)

    def set_unit(self, unit: Unit) -> None:
        """Show forces in ``unit``; the summary on screen is redrawn in it."""
        self.unit = unit
        if self.summary is not None and self._csv_exporter is not None:
            self.show_summary(self.summary, self.status.text(), self._csv_exporter, self.bundle_exporter, self.report_writer)

    def _draw_bars(self, summary: SessionSummary) -> None:
        self.bars.clear()
        sides = [s for s in ("left", "right") if s in summary.sides and summary.sides[s].plateau_n is not None]
        for i, side in enumerate(sides):
            value = float(summary.sides[side].plateau_n or 0.0)
            self.bars.addItem(pg.BarGraphItem(x=[i], height=[value], width=0.6, brush=theme.SIDE_COLOURS[side], pen=pg.mkPen(None)))
            label = pg.TextItem(f"{side}: {force_text(value, self.unit)}", color=theme.TEXT, anchor=(0.5, 1.1))
            label.setFont(theme.font(16, bold=True))
            label.setPos(i, value)
            self.bars.addItem(label)
        top = max([summary.sides[s].plateau_n or 0.0 for s in sides] + [10.0])
        self.bars.setYRange(0, top * (1.5 if theme.large_text() else 1.3), padding=0)  # room for the labels above the bars
        self.bars.setXRange(-0.6, max(1, len(sides)) - 0.4, padding=0)

    def export_csv(self, path: Path) -> tuple[Path, Path]:
        """Write the samples CSV (what `analyze` reads) and a reps CSV beside it."""
        assert self._csv_exporter is not None
        self.last_export = self._csv_exporter(path)
        return self.last_export

    def bundle_dialog(self) -> None:
        if self.bundle_exporter is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save a bundle for your therapist", str(Path.home() / "session.zip"), "Session bundles (*.zip)")
        if not name:
            return
        try:
            path = self.bundle_exporter(Path(name))
        except (OSError, ValueError, StorageError) as exc:
            self.status.setText(f"Could not save the bundle: {exc}")
            return
        self.status.setText(f"Saved {path.name}: send this one file to your therapist.")

    def write_report(self, path: Path) -> RenderedReport:
        assert self.report_writer is not None
        rendered = self.report_writer(path)
        self.status.setText(f"Saved the report {path.name} ({rendered.pages} page{'s' if rendered.pages != 1 else ''}).")
        return rendered

    def report_dialog(self) -> None:
        if self.report_writer is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save the session report", str(Path.home() / "session-report.pdf"), "PDF files (*.pdf)")
        if not name:
            return
        try:
            self.write_report(Path(name))
        except (OSError, ValueError, StorageError, ReportRenderError) as exc:
            self.status.setText(f"Could not save the report: {exc}")

    def export_dialog(self) -> None:
        if self._csv_exporter is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Export session as CSV", str(Path.home() / "session.csv"), "CSV files (*.csv)")
        if not name:
            return
        try:
            samples, reps = self.export_csv(Path(name))
        except (OSError, StorageError) as exc:
            self.status.setText(f"Could not export: {exc}")
            return
        self.status.setText(f"Saved {samples.name} and {reps.name}")

