"""Draw a ``sensorapp.reporting.Report`` as a PDF with Qt's QPdfWriter and QPainter.

Text is real PDF text (fonts embedded with their Unicode map, so a text
extractor reads every number); plots are drawn with QPainter as vectors. The
layout runs twice: a dry pass that only measures counts the pages, so every
footer can say "page 2 of 5"; the second pass draws. A4 and US Letter.

Needs a QGuiApplication for fonts; ``render_report_pdf`` makes one when none
exists (the command line sets ``QT_QPA_PLATFORM=offscreen`` first where there
is no display).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPolygonF,
)

from sensorapp.reporting.model import Report, SessionRow, TraceRep, build_session_report
from sensorapp.signal.symmetry import AMBER_MIN_LSI_PCT, GREEN_MIN_LSI_PCT
from sensorapp.storage.atomic import atomic_file
from sensorapp.storage.store import SessionStore

PAPER_SIZES: dict[str, QPageSize.PageSizeId] = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
RESOLUTION_DPI = 300
MARGIN_MM = 15.0
FONT_FAMILY = "DejaVu Sans"  # has N·m, ≥, ✔ and the en dash; Qt falls back to another sans where missing

# Okabe-Ito, as on screen; the darker sky blue of the palette's blue keeps left readable on white paper.
LEFT_COLOUR = "#0072B2"
RIGHT_COLOUR = "#E69F00"
SIDE_COLOURS = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR}
BAND_COLOURS = {"green": "#009E73", "amber": "#E69F00", "red": "#D55E00"}
BAND_WORDS = {"green": "normal", "amber": "borderline", "red": "asymmetric"}
BAND_SYMBOLS = {"green": "\u2714", "amber": "!", "red": "\u2716"}
SEVERITY_COLOURS = {"info": "#0072B2", "warning": "#E69F00", "alert": "#D55E00", "high": "#D55E00", "medium": "#E69F00", "low": "#0072B2"}
INK = QColor("#1A1A1A")
MUTED = QColor("#5A6470")
RULE = QColor("#B8C0C8")
SHADE = QColor("#EEF2F5")
GRID = QColor("#DDE3E8")

# Type sizes (pt): one scale for the whole report.
TITLE_PT = 15.0
HEADING_PT = 10.5
BODY_PT = 8.5
SMALL_PT = 7.0
TABLE_PT = 7.0


class ReportRenderError(Exception):
    """The PDF could not be written (one line for the user)."""


@dataclass(frozen=True)
class Column:
    head: str  # two lines, the unit in the second
    width_mm: float
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignRight


TABLE_COLUMNS: tuple[Column, ...] = (
    Column("Date\n(local time)", 27.0, Qt.AlignmentFlag.AlignLeft),
    Column("Reps\nL / R", 13.0, Qt.AlignmentFlag.AlignHCenter),
    Column("Holds\nmet / reps", 15.0, Qt.AlignmentFlag.AlignHCenter),
    Column("Plateau\nL (N)", 13.0),
    Column("Plateau\nR (N)", 13.0),
    Column("L / R\n(N/kg)", 15.5, Qt.AlignmentFlag.AlignHCenter),
    Column("L / R\n(N\u00b7m/kg)", 15.5, Qt.AlignmentFlag.AlignHCenter),
    Column("LSI\n(%)", 10.0),
    Column("LSI interval\n(%)", 20.0, Qt.AlignmentFlag.AlignHCenter),
    Column("Band\n", 20.0, Qt.AlignmentFlag.AlignLeft),
    Column("Pain 0\u201310\nbefore / after", 18.5, Qt.AlignmentFlag.AlignHCenter),
)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "\u2013" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _pair(left: float | None, right: float | None, digits: int) -> str:
    if left is None and right is None:
        return "\u2013"
    return f"{_fmt(left, digits)} / {_fmt(right, digits)}"


def _pain_text(row: SessionRow) -> str:
    if row.pain_before is None and row.pain_after is None:
        return "\u2013"
    before = "\u2013" if row.pain_before is None else str(row.pain_before)
    after = "\u2013" if row.pain_after is None else str(row.pain_after)
    return f"{before} / {after}"


def table_cells(row: SessionRow) -> tuple[str, ...]:
    """One session's cells, in TABLE_COLUMNS order, exactly as printed."""
    interval = "\u2013"
    if row.lsi_low_pct is not None and row.lsi_high_pct is not None:
        interval = f"{row.lsi_low_pct:.1f}\u2013{row.lsi_high_pct:.1f}" + ("" if row.lsi_interval_basis == "ci95" else " \u2020")
    band = f"{BAND_SYMBOLS[row.lsi_band]} {BAND_WORDS[row.lsi_band]}" if row.lsi_band in BAND_WORDS else "\u2013"
    reps = f"{row.reps.get('left', 0)} / {row.reps.get('right', 0)}" + (f" +{row.reps_unsided}" if row.reps_unsided else "")
    local = row.started_at.astimezone()
    return (
        local.strftime("%Y-%m-%d %H:%M") + ("" if row.complete else " *"),
        reps,
        f"{row.holds_met} of {row.holds_total}",
        _fmt(row.plateau_n.get("left")),
        _fmt(row.plateau_n.get("right")),
        _pair(row.plateau_n_per_kg.get("left"), row.plateau_n_per_kg.get("right"), 2),
        _pair(row.torque_nm_per_kg.get("left"), row.torque_nm_per_kg.get("right"), 2),
        _fmt(row.lsi_pct),
        interval,
        band,
        _pain_text(row),
    )


