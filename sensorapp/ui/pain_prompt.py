"""The pain question before and after a session: a 0-10 numeric rating scale.

Eleven large buttons, keys 0-9 (10 by its button), Skip (Escape). The answer is
given to a callback; the dialog never blocks the event loop (it is opened with
``open()``, not ``exec()``), so the belt keeps streaming while it is up.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from . import theme
from .dialogs import fit_dialog

QUESTION = "How much pain do you feel in your hip right now?"
SCALE_WORDS = "0 = none, 10 = worst imaginable"
WHEN_WORDS = {"before": "Before the exercise", "after": "After the exercise"}
NRS_MAX = 10


class PainPrompt(QDialog):
    """Ask once; ``answered`` gets the rating 0..10, or None when skipped."""

    def __init__(self, when: str, answered: Callable[[int | None], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if when not in WHEN_WORDS:
            raise ValueError(f"when must be 'before' or 'after', got {when!r}")
        self.when = when
        self._answered = answered
        self.answer: int | None = None
        self._done = False
        self.setWindowTitle(f"Pain {when} the session")
        self.setAccessibleName(f"Pain rating {when} the session")
        heading = theme.named(QLabel(WHEN_WORDS[when]), "muted")
        heading.setFont(theme.font(16))
        self.question = QLabel(QUESTION)
        self.question.setFont(theme.font(24, bold=True))
        self.question.setWordWrap(True)
        self.scale_words = QLabel(SCALE_WORDS)
        self.scale_words.setFont(theme.font(18))
        self.scale_words.setWordWrap(True)
        self.buttons: list[QPushButton] = []
        grid = QGridLayout()
        grid.setSpacing(8)
        for value in range(NRS_MAX + 1):
            button = QPushButton(str(value))
            button.setFont(theme.font(26, bold=True))
            button.setMinimumSize(64, 64)
            button.setAccessibleName(f"Pain {value} of 10")
            button.setToolTip(f"Key {value}" if value < NRS_MAX else "Click, or Tab to it and press Enter")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, v=value: self.choose(v))
            self.buttons.append(button)
            grid.addWidget(button, 0, value)
        ends = QHBoxLayout()
        none_label = theme.named(QLabel("none"), "muted")
        worst_label = theme.named(QLabel("worst imaginable"), "muted")
        ends.addWidget(none_label)
        ends.addStretch(1)
        ends.addWidget(worst_label)
        self.skip_button = QPushButton("Skip  (Esc)")
        self.skip_button.setAccessibleName("Skip the pain rating")
        self.skip_button.setAutoDefault(False)
        self.skip_button.clicked.connect(lambda: self.choose(None))
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.skip_button)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addWidget(self.question)
        lay.addWidget(self.scale_words)
        lay.addSpacing(8)
        lay.addLayout(grid)
        lay.addLayout(ends)
        lay.addSpacing(8)
        lay.addLayout(bottom)
        # Escape is the dialog's own reject(); route it through choose() so the callback hears the skip.
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self).activated.connect(lambda: self.choose(None))

    def open(self) -> None:
        super().open()
        fit_dialog(self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if len(text) == 1 and text.isdigit():
            self.choose(int(text))
            return
        super().keyPressEvent(event)

    def reject(self) -> None:  # the window's close button: a skip, heard once
        self.choose(None)

    def choose(self, value: int | None) -> None:
        if self._done:
            return
        self._done = True
        self.answer = value
        self._answered(value)
        super().accept() if value is not None else super().reject()
