"""Look and feel: readable from 2 m, high contrast, colour-blind safe.

Colours are the Okabe-Ito palette (safe for the common colour-vision
deficiencies); every colour-coded state also carries a word or symbol.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableWidget, QWidget

WidgetT = TypeVar("WidgetT", bound=QWidget)

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
# Large-text mode: what is read from the mat (counter, instruction, force, headlines: 20 pt and
# up) grows by HEADLINE_SCALE; body text, already 14 pt, by BODY_SCALE. As much as the layout
# probe allows at 1024 x 600 (tests/ui/layout_probe.py --large-text): with 1.07 for body text the
# History plots drop below 30 % of the window width there.
HEADLINE_MIN_PT = 20.0
HEADLINE_SCALE = 1.25
BODY_SCALE = 1.0
FOCUS = YELLOW  # the focus ring: yellow on near-black is the strongest contrast the palette has

# The normal colours, and brighter ones for large-text / high-contrast mode (text pure white on
# black, muted text and outlines lifted so their contrast with the background is at least 7:1).
NORMAL_COLOURS = {"BACKGROUND": BACKGROUND, "PANEL": PANEL, "TEXT": TEXT, "MUTED": MUTED, "GRID": GRID, "DISABLED_TEXT": DISABLED_TEXT}
HIGH_CONTRAST_COLOURS = {"BACKGROUND": "#000000", "PANEL": "#121519", "TEXT": "#FFFFFF", "MUTED": "#D2D8DE", "GRID": "#7A848E", "DISABLED_TEXT": "#9AA3AC"}

_large_text = False
FIXED_FONT = "sensorapp_fixed_font"  # widget property: its font keeps its size in large-text mode
BASE_POINT_SIZE_PROPERTY = "sensorapp_base_point_size"  # widget property: its font's normal-mode size


def large_text() -> bool:
    """Whether large-text / high-contrast mode is on (set by ``apply``)."""
    return _large_text


def text_scale() -> float:
    """The body-text factor now (1.0 in normal mode); dialogs size themselves by it."""
    return BODY_SCALE if _large_text else 1.0


def scaled_point_size(point_size: float, large: bool | None = None) -> float:
    """The size a ``point_size`` font is drawn at in the current (or the given) text mode."""
    if not (_large_text if large is None else large):
        return point_size
    return point_size * (HEADLINE_SCALE if point_size >= HEADLINE_MIN_PT else BODY_SCALE)


def unscaled_point_size(drawn: float, large: bool) -> float:
    """The inverse of ``scaled_point_size`` (headline sizes stay above body sizes, so it is one-to-one)."""
    if not large:
        return drawn
    return drawn / HEADLINE_SCALE if drawn >= HEADLINE_MIN_PT * HEADLINE_SCALE else drawn / BODY_SCALE


def style_sheet() -> str:
    """The app's style sheet in the current colours (module globals, switched by ``apply``)."""
    g = globals()
    bg, panel, text, muted, grid, disabled = (g[k] for k in ("BACKGROUND", "PANEL", "TEXT", "MUTED", "GRID", "DISABLED_TEXT"))
    # Large text takes room; tighter padding around it gives some back so a 1024 x 600 screen still fits.
    button_pad, item_pad, field_height = ("6px 14px", "6px", "1.4em") if _large_text else ("10px 18px", "10px", "1.6em")
    return f"""
QWidget {{ background: {bg}; color: {text}; }}
QFrame#panel, QGroupBox {{ background: {panel}; border-radius: 10px; }}
QGroupBox {{ margin-top: 1.2em; padding: 8px; font-weight: bold; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; }}
QPushButton {{ background: {panel}; border: 2px solid {grid}; border-radius: 8px; padding: {button_pad}; }}
QPushButton:hover {{ border-color: {SKY}; }}
QPushButton:focus {{ border: 3px solid {FOCUS}; }}
QPushButton:disabled {{ color: {grid}; border-color: {panel}; }}
QPushButton#topbar {{ padding: 8px 6px; }}
QPushButton#topbar::menu-indicator {{ width: 0; }}
QPushButton#primary {{ background: {BLUE}; border-color: {BLUE}; font-weight: bold; }}
QPushButton#primary:focus {{ border: 3px solid {FOCUS}; }}
QPushButton#danger {{ border-color: {VERMILLION}; }}
QPushButton#danger:focus {{ border: 3px solid {FOCUS}; }}
QPushButton#primary:disabled, QPushButton#danger:disabled {{ background: {panel}; color: {disabled}; border: 2px dashed {grid}; }}
QListWidget, QTableWidget {{ background: {panel}; border: none; alternate-background-color: #22272D; }}
QListWidget:focus, QTableWidget:focus {{ border: 2px solid {FOCUS}; }}  /* (no border otherwise: the tables are sized to the pixel) */
QListWidget::item {{ padding: {item_pad}; }}
QListWidget::item:selected, QTableWidget::item:selected {{ background: {BLUE}; color: {text}; }}
QHeaderView::section {{ background: {panel}; color: {muted}; border: none; padding: 6px; }}
QSpinBox, QDoubleSpinBox, QComboBox, QLineEdit {{ background: {panel}; border: 1px solid {muted}; border-radius: 6px; padding: 4px 8px; min-height: {field_height}; }}
QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus, QLineEdit:focus {{ border: 2px solid {FOCUS}; }}
QSpinBox, QDoubleSpinBox {{ padding-right: 30px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::down-button {{
    width: 26px; background: {grid}; border-left: 1px solid {muted}; }}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 6px; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 6px; }}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover, QSpinBox::down-button:hover, QDoubleSpinBox::down-button:hover {{ background: {BLUE}; }}
QComboBox::drop-down {{ width: 26px; background: {grid}; border-left: 1px solid {muted}; border-top-right-radius: 6px; border-bottom-right-radius: 6px; }}
QLabel, QCheckBox, QRadioButton {{ background: transparent; }}
QCheckBox, QRadioButton {{ border: 2px solid transparent; border-radius: 4px; padding: 2px; }}
QCheckBox:focus, QRadioButton:focus {{ border: 2px solid {FOCUS}; }}
QSlider:focus {{ border: 2px solid {FOCUS}; border-radius: 4px; }}
QSlider::groove:horizontal {{ height: 8px; background: {grid}; border-radius: 4px; }}
QSlider::handle:horizontal {{ width: 22px; margin: -8px 0; background: {SKY}; border-radius: 11px; }}
QScrollBar:vertical {{ background: {panel}; width: 12px; margin: 0; }}
QScrollBar:horizontal {{ background: {panel}; height: 12px; margin: 0; }}
QScrollBar::handle {{ background: {grid}; border-radius: 5px; min-height: 30px; min-width: 30px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QCheckBox::indicator {{ width: 20px; height: 20px; border: 2px solid {muted}; border-radius: 4px; background: {bg}; }}
QCheckBox::indicator:checked {{ background: {SKY}; border-color: {SKY}; }}
QLabel#muted {{ color: {muted}; }}
QLabel#banner {{ background: {YELLOW}; color: #000; font-weight: bold; padding: 10px; border-radius: 6px; }}
QLabel#error {{ color: {VERMILLION}; }}
"""