def ensure_gui_application() -> QGuiApplication:
    """The running Qt application, or a new one (fonts need it)."""
    app = QGuiApplication.instance()
    if app is None:
        app = QGuiApplication(sys.argv[:1])
    assert isinstance(app, QGuiApplication)
    return app


@dataclass(frozen=True)
class RenderedReport:
    data: bytes  # the PDF file
    pages: int
    clipped: tuple[str, ...]  # text that did not fit its box (none expected; the tests check)


def render_report_pdf(report: Report, path: str | Path, *, paper: str = "a4") -> RenderedReport:
    """Write ``report`` to ``path`` (atomically: a failure leaves any old file)."""
    rendered = render_report_bytes(report, paper=paper)
    try:
        with atomic_file(path, "wb", what="write the report") as fh:
            fh.write(rendered.data)
    except OSError as exc:
        raise ReportRenderError(f"could not write {path}: {exc.strerror or exc}") from None
    return rendered


def render_report_bytes(report: Report, *, paper: str = "a4") -> RenderedReport:
    """The PDF in memory, with its page count."""
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES)}, got {paper!r}")
    ensure_gui_application()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION_DPI)
    writer.setPageSize(QPageSize(PAPER_SIZES[paper]))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"{report.header.title}: {report.header.patient_name}")
    writer.setCreator(f"sensorapp {report.provenance.app_version}")
    dry = _ReportLayout(report, writer, painter=None, total_pages=0)
    dry.run()
    painter = QPainter()
    if not painter.begin(writer):
        raise ReportRenderError("Qt could not start drawing the PDF")
    try:
        layout = _ReportLayout(report, writer, painter=painter, total_pages=dry.page)
        layout.run()
    finally:
        painter.end()
    buffer.close()
    data = bytes(QByteArray(buffer.data()).data())
    return RenderedReport(data, layout.page, tuple(layout.overflows))


