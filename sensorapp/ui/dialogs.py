"""Helpers shared by the app's dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def fit_dialog(dialog: QWidget) -> None:
    """Size a dialog once the style sheet has polished its children (their fonts and padding make
    it larger than the first layout pass thought), within its screen. Not ``adjustSize()``: that
    caps a window at 2/3 of the screen's width, too narrow for the editors on a 1024 px screen."""
    for child in dialog.findChildren(QWidget):
        child.ensurePolished()
    layout = dialog.layout()
    if layout is not None:
        layout.activate()
    screen = dialog.screen().availableGeometry().size()
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()).boundedTo(screen))