STYLE_SHEET = style_sheet()  # the normal look, for code that reads it before ``apply``


def apply(app: QApplication, *, large_text: bool = False) -> None:
    """The app's style, font and palette; ``large_text`` also switches to the high-contrast colours.

    Called again with another ``large_text``, it rescales the fonts of the widgets
    that exist (those made with ``font()``), so the switch takes effect at once.
    """
    global _large_text
    was_large = _large_text
    _large_text = large_text
    # Widgets with their own font (from font()): note each one's normal size first, while it is
    # exactly what was set (re-applying the style sheet below may restore an older font).
    own_font: list[tuple[QWidget, float]] = []
    if was_large != large_text:
        for widget in app.allWidgets():
            if widget.property(FIXED_FONT) is True or not widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                continue  # the others follow the application font
            base = widget.property(BASE_POINT_SIZE_PROPERTY)
            if not isinstance(base, float):
                base = unscaled_point_size(widget.font().pointSizeF(), was_large)
                widget.setProperty(BASE_POINT_SIZE_PROPERTY, base)
            if base > 0:
                own_font.append((widget, base))
    globals().update(HIGH_CONTRAST_COLOURS if large_text else NORMAL_COLOURS)
    app.setStyle("Fusion")
    base_font = QFont(app.font())
    base_font.setPointSizeF(scaled_point_size(BASE_POINT_SIZE))
    app.setFont(base_font)
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
    app.setStyleSheet(style_sheet() + arrow_style_sheet())
    for widget, base in own_font:
        f = QFont(widget.font())
        f.setPointSizeF(scaled_point_size(base, large_text))
        widget.setFont(f)


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


