"""Look and feel: readable from 2 m, high contrast, colour-blind safe.

Colours are the Okabe-Ito palette (safe for the common colour-vision
deficiencies); every colour-coded state also carries a word or symbol.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TypeVar

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableWidget, QWidget

BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"  # bluish green
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
YELLOW = "#F0E442"
PURPLE = "#CC79A7"
BACKGROUND = "#101214"
PANEL = "#1B1F24"
TEXT = "#F4F4F4"
MUTED = "#A8B0B8"
GRID = "#3A424A"
DISABLED_TEXT = "#6A737C"

SIDE_COLOURS = {"left": SKY, "right": ORANGE}
BAND_COLOURS = {"green": GREEN, "amber": ORANGE, "red": VERMILLION}
BAND_WORDS = {"green": "within normal (LSI \u2265 90 %)", "amber": "borderline (LSI 85\u201390 %)", "red": "asymmetric (LSI < 85 %)"}
BAND_SYMBOLS = {"green": "\u2714", "amber": "!", "red": "\u2716"}
# For the patient: the same bands without the therapist's index.
BAND_PLAIN_WORDS = {"green": "both sides about as strong", "amber": "a little weaker on one side", "red": "clearly weaker on one side"}

BASE_POINT_SIZE = 14

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; }}
QFrame#panel, QGroupBox {{ background: {PANEL}; border-radius: 10px; }}
QGroupBox {{ margin-top: 1.2em; padding: 8px; font-weight: bold; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; }}
QPushButton {{ background: {PANEL}; border: 2px solid {GRID}; border-radius: 8px; padding: 10px 18px; }}
QPushButton:hover {{ border-color: {SKY}; }}
QPushButton:focus {{ border-color: {YELLOW}; }}
QPushButton:disabled {{ color: {GRID}; border-color: {PANEL}; }}
QPushButton#primary {{ background: {BLUE}; border-color: {BLUE}; font-weight: bold; }}
QPushButton#danger {{ border-color: {VERMILLION}; }}
QPushButton#primary:disabled, QPushButton#danger:disabled {{ background: {PANEL}; color: {DISABLED_TEXT}; border: 2px dashed {GRID}; }}
QListWidget, QTableWidget {{ background: {PANEL}; border: none; alternate-background-color: #22272D; }}
QListWidget::item {{ padding: 10px; }}
QListWidget::item:selected, QTableWidget::item:selected {{ background: {BLUE}; color: {TEXT}; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 6px; }}
QSpinBox, QDoubleSpinBox, QComboBox {{ background: {PANEL}; border: 1px solid {MUTED}; border-radius: 6px; padding: 4px 8px; min-height: 1.6em; }}
QSpinBox, QDoubleSpinBox {{ padding-right: 30px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::down-button {{
    width: 26px; background: {GRID}; border-left: 1px solid {MUTED}; }}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 6px; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 6px; }}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover, QSpinBox::down-button:hover, QDoubleSpinBox::down-button:hover {{ background: {BLUE}; }}
QComboBox::drop-down {{ width: 26px; background: {GRID}; border-left: 1px solid {MUTED}; border-top-right-radius: 6px; border-bottom-right-radius: 6px; }}
QLabel, QCheckBox {{ background: transparent; }}
QScrollBar:vertical {{ background: {PANEL}; width: 12px; margin: 0; }}
QScrollBar:horizontal {{ background: {PANEL}; height: 12px; margin: 0; }}
QScrollBar::handle {{ background: {GRID}; border-radius: 5px; min-height: 30px; min-width: 30px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QCheckBox::indicator {{ width: 20px; height: 20px; border: 2px solid {MUTED}; border-radius: 4px; background: {BACKGROUND}; }}
QCheckBox::indicator:checked {{ background: {SKY}; border-color: {SKY}; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#banner {{ background: {YELLOW}; color: #000; font-weight: bold; padding: 10px; border-radius: 6px; }}
QLabel#error {{ color: {VERMILLION}; }}
"""


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    pal = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BACKGROUND),
        (QPalette.ColorRole.Base, PANEL),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Button, PANEL),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, BLUE),
        (QPalette.ColorRole.HighlightedText, TEXT),
    ):
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(STYLE_SHEET + arrow_style_sheet())


def arrow_style_sheet() -> str:
    """Near-white arrows on the spin and combo buttons. A style sheet that styles
    the buttons drops the style's own arrows, and CSS border triangles do not
    render in Qt, so the arrows are small images drawn here once."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QPainter, QPixmap, QPolygonF

    folder = Path(tempfile.gettempdir()) / f"sensorapp-theme-{os.getuid() if hasattr(os, 'getuid') else 0}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, points in (("up", ((1, 9), (6, 3), (11, 9))), ("down", ((1, 3), (6, 9), (11, 3)))):
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TEXT))
        painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
        painter.end()
        path = folder / f"arrow-{name}.png"
        pixmap.save(str(path))
        paths[name] = path.as_posix()
    return f"""
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({paths["up"]}); width: 12px; height: 12px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow, QComboBox::down-arrow {{ image: url({paths["down"]}); width: 12px; height: 12px; }}
"""


def font(point_size: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(point_size)
    f.setBold(bold)
    return f


WidgetT = TypeVar("WidgetT", bound=QWidget)


def named(widget: WidgetT, object_name: str) -> WidgetT:
    """The widget with an object name the style sheet picks up ("muted", "primary"...)."""
    widget.setObjectName(object_name)
    return widget


def fit_table_width(table: QTableWidget) -> None:
    """Ask the layout for the width the columns need, so none hides behind a scrollbar."""
    header = table.horizontalHeader()
    margin = 4  # ResizeToContents already pads each column
    need = sum(max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) + margin for c in range(table.columnCount()))
    last = table.columnCount() - 1
    header.resizeSection(last, max(table.sizeHintForColumn(last), header.sectionSizeHint(last)))  # the stretch grows it again
    scroll = table.verticalScrollBar().sizeHint().width()
    table.setMinimumWidth(need + scroll + 2 * table.frameWidth())
    table.setMaximumWidth(int(1.4 * (need + scroll)))  # on a wide screen the plots take the rest