@dataclass
class _ReportLayout:
    """Lays the report out page by page; with ``painter=None`` it only measures (the dry pass)."""

    report: Report
    writer: QPdfWriter
    painter: QPainter | None
    total_pages: int
    page: int = 0
    y: float = 0.0
    overflows: list[str] = field(default_factory=list)  # text that did not fit its box (tests expect none)

    def __post_init__(self) -> None:
        size = self.writer.pageLayout().fullRectPixels(RESOLUTION_DPI)
        self.page_w = float(size.width())
        self.page_h = float(size.height())
        self.left = self.mm(MARGIN_MM)
        self.right = self.page_w - self.mm(MARGIN_MM)
        self.top = self.mm(MARGIN_MM)
        self.bottom = self.page_h - self.mm(MARGIN_MM + 6)  # the footer sits below
        self.width = self.right - self.left

    # ------------------------------------------------------------------ primitives

    @staticmethod
    def mm(value: float) -> float:
        return value * RESOLUTION_DPI / 25.4

    def font(self, pt: float, bold: bool = False) -> QFont:
        f = QFont(FONT_FAMILY)
        f.setPointSizeF(pt)
        f.setBold(bold)
        # No "fi"/"fl" ligatures: a text extractor (or a search in the PDF viewer) would see U+FB01, not "fi".
        f.setFeature(QFont.Tag("liga"), 0)
        return f

    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.writer)

    def line_h(self, pt: float) -> float:
        return self.metrics(self.font(pt)).height()

    def text(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        pt: float = BODY_PT,
        *,
        bold: bool = False,
        colour: QColor = INK,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    ) -> float:
        """One line at top-left (x, y) within width w; returns its height. Text wider than w is recorded as clipped."""
        font = self.font(pt, bold)
        fm = self.metrics(font)
        if fm.horizontalAdvance(text) > w + 0.5:
            self.overflows.append(text)
        if self.painter is not None:
            self.painter.setFont(font)
            self.painter.setPen(colour)
            flags = int(align | Qt.AlignmentFlag.AlignTop)
            self.painter.drawText(QRectF(x, y, w, fm.height()), flags, text)
        return fm.height()

    def wrapped(self, x: float, y: float, w: float, text: str, pt: float = BODY_PT, *, colour: QColor = INK, bold: bool = False) -> float:
        """Word-wrapped text; returns the height used."""
        font = self.font(pt, bold)
        fm = self.metrics(font)
        words: list[str] = []
        for word in text.split():
            # A word wider than the box (a long record number, a pasted path) is broken where it must be.
            while fm.horizontalAdvance(word) > w and len(word) > 1:
                cut = max(1, next((k for k in range(len(word), 0, -1) if fm.horizontalAdvance(word[:k]) <= w), 1))
                words.append(word[:cut])
                word = word[cut:]
            words.append(word)
        lines: list[str] = []
        current = ""
        for word in words:
            trial = f"{current} {word}".strip()
            if fm.horizontalAdvance(trial) <= w or not current:
                current = trial
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
        for i, line in enumerate(lines):
            self.text(x, y + i * fm.height(), w, line, pt, colour=colour, bold=bold)
        return len(lines) * fm.height()

    def fitting_pt(self, text: str, w: float, pt: float = TABLE_PT, smallest_pt: float = 5.0) -> float:
        """``pt``, or a smaller size (not below ``smallest_pt``) at which an unusually wide cell still fits its column."""
        size = pt
        # Font sizes snap to whole device pixels, so shrink step by step rather than by the ratio of widths.
        while size > smallest_pt and self.metrics(self.font(size)).horizontalAdvance(text) > w:
            size = round(size - 0.25, 2)
        return max(size, smallest_pt)

    def elided(self, text: str, w: float, pt: float = SMALL_PT) -> str:
        """``text`` shortened with "…" to fit ``w`` (running headers and footers only: the full text is on page 1)."""
        return self.metrics(self.font(pt)).elidedText(text, Qt.TextElideMode.ElideRight, w)

    def wrapped_height(self, w: float, text: str, pt: float = BODY_PT) -> float:
        saved, self.painter = self.painter, None
        saved_overflows = list(self.overflows)
        try:
            return self.wrapped(0, 0, w, text, pt)
        finally:
            self.painter = saved
            self.overflows = saved_overflows

    def hline(self, y: float, colour: QColor = RULE, width_mm: float = 0.25, x0: float | None = None, x1: float | None = None) -> None:
        if self.painter is not None:
            self.painter.setPen(QPen(colour, self.mm(width_mm)))
            self.painter.drawLine(QPointF(self.left if x0 is None else x0, y), QPointF(self.right if x1 is None else x1, y))

    def fill(self, rect: QRectF, colour: QColor) -> None:
        if self.painter is not None:
            self.painter.fillRect(rect, colour)

    # ------------------------------------------------------------------ pages

    def new_page(self) -> None:
        if self.page > 0 and self.painter is not None:
            self.writer.newPage()
        self.page += 1
        self.y = self.top
        h = self.report.header
        who = h.patient_name + (f" \u00b7 record no. {h.external_id}" if h.external_id else "")
        if self.page > 1:
            self.text(self.left, self.y, self.width * 0.7, self.elided(f"{h.title} \u00b7 {who}", self.width * 0.7), SMALL_PT, colour=MUTED)
            period = f"{h.period_from.isoformat()} to {h.period_to.isoformat()}"
            self.text(self.left + self.width * 0.7, self.y, self.width * 0.3, period, SMALL_PT, colour=MUTED, align=Qt.AlignmentFlag.AlignRight)
            self.y += self.line_h(SMALL_PT) + self.mm(1)
            self.hline(self.y)
            self.y += self.mm(3)
        foot_y = self.bottom + self.mm(2.5)
        self.hline(foot_y)
        generated = h.generated_at.astimezone().strftime("%Y-%m-%d %H:%M")
        suffix = f" \u00b7 generated {generated} by sensorapp {self.report.provenance.app_version} \u00b7 not a diagnosis"
        room = self.width * 0.75 - self.metrics(self.font(SMALL_PT)).horizontalAdvance(suffix)
        self.text(self.left, foot_y + self.mm(1), self.width * 0.75, self.elided(who, room) + suffix, SMALL_PT, colour=MUTED)
        total = self.total_pages or self.page
        self.text(self.left + self.width * 0.75, foot_y + self.mm(1), self.width * 0.25, f"Page {self.page} of {total}", SMALL_PT, colour=MUTED, align=Qt.AlignmentFlag.AlignRight)

    def need(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.new_page()

    def heading(self, title: str, keep_with: float = 0.0) -> None:
        h = self.line_h(HEADING_PT) + self.mm(1.5)
        self.need(h + keep_with)
        self.text(self.left, self.y, self.width, title, HEADING_PT, bold=True)
        self.y += h

    # ------------------------------------------------------------------ the report

    def run(self) -> None:
        self.new_page()
        self.title_block()
        self.patient_block()
        self.flags_block()
        if len(self.report.rows) >= 2:
            self.plateau_plot()
            self.lsi_plot()
        self.trace_plot()
        self.session_table()
        if len(self.report.rows) == 1:
            self.rep_table()
        self.provenance_block()

    def title_block(self) -> None:
        h = self.report.header
        self.text(self.left, self.y, self.width, f"{h.title}: isometric hip abduction (gluteus medius)", TITLE_PT, bold=True)
        self.y += self.line_h(TITLE_PT)
        self.text(
            self.left, self.y, self.width,
            "Side-lying, top leg pressed up into an ankle belt with a load cell; force measured by the GMBelt, analysed by sensorapp.",
            SMALL_PT, colour=MUTED,
        )
        self.y += self.line_h(SMALL_PT) + self.mm(1)
        self.hline(self.y, INK, 0.5)
        self.y += self.mm(2)

    def patient_block(self) -> None:
        h = self.report.header
        side = {"left": "left", "right": "right", None: "none recorded"}.get(h.involved_side, str(h.involved_side))
        born = []
        if h.birth_year:
            born.append(f"born {h.birth_year}")
        if h.sex:
            born.append(h.sex)
        left_fields = [
            ("Patient", h.patient_name),
            ("Record no.", h.external_id or "\u2013"),
            ("Born, sex", ", ".join(born) or "\u2013"),
            ("Involved side", side),
            ("Body mass", f"{h.body_mass_kg:g} kg" if h.body_mass_kg else "not recorded"),
            ("Lever arm", f"{h.lever_arm_m:g} m (hip to belt)" if h.lever_arm_m else "not recorded"),
        ]
        days = (h.period_to - h.period_from).days + 1
        right_fields = [
            ("Period", f"{h.period_from.isoformat()} to {h.period_to.isoformat()} ({days} day{'s' if days != 1 else ''})"),
            ("Sessions", str(len(self.report.rows))),
        ]
        for i, line in enumerate(h.prescription):
            right_fields.append(("Prescription" if i == 0 else "", line))
        right_fields.append(("", f"(from the {h.prescription_source})"))
        if self.report.adherence_text:
            right_fields.append(("Adherence", self.report.adherence_text))
        label_w = self.mm(22)
        col_w = self.width / 2 - self.mm(3)
        row_h = self.line_h(BODY_PT) + self.mm(0.6)
        # Long values wrap within their column; measure first so the box fits them.
        right_h = sum(max(row_h, self.wrapped_height(col_w - label_w, v) + self.mm(0.6)) for _, v in right_fields)
        value_w = col_w - label_w - self.mm(2)
        left_h = sum(max(row_h, self.wrapped_height(value_w, v) + self.mm(0.6)) for _, v in left_fields)
        box_h = max(left_h, right_h) + self.mm(4)
        self.need(box_h)
        self.fill(QRectF(self.left, self.y, self.width, box_h), SHADE)
        y0 = self.y + self.mm(2)
        y = y0
        for i, (label, value) in enumerate(left_fields):
            self.text(self.left + self.mm(2), y, label_w, label, BODY_PT, colour=MUTED)
            used = self.wrapped(self.left + self.mm(2) + label_w, y, value_w, value, BODY_PT, bold=(i == 0))
            y += max(row_h, used + self.mm(0.6))
        x = self.left + self.width / 2 + self.mm(1)
        y = y0
        for label, value in right_fields:
            self.text(x, y, label_w, label, BODY_PT, colour=MUTED)
            used = self.wrapped(x + label_w, y, col_w - label_w, value, BODY_PT)
            y += max(row_h, used + self.mm(0.6))
        self.y += box_h + self.mm(4)

    def flags_block(self) -> None:
        r = self.report
        lines: list[tuple[str, QColor, bool]] = []
        if r.flags is None:
            lines.append((f"Flags and advice were not assessed: {r.flags_not_assessed or 'not available'}.", MUTED, False))
        elif not r.flags:
            lines.append(("No flags: nothing needs attention by the app's rules (asymmetry, adherence, inactivity, pain).", INK, False))
        else:
            for f in r.flags:
                # The severity is a word too: colour never carries it alone.
                lines.append((f"\u25b2 {f.severity.capitalize()}: {f.text}", QColor(SEVERITY_COLOURS.get(f.severity, "#D55E00")), True))
        if r.advice is not None:
            lines.append((f"Advice, pending the therapist's decision: {r.advice.text}", INK, True))
            lines.extend((f"\u2022 {s}", INK, False) for s in r.advice.suggestions)
        elif r.flags is not None:
            lines.append(("No progression advice pending.", INK, False))
        if r.progression:
            parts = "; ".join(f"{BAND_SYMBOLS['green' if c.met else 'red']} {c.name}: {c.detail}" for c in r.progression)
            lines.append((f"Progression rule: {parts}.", MUTED, False))
        height = sum(self.wrapped_height(self.width - self.mm(4), t) for t, _, _ in lines)
        as_of = r.header.generated_at.astimezone().strftime("%Y-%m-%d")
        self.heading(f"Flags and advice (as of {as_of})", keep_with=height)
        for text, colour, bold in lines:
            self.y += self.wrapped(self.left + self.mm(2), self.y, self.width - self.mm(4), text, BODY_PT, colour=colour, bold=bold)
        self.y += self.mm(4)

    # ------------------------------------------------------------------ plots

    def plot_area(self, height_mm: float, right_mm: float = 1.0) -> QRectF:
        """The data rectangle of a plot placed at the cursor, leaving room for tick labels (and ``right_mm`` on the right)."""
        label_w = self.mm(11)
        return QRectF(self.left + label_w, self.y + self.mm(1), self.width - label_w - self.mm(right_mm), self.mm(height_mm))

    def axes(
        self,
        area: QRectF,
        x_ticks: Sequence[tuple[float, str]],
        y_ticks: Sequence[tuple[float, str]],
        x_range: tuple[float, float],
        y_range: tuple[float, float],
    ) -> None:
        """Frame, grid and tick labels (ticks in data units)."""
        tick_h = self.line_h(SMALL_PT)
        for value, label in y_ticks:
            y = self.sy(area, y_range, value)
            self.hline(y, GRID, 0.2, area.left(), area.right())
            self.text(area.left() - self.mm(11), y - tick_h / 2, self.mm(10), label, SMALL_PT, colour=MUTED, align=Qt.AlignmentFlag.AlignRight)
        for value, label in x_ticks:
            x = self.sx(area, x_range, value)
            if self.painter is not None:
                self.painter.setPen(QPen(GRID, self.mm(0.2)))
                self.painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            w = self.mm(24)
            self.text(x - w / 2, area.bottom() + self.mm(0.8), w, label, SMALL_PT, colour=MUTED, align=Qt.AlignmentFlag.AlignHCenter)
        if self.painter is not None:
            self.painter.setPen(QPen(RULE, self.mm(0.3)))
            self.painter.setBrush(Qt.BrushStyle.NoBrush)
            self.painter.drawRect(area)

    @staticmethod
    def sx(area: QRectF, x_range: tuple[float, float], value: float) -> float:
        lo, hi = x_range
        return area.left() + (value - lo) / (hi - lo) * area.width()

    @staticmethod
    def sy(area: QRectF, y_range: tuple[float, float], value: float) -> float:
        lo, hi = y_range
        return area.bottom() - (value - lo) / (hi - lo) * area.height()

    def date_ticks(self, t0: float, t1: float) -> tuple[tuple[float, float], list[tuple[float, str]]]:
        """A padded time range and day-aligned ticks with date labels (at most 8)."""
        span = max(t1 - t0, 86400.0)
        pad = span * 0.03
        lo, hi = t0 - pad, t1 + pad
        days = span / 86400.0
        step_days = next(s for s in (1, 2, 7, 14, 28, 56, 91, 182, 365, 730) if days / s <= 8)
        first = datetime.fromtimestamp(lo, UTC).astimezone().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        ticks = []
        moment = first
        while moment.timestamp() <= hi:
            ticks.append((moment.timestamp(), moment.strftime("%d %b %Y" if step_days >= 28 else "%d %b")))
            moment += timedelta(days=step_days)
        return (lo, hi), ticks

    @staticmethod
    def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
        span = hi - lo
        raw = span / max(count, 1)
        mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
        step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
        start = math.ceil(lo / step) * step
        return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]

    def legend(self, x: float, y: float, items: Sequence[tuple[str, str, str]]) -> None:
        """Legend entries (label, colour, marker) in a row from (x, y)."""
        for label, colour, marker in items:
            if self.painter is not None:
                self.painter.setPen(QPen(QColor(colour), self.mm(0.5)))
                self.painter.drawLine(QPointF(x, y + self.mm(1.3)), QPointF(x + self.mm(5), y + self.mm(1.3)))
                self.marker(QPointF(x + self.mm(2.5), y + self.mm(1.3)), colour, marker)
            self.text(x + self.mm(6), y, self.mm(38), label, SMALL_PT)
            x += self.mm(6) + self.metrics(self.font(SMALL_PT)).horizontalAdvance(label) + self.mm(5)

    def marker(self, at: QPointF, colour: str, kind: str) -> None:
        if self.painter is None or kind == "":
            return
        r = self.mm(0.7)
        self.painter.setPen(QPen(QColor(colour), self.mm(0.25)))
        self.painter.setBrush(QBrush(QColor(colour)))
        if kind == "circle":
            self.painter.drawEllipse(at, r, r)
        else:
            self.painter.drawRect(QRectF(at.x() - r, at.y() - r, 2 * r, 2 * r))

    def plateau_plot(self) -> None:
        height = 36.0
        self.heading("Strength per side over time: best-3 plateau (N)", keep_with=self.mm(height + 12))
        series = {side: self.report.side_series(side) for side in ("left", "right")}
        t_all = np.concatenate([t for t, _ in series.values()])
        v_all = np.concatenate([v for _, v in series.values()])
        if t_all.size == 0:
            self.y += self.wrapped(self.left, self.y, self.width, "No plateau values in this period.", BODY_PT, colour=MUTED)
            return
        x_range, x_ticks = self.date_ticks(float(t_all.min()), float(t_all.max()))
        top = float(v_all.max()) * 1.1 + 1.0
        y_range = (0.0, top)
        y_ticks = [(v, f"{v:g}") for v in self.nice_ticks(0.0, top)]
        area = self.plot_area(height)
        self.axes(area, x_ticks, y_ticks, x_range, y_range)
        involved = self.report.header.involved_side
        for side, (t, v) in series.items():
            colour = SIDE_COLOURS[side]
            marker = "circle" if side == "left" else "square"
            self.polyline(area, x_range, y_range, t, v, colour, markers=marker if t.size <= 90 else "")
        self.y = area.bottom() + self.line_h(SMALL_PT) + self.mm(1.5)
        self.legend(
            area.left(), self.y,
            [(f"{side}{' (involved)' if side == involved else ''}", SIDE_COLOURS[side], "circle" if side == "left" else "square") for side in ("left", "right")],
        )
        self.y += self.line_h(SMALL_PT) + self.mm(4)

    def polyline(
        self, area: QRectF, x_range: tuple[float, float], y_range: tuple[float, float], t: np.ndarray, v: np.ndarray, colour: str, *, markers: str
    ) -> None:
        if self.painter is None or t.size == 0:
            return
        points = [QPointF(self.sx(area, x_range, float(a)), self.sy(area, y_range, float(b))) for a, b in zip(t, v, strict=True)]
        self.painter.setPen(QPen(QColor(colour), self.mm(0.45)))
        self.painter.setBrush(Qt.BrushStyle.NoBrush)
        self.painter.drawPolyline(QPolygonF(points))
        for p in points:
            self.marker(p, colour, markers)

    def lsi_plot(self) -> None:
        height = 32.0
        t, lsi, low, high = self.report.lsi_series()
        self.heading("Limb symmetry index (LSI, %) with its interval", keep_with=self.mm(height + 12))
        if t.size == 0:
            self.y += self.wrapped(self.left, self.y, self.width, "No session in this period has both sides, so there is no LSI.", BODY_PT, colour=MUTED)
            self.y += self.mm(3)
            return
        x_range, x_ticks = self.date_ticks(float(t.min()), float(t.max()))
        finite_low = low[np.isfinite(low)]
        finite_high = high[np.isfinite(high)]
        y_lo = math.floor(min(80.0, float(np.min(lsi)), float(finite_low.min()) if finite_low.size else 80.0) / 5) * 5
        y_hi = math.ceil(max(105.0, float(np.max(lsi)), float(finite_high.max()) if finite_high.size else 105.0) / 5) * 5
        y_range = (float(y_lo), float(y_hi))
        y_ticks = [(v, f"{v:g}") for v in self.nice_ticks(y_lo, y_hi)]
        area = self.plot_area(height, right_mm=10.0)
        if self.painter is not None:
            # The bands as faint zones behind everything: normal (>= 90 %), borderline (85-90 %), asymmetric (< 85 %).
            bands = ((GREEN_MIN_LSI_PCT, y_range[1], "green"), (AMBER_MIN_LSI_PCT, GREEN_MIN_LSI_PCT, "amber"), (y_range[0], AMBER_MIN_LSI_PCT, "red"))
            for lo, hi, band in bands:
                if hi > lo:
                    zone = QColor(BAND_COLOURS[band])
                    zone.setAlpha(22)
                    top_y, bottom_y = self.sy(area, y_range, hi), self.sy(area, y_range, lo)
                    self.painter.fillRect(QRectF(area.left(), top_y, area.width(), bottom_y - top_y), zone)
        self.axes(area, x_ticks, y_ticks, x_range, y_range)
        if self.painter is not None:
            ok = np.isfinite(low) & np.isfinite(high)
            if ok.any():
                path = QPainterPath()
                upper = [QPointF(self.sx(area, x_range, float(a)), self.sy(area, y_range, float(b))) for a, b in zip(t[ok], high[ok], strict=True)]
                lower = [QPointF(self.sx(area, x_range, float(a)), self.sy(area, y_range, float(b))) for a, b in zip(t[ok], low[ok], strict=True)]
                path.addPolygon(QPolygonF(upper + lower[::-1]))
                path.closeSubpath()
                self.painter.fillPath(path, QColor(0, 114, 178, 45))
            for level, colour in ((GREEN_MIN_LSI_PCT, BAND_COLOURS["green"]), (AMBER_MIN_LSI_PCT, BAND_COLOURS["red"])):
                pen = QPen(QColor(colour), self.mm(0.35))
                pen.setStyle(Qt.PenStyle.DashLine)
                self.painter.setPen(pen)
                y = self.sy(area, y_range, level)
                self.painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
        for level, colour in ((GREEN_MIN_LSI_PCT, BAND_COLOURS["green"]), (AMBER_MIN_LSI_PCT, BAND_COLOURS["red"])):
            y = self.sy(area, y_range, level)
            self.text(area.right() + self.mm(1), y - self.line_h(SMALL_PT) / 2, self.mm(9), f"{level:g} %", SMALL_PT, colour=QColor(colour))
        self.polyline(area, x_range, y_range, t, lsi, "#1A1A1A", markers="circle" if t.size <= 90 else "")
        self.y = area.bottom() + self.line_h(SMALL_PT) + self.mm(1.5)
        self.y += self.wrapped(
            area.left(), self.y, area.width(),
            f"Line: LSI ({self.lsi_definition()}). Shaded: its interval (95 % CI of the session's reps, or \u00b1 the "
            "single-session measurement error). Background: the bands, normal (\u2265 90 %), borderline (85\u201390 %), asymmetric (< 85 %).",
            SMALL_PT, colour=MUTED,
        ) + self.mm(4)

    def lsi_definition(self) -> str:
        """As the signal layer computes it: involved over uninvolved side when one is involved, else weaker over stronger."""
        side = self.report.header.involved_side
        if side in ("left", "right"):
            other = "right" if side == "left" else "left"
            return f"involved ({side}) / uninvolved ({other}) side \u00d7 100"
        return "weaker / stronger side \u00d7 100"

    def trace_plot(self) -> None:
        trace = self.report.trace
        height = 36.0
        when = "" if trace is None else trace.started_at.astimezone().strftime(" (%Y-%m-%d %H:%M)")
        which = "Latest session's" if len(self.report.rows) > 1 else "The session's"
        self.heading(f"{which} force{when}, reps marked", keep_with=self.mm(height + 12))
        if trace is None or trace.t_s.size == 0:
            self.y += self.wrapped(self.left, self.y, self.width, "The latest session has no samples.", BODY_PT, colour=MUTED) + self.mm(3)
            return
        t0 = float(trace.t_s[0])
        t_end = float(trace.t_s[-1]) - t0
        x_range = (0.0, max(t_end, 1.0))
        top = float(np.max(trace.force_max_n)) * 1.15 + 1.0
        bottom = min(0.0, float(np.min(trace.force_min_n)))
        y_range = (bottom, top)
        x_ticks = [(v, f"{v:g} s") for v in self.nice_ticks(0.0, x_range[1], 8)]
        y_ticks = [(v, f"{v:g}") for v in self.nice_ticks(bottom, top, 4)]
        area = self.plot_area(height)
        self.axes(area, x_ticks, y_ticks, x_range, y_range)
        if self.painter is not None:
            for rep in trace.reps:
                x0 = self.sx(area, x_range, rep.onset_s - t0)
                x1 = self.sx(area, x_range, rep.release_s - t0)
                colour = QColor(SIDE_COLOURS.get(rep.side or "", "#888888"))
                colour.setAlpha(40)
                self.painter.fillRect(QRectF(x0, area.top(), max(x1 - x0, 1.0), area.height()), colour)
            # The envelope as one vertical stroke per column (min to max), in the side's colour.
            xs = self.sx(area, x_range, 0.0) + (trace.t_s - trace.t_s[0]) / (x_range[1] - x_range[0]) * area.width()
            for code, side in ((0, ""), (1, "left"), (2, "right")):
                cols = np.flatnonzero(trace.side_codes == code)
                if cols.size == 0:
                    continue
                path = QPainterPath()
                for i in cols:
                    path.moveTo(float(xs[i]), self.sy(area, y_range, float(trace.force_min_n[i])))
                    path.lineTo(float(xs[i]), self.sy(area, y_range, float(trace.force_max_n[i])) - 0.5)
                self.painter.setPen(QPen(QColor(SIDE_COLOURS.get(side, "#555555")), self.mm(0.3)))
                self.painter.drawPath(path)
        label_h = self.line_h(SMALL_PT)
        for rep in trace.reps:
            mid = self.sx(area, x_range, (rep.onset_s + rep.release_s) / 2 - t0)
            tag = f"{(rep.side or '?')[0].upper()}{rep.index}"
            self.text(mid - self.mm(4), area.top() + self.mm(0.5), self.mm(8), tag, SMALL_PT, bold=True, colour=QColor(SIDE_COLOURS.get(rep.side or "", "#555555")), align=Qt.AlignmentFlag.AlignHCenter)
            self.text(mid - self.mm(4), area.top() + self.mm(0.5) + label_h, self.mm(8), "\u2714" if rep.target_met else "\u2716", SMALL_PT, colour=MUTED, align=Qt.AlignmentFlag.AlignHCenter)
        self.y = area.bottom() + self.line_h(SMALL_PT) + self.mm(1.5)
        met = sum(r.target_met for r in trace.reps)
        self.y += self.wrapped(
            area.left(), self.y, area.width(),
            f"Force (N) against the belt's time. Shaded: each rep found by the analysis, onset to release; "
            f"\u2714 held {trace.target_hold_s:g} s ({met} of {len(trace.reps)}), \u2716 short.",
            SMALL_PT, colour=MUTED,
        ) + self.mm(4)

    # ------------------------------------------------------------------ table

    def column_layout(self) -> list[tuple[float, float, Column]]:
        scale = self.width / self.mm(sum(c.width_mm for c in TABLE_COLUMNS))
        x = self.left
        out = []
        for c in TABLE_COLUMNS:
            w = self.mm(c.width_mm) * scale
            out.append((x, w, c))
            x += w
        return out

    def table_header(self, cols: list[tuple[float, float, Column]]) -> None:
        lh = self.line_h(SMALL_PT)
        head_h = 2 * lh + self.mm(1.5)
        self.fill(QRectF(self.left, self.y, self.width, head_h), SHADE)
        pad = self.mm(1)
        for x, w, c in cols:
            for i, part in enumerate(c.head.split("\n")):
                self.text(x + pad, self.y + self.mm(0.7) + i * lh, w - 2 * pad, part, SMALL_PT, bold=(i == 0), colour=INK if i == 0 else MUTED, align=c.align)
        self.y += head_h
        self.hline(self.y, INK, 0.3)

    def session_table(self) -> None:
        cols = self.column_layout()
        lh = self.line_h(TABLE_PT)
        row_h = lh + self.mm(1.0)
        head_h = 2 * self.line_h(SMALL_PT) + self.mm(1.5)
        self.heading("Sessions", keep_with=head_h + 3 * row_h)
        self.table_header(cols)
        pad = self.mm(1)
        for i, row in enumerate(self.report.rows):
            if self.y + row_h > self.bottom:
                self.new_page()
                self.text(self.left, self.y, self.width, "Sessions (continued)", HEADING_PT, bold=True)
                self.y += self.line_h(HEADING_PT) + self.mm(1.5)
                self.table_header(cols)
            if i % 2 == 1:
                self.fill(QRectF(self.left, self.y, self.width, row_h), QColor("#F6F8FA"))
            for (x, w, c), cell in zip(cols, table_cells(row), strict=True):
                colour = INK
                if c.head.startswith("Band") and row.lsi_band in BAND_COLOURS:
                    colour = QColor(BAND_COLOURS[row.lsi_band])
                self.text(x + pad, self.y + self.mm(0.5), w - 2 * pad, cell, self.fitting_pt(cell, w - 2 * pad), colour=colour, align=c.align)
            self.y += row_h
        self.hline(self.y, RULE)
        self.y += self.mm(1)
        rows = self.report.rows
        notes = (
            "Plateau: mean steady force of the side's best 3 reps. N/kg: plateau / body mass; N\u00b7m/kg: plateau \u00d7 lever arm / body mass "
            f"(the patient's current details). LSI: {self.lsi_definition()} (torque where the lever arm is known). "
            "Interval: 95 % CI from the session's reps."
        )
        # The marks' meanings only where a row carries them.
        if any(r.lsi_pct is not None and r.lsi_interval_basis != "ci95" for r in rows):
            notes += " \u2020 \u00b1 the single-session measurement error where that CI is not available."
        if any(not r.complete for r in rows):
            notes += " * session stopped early (interrupted; its reps were derived from the saved samples)."
        if any(r.reps_unsided for r in rows):
            notes += " +n: reps recorded before a side was chosen (no side, so in no plateau or LSI)."
        h = self.wrapped_height(self.width, notes, SMALL_PT)
        self.need(h)
        self.y += self.wrapped(self.left, self.y, self.width, notes, SMALL_PT, colour=MUTED) + self.mm(4)

    def rep_table(self) -> None:
        """A one-session report lists every rep, as the Summary screen does: one column of reps per side."""
        trace = self.report.trace
        if trace is None or not trace.reps:
            return
        heads = (("Rep", Qt.AlignmentFlag.AlignRight), ("Held (s)", Qt.AlignmentFlag.AlignRight),
                 ("Plateau (N)", Qt.AlignmentFlag.AlignRight), ("Peak (N)", Qt.AlignmentFlag.AlignRight),
                 (f"Target {trace.target_hold_s:g} s", Qt.AlignmentFlag.AlignLeft))  # fmt: skip
        widths = (9.0, 15.0, 20.0, 16.0, 22.0)
        table_w = self.mm(sum(widths))
        groups: dict[str, list[TraceRep]] = {}
        for rep in trace.reps:
            groups.setdefault(rep.side or "unknown", []).append(rep)
        lh = self.line_h(TABLE_PT)
        row_h = lh + self.mm(1.0)
        title_h = self.line_h(BODY_PT) + self.mm(0.5)
        head_h = self.line_h(SMALL_PT) + self.mm(1.5)
        pad = self.mm(1)
        # Side by side, two groups per band (a left and a right column); a band moves to the next page whole.
        names = list(groups)
        bands = [names[i : i + 2] for i in range(0, len(names), 2)]
        first = True
        for band in bands:
            height = title_h + head_h + max(len(groups[n]) for n in band) * row_h + self.mm(4)
            if first:
                self.heading("Reps of the session", keep_with=height)
                first = False
            else:
                self.need(height)
            top = self.y
            for col, name in enumerate(band):
                x0 = self.left + col * (self.width / 2)
                y = top
                self.text(x0, y, table_w, f"{name.capitalize()} side", BODY_PT, bold=True, colour=QColor(SIDE_COLOURS.get(name, "#1A1A1A")))
                y += title_h
                self.fill(QRectF(x0, y, table_w, head_h), SHADE)
                x = x0
                for (title, align), w in zip(heads, widths, strict=True):
                    self.text(x + pad, y + self.mm(0.7), self.mm(w) - 2 * pad, title, SMALL_PT, bold=True, align=align)
                    x += self.mm(w)
                y += head_h
                self.hline(y, INK, 0.3, x0, x0 + table_w)
                for rep in groups[name]:
                    cells = (
                        str(rep.index),
                        f"{rep.hold_s:.1f}",
                        f"{rep.plateau_n:.1f}",
                        f"{rep.peak_n:.1f}",
                        "\u2714 met" if rep.target_met else "\u2716 short",
                    )
                    x = x0
                    for k, ((_, align), w, cell) in enumerate(zip(heads, widths, cells, strict=True)):
                        colour = QColor(BAND_COLOURS["green" if rep.target_met else "red"]) if k == 4 else INK
                        self.text(x + pad, y + self.mm(0.5), self.mm(w) - 2 * pad, cell, TABLE_PT, colour=colour, align=align)
                        x += self.mm(w)
                    y += row_h
                self.hline(y, RULE, 0.25, x0, x0 + table_w)
            self.y = top + height

    def provenance_block(self) -> None:
        p = self.report.provenance
        rate = "unknown" if p.sample_rate_hz is None else f"{p.sample_rate_hz:.1f} Hz"
        fields = [
            ("Devices", "; ".join(p.devices) or "not recorded"),
            ("Calibration", f"{p.calibration} (latest session)"),
            ("Sample rate", f"{rate} (latest session, {p.samples} samples)"),
            ("Recorded with", ", ".join(f"sensorapp {v}" for v in p.recorded_with) or "unknown"),
            ("This report", f"sensorapp {p.app_version}; {p.sessions} session{'s' if p.sessions != 1 else ''}; raw samples kept in the app's store"),
        ]
        label_w = self.mm(26)
        heights = [max(self.line_h(BODY_PT), self.wrapped_height(self.width - label_w, v)) + self.mm(0.6) for _, v in fields]
        self.heading("Data provenance", keep_with=sum(heights))
        for (label, value), h in zip(fields, heights, strict=True):
            self.text(self.left, self.y, label_w, label, BODY_PT, colour=MUTED)
            self.wrapped(self.left + label_w, self.y, self.width - label_w, value, BODY_PT)
            self.y += h


def default_paper() -> str:
    """Letter where the locale measures in US units, else A4 (the buttons' choice; the CLI takes --paper)."""
    from PySide6.QtCore import QLocale

    return "letter" if QLocale().measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem else "a4"


def session_report_writer(store: SessionStore, session_id: int) -> Callable[[Path], RenderedReport]:
    """For the Summary screen's button: writes that stored session's report to a chosen path."""

    def write(path: Path) -> RenderedReport:
        return render_report_pdf(build_session_report(store, session_id), path, paper=default_paper())

    return write
