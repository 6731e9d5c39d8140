"""About: the version, where the data and settings live, and the bundled parts with their licences."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorapp import __version__
from sensorapp.licences import BundledPart, bundled_parts, frozen, licence_text, python_part

from . import theme


class AboutDialog(QDialog):
    def __init__(self, data_dir: Path, config_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About sensorapp")
        title = QLabel(f"sensorapp {__version__}")
        title.setFont(theme.font(24, bold=True))
        build = "frozen build" if frozen() else "installed from source"
        self.facts = QLabel(
            f"Companion app for the GMBelt load-cell ankle belt (MIT licence).\n"
            f"Python {sys.version.split()[0]}, Qt {qVersion()}, {build}.\n"
            f"Sessions (data folder): {data_dir}\n"
            f"Settings (config folder): {config_dir}"
        )
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.facts.setWordWrap(True)
        self.parts: list[BundledPart] = [python_part(), *bundled_parts()]
        self.table = QTableWidget(len(self.parts), 3)
        self.table.setHorizontalHeaderLabels(["Bundled part", "Version", "Licence"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        for row, part in enumerate(self.parts):
            for col, text in enumerate((part.name, part.version, part.licence)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        for col in (0, 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        theme.accessible(self.table, "Bundled parts and their licences", "Select a row to read its licence text below")
        self.licence_line = QLabel("")
        self.licence_line.setWordWrap(True)
        self.licence_line.setFont(theme.font(14, bold=True))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # licence texts come wrapped at ~75 columns
        self.text.setFont(theme.font(11))
        theme.accessible(self.text, "Licence text")
        self.table.currentCellChanged.connect(lambda row, *_: self.show_licence(row))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.facts)
        columns = QHBoxLayout()
        columns.addWidget(self.table, 5)
        right = QVBoxLayout()
        right.addWidget(self.licence_line)
        right.addWidget(self.text, 1)
        columns.addLayout(right, 5)
        lay.addLayout(columns, 1)
        lay.addWidget(buttons)
        self.resize(int(980 * theme.text_scale()), int(560 * theme.text_scale()))
        self.table.selectRow(1 if len(self.parts) > 1 else 0)  # Qt/PySide6 first: the LGPL is why this dialog exists
        theme.name_controls(self)
        theme.no_tab_traps(self)

    def show_licence(self, row: int) -> None:
        if not 0 <= row < len(self.parts):
            return
        part = self.parts[row]
        self.licence_line.setText(f"{part.name} {part.version}: {part.licence}")
        if part.name == "Python":
            self.text.setPlainText("Python Software Foundation License Version 2 (PSF-2.0): https://docs.python.org/3/license.html")
            return
        if not part.licence_files:
            self.text.setPlainText(f"{part.name} {part.version}: {part.licence}. Its package ships no licence file; the licence is named in its metadata.")
            return
        texts = []
        for file in part.licence_files:
            try:
                texts.append(f"==== {file}\n\n{licence_text(part, file)}")
            except (OSError, UnicodeDecodeError) as exc:
                texts.append(f"==== {file}: could not be read ({exc})")
        self.text.setPlainText("\n\n".join(texts))
        self.text.moveCursor(self.text.textCursor().MoveOperation.Start)
