"""Look and feel: readable from 2 m, high contrast, colour-blind safe.

Colours are the Okabe-Ito palette (safe for the common colour-vision
deficiencies); every colour-coded state also carries a word or symbol.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

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

SIDE_COLOURS = {"left": SKY, "right": ORANGE}
BAND_COLOURS = {"green": GREEN, "amber": ORANGE, "red": VERMILLION}
BAND_WORDS = {"green": "within normal (LSI \u2265 90 %)", "amber": "borderline (LSI 85\u201390 %)", "red": "asymmetric (LSI < 85 %)"}
BAND_SYMBOLS = {"green": "\u2714", "amber": "!", "red": "\u2716"}

BASE_POINT_SIZE = 14

STYLE_SHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; }}
QFrame#panel, QGroupBox {{ background: {PANEL}; border-radius: 10px; }}
QGroupBox {{ margin-top: 1.4em; padding: 10px; font-weight: bold; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; }}
QPushButton {{ background: {PANEL}; border: 2px solid {GRID}; border-radius: 8px; padding: 10px 18px; }}
QPushButton:hover {{ border-color: {SKY}; }}
QPushButton:focus {{ border-color: {YELLOW}; }}
QPushButton:disabled {{ color: {GRID}; border-color: {PANEL}; }}
QPushButton#primary {{ background: {BLUE}; border-color: {BLUE}; font-weight: bold; }}
QPushButton#danger {{ border-color: {VERMILLION}; }}
QListWidget, QTableWidget {{ background: {PANEL}; border: none; alternate-background-color: #22272D; }}
QListWidget::item {{ padding: 10px; }}
QListWidget::item:selected, QTableWidget::item:selected {{ background: {BLUE}; color: {TEXT}; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 6px; }}
QSpinBox, QDoubleSpinBox, QComboBox {{ background: {PANEL}; border: 1px solid {GRID}; border-radius: 6px; padding: 4px 8px; min-height: 1.6em; }}
QLabel, QCheckBox {{ background: transparent; }}
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
    app.setStyleSheet(STYLE_SHEET)


def font(point_size: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSize(point_size)
    f.setBold(bold)
    return f
