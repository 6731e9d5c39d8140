"""The main window: device, session and summary screens, and a status strip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from . import theme
from .connect_screen import ConnectScreen
from .controller import AppController
from .history_screen import HistoryScreen
from .pain_prompt import PainPrompt
from .patients_screen import PatientsScreen
from .report_pdf import RenderedReport, session_report_writer
from .session_screen import SessionScreen
from .summary_screen import SummaryScreen

PREFERRED_SIZE = (1280, 820)  # logical pixels; smaller screens get what fits
MINIMUM_SIZE = (1000, 560)  # everything is laid out to fit a 1024 x 600 screen


class ElidedLabel(QLabel):
    """One line that takes the room left and ends in "…" when the text is longer
    (the whole text is in the tooltip), so a long message never widens the window."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()


def _offscreen() -> bool:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.platformName() in ("offscreen", "minimal")


class MainWindow(QMainWindow):
    def __init__(self, controller: AppController) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("sensorapp \u2013 hip abduction holds")
        self.connect_screen = ConnectScreen(controller)
        self.session_screen = SessionScreen(controller)
        self.summary_screen = SummaryScreen()
        self.history_screen = HistoryScreen(controller)
        self.patients_screen = PatientsScreen(controller)
        self.stack = QStackedWidget()
        for w in (self.connect_screen, self.session_screen, self.summary_screen, self.history_screen, self.patients_screen):
            self.stack.addWidget(w)

        self.device_label = QLabel("No belt")
        self.device_label.setFont(theme.font(14, bold=True))
        self.battery_label = theme.named(QLabel(""), "muted")
        self.link_label = theme.named(QLabel(""), "muted")
        self.message = theme.named(ElidedLabel(""), "muted")
        self.device_button = QPushButton("Device")
        self.device_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.device_button.clicked.connect(self.show_connect)
        self.exercise_button = QPushButton("Exercise")
        self.exercise_button.clicked.connect(self.show_session)
        self.history_button = QPushButton("History")
        self.history_button.clicked.connect(self.show_history)
        self.patients_button = QPushButton("Patients")
        self.patients_button.setToolTip("The caseload: patients, prescriptions, flags and advice (Ctrl+4)")
        self.patients_button.setAccessibleName("Patients")
        self.patients_button.clicked.connect(self.show_patients)
        QShortcut(QKeySequence("Ctrl+4"), self).activated.connect(self.show_patients)
        for b in (self.exercise_button, self.history_button, self.patients_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for b in (self.device_button, self.exercise_button, self.history_button, self.patients_button):
            b.setStyleSheet("padding: 10px 8px;")  # four of them fit beside the device name at 1024 px
        strip = QHBoxLayout()
        strip.addWidget(self.device_label)
        strip.addWidget(self.battery_label)
        strip.addWidget(self.link_label)
        strip.addWidget(self.message, 1)
        strip.addWidget(self.device_button)
        strip.addWidget(self.exercise_button)
        strip.addWidget(self.history_button)
        strip.addWidget(self.patients_button)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addLayout(strip)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.space.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.space.activated.connect(self._space)
        QShortcut(QKeySequence.StandardKey.Quit, self).activated.connect(self.close)
        for b in (self.session_screen.start_button, self.session_screen.abort_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # space must not also click a focused button

        self.connect_screen.continue_requested.connect(self.show_session)
        self.summary_screen.new_session_requested.connect(self._new_session)
        self.summary_screen.device_requested.connect(self.show_connect)
        self.history_screen.open_session_requested.connect(self.show_stored_session)
        self.patients_screen.exercise_requested.connect(self.show_session)
        controller.session_finished.connect(self.show_summary)
        controller.session_finished.connect(self._ask_pain_after)
        self.pain_prompt: PainPrompt | None = None
        controller.connection_changed.connect(self._refresh_strip)
        controller.battery_changed.connect(lambda _p: self._refresh_strip())
        controller.link_state_changed.connect(lambda _s: self._refresh_strip())
        controller.message.connect(self._say)
        controller.error.connect(lambda text: self._say(text, error=True))
        self._closing = False
        self._refresh_strip()

    # ------------------------------------------------------------ navigation

    def show_connect(self) -> None:
        self.stack.setCurrentWidget(self.connect_screen)

    def show_session(self) -> None:
        self.stack.setCurrentWidget(self.session_screen)

    def show_history(self) -> None:
        self.stack.setCurrentWidget(self.history_screen)

    def show_patients(self) -> None:
        self.stack.setCurrentWidget(self.patients_screen)

    def _ask_pain_after(self) -> None:
        c = self.controller
        session_id = c.last_saved_session_id
        if not c.pain_prompts or session_id is None:
            return

        def answered(value: int | None) -> None:
            self.pain_prompt = None
            if value is not None:
                c.record_pain(session_id, after=value)

        self.pain_prompt = PainPrompt("after", answered, self)
        self.pain_prompt.open()

    def show_summary(self) -> None:
        c = self.controller
        if c.session is not None:
            sid = c.last_saved_session_id
            self.summary_screen.show_session(c.session, self._bundle_exporter(sid), self._report_writer(sid))
            self.stack.setCurrentWidget(self.summary_screen)

    def _bundle_exporter(self, session_id: int | None) -> Callable[[Path], Path] | None:
        store = self.controller.store
        if store is None or session_id is None:
            return None
        from sensorapp.storage.bundle import export_bundle

        def export(path: Path) -> Path:
            return export_bundle(store, session_id, path)

        return export

    def _report_writer(self, session_id: int | None) -> Callable[[Path], RenderedReport] | None:
        store = self.controller.store
        if store is None or session_id is None:
            return None
        return session_report_writer(store, session_id)

    def show_stored_session(self, session_id: int) -> None:
        """A session from History, summarised from its stored samples."""
        store = self.controller.store
        if store is None:
            return
        from sensorapp.storage.export import export_csv

        record = store.session(session_id)
        summary = store.summary(session_id)
        when = record.started_at.astimezone().strftime("%a %d %b %Y %H:%M")
        status = f"{record.patient_name or 'Patient'}, {when}: {len(summary.reps)} reps, session {record.state}."
        self.summary_screen.session = None
        self.summary_screen.show_summary(
            summary, status, lambda path: export_csv(store, session_id, path), self._bundle_exporter(session_id), self._report_writer(session_id)
        )
        self.stack.setCurrentWidget(self.summary_screen)

    def _new_session(self) -> None:
        self.controller.session = None
        self.show_session()
        self.session_screen.refresh()  # at once: nothing of the last session stays on screen

    def _space(self) -> None:
        if self.stack.currentWidget() is self.session_screen:
            self.session_screen.toggle()

    async def start_simulated(self, autostart: bool = True) -> None:
        """--simulate: connect the virtual patient's belt and start the session."""
        await self.controller.connect_to(self.controller.simulated_descriptor())
        self.show_session()
        if autostart:
            self.session_screen.toggle()

    # ------------------------------------------------------------ size

    def fit_to_screen(self) -> QRect:
        """Open at the preferred size, or at what the screen has room for (the
        available area, less the window frame), centred; returns the geometry."""
        screen = self.screen()
        avail = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()
        # Before the first show a window manager has not added its frame yet:
        # leave room for a typical title bar and border, except offscreen.
        extra_w = frame.width() if frame.width() > 0 else (0 if _offscreen() else 8)
        extra_h = frame.height() if frame.height() > 0 else (0 if _offscreen() else 40)
        width = max(min(PREFERRED_SIZE[0], avail.width() - extra_w), min(MINIMUM_SIZE[0], avail.width()))
        height = max(min(PREFERRED_SIZE[1], avail.height() - extra_h), min(MINIMUM_SIZE[1], avail.height()))
        self.setMinimumSize(min(MINIMUM_SIZE[0], width), min(MINIMUM_SIZE[1], height))
        self.resize(width, height)
        x = avail.left() + max(0, (avail.width() - width - extra_w) // 2)
        y = avail.top() + max(0, (avail.height() - height - extra_h) // 2)
        self.move(x, y)
        return QRect(x, y, width, height)

    # ------------------------------------------------------------ status

    def _refresh_strip(self) -> None:
        c = self.controller
        info = c.source.info if c.source is not None else None
        self.device_label.setText(info.name if info and c.connected else "No belt")
        self.battery_label.setText(f"·  battery {c.battery_pct} %" if c.connected and c.battery_pct is not None else "")
        self.link_label.setText(f"·  {c.link_state}  ·" if c.source is not None else "")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {theme.VERMILLION};" if error else "")

    # ------------------------------------------------------------ exit

    async def shutdown(self) -> None:
        try:
            await asyncio.wait_for(self.controller.disconnect(), 5.0)
        except Exception:  # noqa: BLE001 - the window is closing: a failed disconnect must not keep it open
            pass
        self.controller.close_store()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing:
            event.accept()
            return
        event.ignore()
        self._closing = True

        async def close_later() -> None:
            await self.shutdown()
            self.close()

        self._close_task = asyncio.ensure_future(close_later())  # keep a reference until it is done
