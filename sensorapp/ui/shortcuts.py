"""The keyboard shortcuts, as data: the main window binds them and the help dialog lists them
(docs/gui.md lists the same; tests/ui/test_accessibility.py checks the three agree)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import theme


@dataclass(frozen=True)
class Shortcut:
    action: str  # MainWindow attribute it triggers, or "" for keys Qt handles itself
    keys: str  # portable text, as QKeySequence reads it
    what: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("toggle_session", "Space", "Exercise screen: start, pause and resume the session"),
    Shortcut("stop_session", "Ctrl+Shift+S", "Exercise screen: stop the session (it is saved, marked stopped)"),
    Shortcut("show_connect", "Ctrl+1", "Device screen"),
    Shortcut("show_session", "Ctrl+2", "Exercise screen"),
    Shortcut("show_history", "Ctrl+3", "History screen"),
    Shortcut("show_patients", "Ctrl+4", "Patients screen"),
    Shortcut("show_settings", "Ctrl+,", "Settings (units, sound, large text)"),
    Shortcut("show_shortcuts", "F1", "This list of keyboard shortcuts"),
    Shortcut("show_about", "Shift+F1", "About sensorapp: version, folders, licences"),
    Shortcut("close", "Ctrl+Q", "Quit (a running session is saved, marked stopped)"),
    Shortcut("", "Ctrl+F", "Patients screen: find a patient by name or record number"),
    Shortcut("", "Ctrl+N", "Patients screen: new patient"),
    Shortcut("", "Ctrl+E", "Patients screen: edit the selected patient"),
    Shortcut("", "Ctrl+P", "Patients screen: the selected patient's prescription"),
    Shortcut("", "Ctrl+Enter", "Patients screen: exercise with the selected patient"),
    Shortcut("", "0-9", "Pain question: the answer (10 by its button); Esc skips it"),
    Shortcut("", "Tab, Shift+Tab", "Next, previous control (the focused one has a yellow ring)"),
    Shortcut("", "Space, Enter", "Press the focused button or tick the focused box (Space outside the Exercise screen)"),
    Shortcut("", "Up, Down", "Change the focused number or choice; move in a list or table"),
    Shortcut("", "Esc", "Close a dialog without changing anything"),
)


def key_text(shortcut: Shortcut) -> str:
    """The keys as this platform writes them (Ctrl is Cmd on macOS)."""
    if not shortcut.action:
        return shortcut.keys
    return QKeySequence(shortcut.keys).toString(QKeySequence.SequenceFormat.NativeText)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(SHORTCUTS), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "What it does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for row, s in enumerate(SHORTCUTS):
            keys = QTableWidgetItem(key_text(s))
            keys.setFont(theme.font(14, bold=True))
            self.table.setItem(row, 0, keys)
            self.table.setItem(row, 1, QTableWidgetItem(s.what))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        theme.accessible(self.table, "Keyboard shortcuts", "Each row: the keys, then what they do")
        intro = theme.named(QLabel("Everything in the app works from the keyboard alone."), "muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(int(760 * theme.text_scale()), int(560 * theme.text_scale()))
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        theme.name_controls(self)
        theme.no_tab_traps(self)
