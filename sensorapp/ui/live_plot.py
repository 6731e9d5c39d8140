"""The live force plot: a scrolling window redrawn from one display timer.

Samples go into a MirroredRing from the stream callback; the timer (~60 Hz)
draws the newest window with ``setData`` on views. Auto-range is off, pens are
1 px, the finite check is skipped, and long windows are peak-downsampled, as
pyqtgraph's own speed examples do. No signal is emitted per sample.

Time is drawn relative to the newest sample ("seconds ago"), so the axes never
change and pyqtgraph keeps their rendering cached; a grid across the view
would be repainted every frame, so a few fixed reference lines replace it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from calibration.units import Unit
from sensorapp.acquisition.ring_buffer import MirroredRing

from . import theme
from .force_units import set_force_axis

FRAME_INTERVAL_MS = 16  # ~60 Hz


class LiveForcePlot(QWidget):
    """Plot of the ring's newest ``window_s`` seconds, with threshold and target band."""

    def __init__(self, ring: MirroredRing, window_s: float = 25.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ring = ring
        self.window_s = window_s
        self.y_max_n = 50.0
        pg.setConfigOptions(antialias=False, foreground=theme.MUTED, background=theme.BACKGROUND)
        self.widget = pg.PlotWidget()
        self.widget.setMenuEnabled(False)
        self.widget.setMouseEnabled(x=False, y=False)
        self.widget.hideButtons()
        item = self.widget.getPlotItem()
        set_force_axis(item, Unit.N)
        item.setLabel("bottom", "seconds ago")
        item.disableAutoRange()
        item.setXRange(-window_s, 0.0, padding=0)
        self._reference_lines: list[pg.InfiniteLine] = []
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        for ax in ("left", "bottom"):
            item.getAxis(ax).setStyle(tickFont=theme.font(12))
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False, brush=pg.mkBrush(theme.GREEN + "40"), pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.band.hide()
        item.addItem(self.band)
        self.band_label = pg.TextItem("target", color=theme.GREEN, anchor=(0, 0))
        self.band_label.hide()
        item.addItem(self.band_label)
        self.threshold = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(theme.MUTED, width=1, style=Qt.PenStyle.DashLine),
            label="press above this line", labelOpts={"position": 0.02, "color": theme.MUTED, "anchors": [(0, 1), (0, 1)]},
        )  # fmt: skip
        self.threshold.hide()
        item.addItem(self.threshold)
        self.side: str | None = None
        self.curve = item.plot(pen=pg.mkPen(theme.TEXT, width=1))  # 1 px: wider pens are far slower to draw
        self.curve.setSkipFiniteCheck(True)
        self._set_y_max(self.y_max_n)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.widget)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_INTERVAL_MS)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)  # coarse timers give ~50 Hz
        self.timer.timeout.connect(self.redraw)
        self.frames = 0
        self.drawn_total = 0  # ring.total at the last frame

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def set_unit(self, unit: Unit) -> None:
        """Axis ticks in ``unit``; the trace stays in newtons."""
        set_force_axis(self.widget.getPlotItem(), unit)

    def set_threshold(self, level_n: float | None) -> None:
        if level_n is None or not math.isfinite(level_n):
            self.threshold.hide()
        else:
            self.threshold.setValue(level_n)
            self.threshold.show()

    def set_band(self, band_n: tuple[float, float] | None) -> None:
        if band_n is None:
            self.band.hide()
            self.band_label.hide()
        else:
            self.band.setRegion(band_n)
            self.band.show()
            self.band_label.setPos(-self.window_s, band_n[1])
            self.band_label.show()

    def set_side(self, side: str | None) -> None:
        """The trace in the side's colour (sky blue left, orange right); near-white with no side."""
        if side == self.side:
            return
        self.side = side
        self.curve.setPen(pg.mkPen(theme.SIDE_COLOURS.get(side or "", theme.TEXT), width=1))

    def _set_y_max(self, y_max_n: float) -> None:
        """Grow the y range in 50 N steps (never per frame), with reference lines every 20 N."""
        self.y_max_n = y_max_n
        item = self.widget.getPlotItem()
        item.setYRange(-5.0, y_max_n, padding=0)
        for line in self._reference_lines:
            item.removeItem(line)
        pen = pg.mkPen(theme.GRID, width=1)
        step = 20.0 if y_max_n <= 150 else 50.0
        self._reference_lines = [pg.InfiniteLine(pos=level, angle=0, movable=False, pen=pen) for level in np.arange(step, y_max_n, step)]
        for line in self._reference_lines:
            line.setZValue(-20)
            item.addItem(line)

    def redraw(self) -> None:
        if self.ring.total == self.drawn_total:
            return
        t, f = self.ring.latest()
        if t.size == 0:
            return
        t_end = float(t[-1])
        t, f = self.ring.since(t_end - self.window_s)
        self.curve.setData(t - t_end, f)
        peak = float(f.max()) if f.size else 0.0
        if peak > 0.9 * self.y_max_n:
            self._set_y_max(50.0 * math.ceil(peak * 1.25 / 50.0))
        self.drawn_total = self.ring.total
        self.frames += 1