def font(point_size: float, bold: bool = False) -> QFont:
    """A font of ``point_size`` at normal text size (larger in large-text mode)."""
    f = QFont()
    f.setPointSizeF(scaled_point_size(point_size))
    f.setBold(bold)
    return f


def fixed_font(widget: WidgetT, point_size: float, bold: bool = False) -> WidgetT:
    """The widget at ``point_size`` in both text modes: the top bar, which must fit a 1024 px
    window beside a long belt name, and whose words are read close up, not from 2 m."""
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    widget.setFont(f)
    widget.setProperty(FIXED_FONT, True)
    return widget


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


# ------------------------------------------------------------ accessibility

#: Widgets a keyboard or screen-reader user operates; each needs an accessible name.
def interactive_types() -> tuple[type[QWidget], ...]:
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSlider,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
    )

    return (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView, QAbstractSlider)


def is_control(widget: QWidget) -> bool:
    """An interactive widget in its own right, not a part of another control (the line edit of a
    spin box or editable combo, a combo's popup list, a scroll bar, a table's corner button, a line
    edit's clear button)."""
    from PySide6.QtWidgets import QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit, QScrollBar

    if not isinstance(widget, interactive_types()) or isinstance(widget, QScrollBar):
        return False
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox | QAbstractSpinBox | QAbstractItemView | QLineEdit):
            return False
        parent = parent.parentWidget()
    return True


def accessible(widget: WidgetT, name: str, description: str = "") -> WidgetT:
    """The widget with the name (and description) a screen reader announces."""
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
    return widget


def spoken_text(text: str) -> str:
    """Button text as a screen reader should say it: no "&" mnemonic marks, no "(space)" key hints, no "…"."""
    import re

    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    text = re.sub(r"\s*\((?:space|Ctrl\+\S+|F\d+)\)", "", text)
    return " ".join(text.replace("\u2026", "").replace("\u2192", "").split())


def name_controls(root: QWidget) -> list[QWidget]:
    """Give every interactive widget under ``root`` that has no accessible name one:
    its own text, else its form label (buddy), else its tooltip, else its
    placeholder. Returns those it could not name (a test asserts there are none).

    Run again after a screen adds widgets: names set by hand are kept."""
    from PySide6.QtWidgets import QAbstractButton, QFormLayout, QLabel, QLineEdit

    buddies: dict[int, str] = {}
    for label in root.findChildren(QLabel):
        if label.buddy() is not None and label.text():
            buddies[id(label.buddy())] = label.text()
    for layout in root.findChildren(QFormLayout):
        for row in range(layout.rowCount()):
            label_item = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field_item = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
            row_label = label_item.widget() if label_item is not None else None
            if not isinstance(row_label, QLabel) or field_item is None:
                continue
            fields: list[QWidget] = []
            if (field := field_item.widget()) is not None:
                fields.append(field)
            if (sub := field_item.layout()) is not None:
                for i in range(sub.count()):
                    item = sub.itemAt(i)
                    if item is not None and (child := item.widget()) is not None:
                        fields.append(child)
            for f in fields:
                buddies.setdefault(id(f), row_label.text())
    unnamed: list[QWidget] = []
    for w in root.findChildren(QWidget):
        if not is_control(w) or w.accessibleName():
            continue
        text = spoken_text(w.text()) if isinstance(w, QAbstractButton) else ""
        if isinstance(w, QAbstractButton) and id(w) in buddies and text:
            text = f"{spoken_text(buddies[id(w)])}: {text}"  # "Start on the: then the other side"
        name = text or spoken_text(buddies.get(id(w), "")) or spoken_text(w.toolTip()) or (w.placeholderText() if isinstance(w, QLineEdit) else "")
        if name:
            w.setAccessibleName(name)
        else:
            unnamed.append(w)
    return unnamed


def no_tab_traps(root: QWidget) -> None:
    """Tab leaves tables and lists (the arrow keys move inside them): Qt's item views take Tab
    for moving between cells by default, which traps a keyboard user in the table. And Tab
    skips the plots (pyqtgraph's graphics views), which take no keys and have nothing to say."""
    from PySide6.QtWidgets import QAbstractItemView, QGraphicsView

    for view in root.findChildren(QAbstractItemView):
        if is_control(view):
            view.setTabKeyNavigation(False)
    for plot in root.findChildren(QGraphicsView):
        plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
