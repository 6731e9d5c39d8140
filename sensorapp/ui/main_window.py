"""The main window: device, session and summary screens, and a status strip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
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
from .shortcuts import SHORTCUTS
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
        self.summary_screen.unit = controller.settings.unit()
        self.history_screen = HistoryScreen(controller)
        self.patients_screen = PatientsScreen(controller)
        self.stack = QStackedWidget()
        for w in (self.connect_screen, self.session_screen, self.summary_screen, self.history_screen, self.patients_screen):
            self.stack.addWidget(w)

        self.device_label = QLabel("No belt")
        self.battery_label = theme.named(QLabel(""), "muted")
        self.link_label = theme.named(QLabel(""), "muted")
        self.message = theme.named(ElidedLabel(""), "muted")
        self.device_button = QPushButton("Device")
        self.device_button.clicked.connect(self.show_connect)
        self.exercise_button = QPushButton("Exercise")
        self.exercise_button.clicked.connect(self.show_session)
        self.history_button = QPushButton("History")
        self.history_button.clicked.connect(self.show_history)
        self.patients_button = QPushButton("Patients")
        self.patients_button.setToolTip("The caseload: patients, prescriptions, flags and advice (Ctrl+4)")
        self.patients_button.setAccessibleName("Patients")
        self.patients_button.clicked.connect(self.show_patients)
        # One button for settings and help: the top bar must fit a 1024 px screen beside a long belt name.
        self.menu_button = theme.accessible(QPushButton("\u2699"), "Settings and help", "Settings, keyboard shortcuts, about")
        self.menu_button.setToolTip("Settings (Ctrl+,), keyboard shortcuts (F1), about (Shift+F1)")
        self.menu = QMenu(self.menu_button)
        self.menu.addAction("Settings\u2026", "Ctrl+,", self.show_settings)
        self.menu.addAction("Keyboard shortcuts", "F1", self.show_shortcuts)
        self.menu.addAction("About sensorapp", "Shift+F1", self.show_about)
        self.menu_button.setMenu(self.menu)
        # The top bar takes focus (Tab reaches it); on the Exercise screen the space bar is the
        # session's shortcut, which Qt serves before a focused button would see the key.
        for b, shortcut in ((self.device_button, "Ctrl+1"), (self.exercise_button, "Ctrl+2"), (self.history_button, "Ctrl+3"), (self.patients_button, "Ctrl+4")):
            if not b.toolTip():
                b.setToolTip(QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText))
            # "Device screen", not "Device": the Summary has its own Device button, Patients its own table.
            theme.accessible(b, f"{b.text()} screen", f"Go to the {b.text()} screen ({shortcut})")
        strip = QHBoxLayout()
        strip.setSpacing(4)  # five buttons beside a long belt name in 1024 px
        strip.addWidget(self.device_label)
        strip.addWidget(self.battery_label)
        strip.addWidget(self.link_label)
        strip.addWidget(self.message, 1)
        for b in (self.device_button, self.exercise_button, self.history_button, self.patients_button, self.menu_button):
            theme.named(b, "topbar")
            strip.addWidget(b)
        for top_bar_widget in (self.battery_label, self.link_label, self.message, self.device_button, self.exercise_button, self.history_button, self.patients_button):
            theme.fixed_font(top_bar_widget, theme.BASE_POINT_SIZE)
        theme.fixed_font(self.device_label, 14, bold=True)
        theme.fixed_font(self.menu_button, 16, bold=True)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addLayout(strip)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.shortcuts: dict[str, QShortcut] = {}
        for entry in SHORTCUTS:
            if not entry.action:
                continue
            bound = QShortcut(QKeySequence(entry.keys), self)
            bound.setContext(Qt.ShortcutContext.WindowShortcut)
            bound.activated.connect(getattr(self, entry.action))
            self.shortcuts[entry.action] = bound
        self.space = self.shortcuts["toggle_session"]
        # Space belongs to the session only on the Exercise screen; elsewhere it presses the focused button.
        self.stack.currentChanged.connect(self._screen_changed)
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
        controller.settings_changed.connect(self._settings_changed)
        self._closing = False
        self._refresh_strip()
        self._screen_changed()

    # ------------------------------------------------------------ settings, help

    def _screen_changed(self, _index: int = 0) -> None:
        on_session = self.stack.currentWidget() is self.session_screen
        self.space.setEnabled(on_session)
        self.shortcuts["stop_session"].setEnabled(on_session)
        theme.name_controls(self)  # screens may have added controls
        theme.no_tab_traps(self)
        page = self.stack.currentWidget()
        focused = QApplication.focusWidget()
        if page is self.session_screen:
            # Not into the patient's name: there the space bar would type a space, not start the session.
            page.setFocus(Qt.FocusReason.OtherFocusReason)
        elif page is not None and (focused is None or not page.isAncestorOf(focused)):
            # Keyboard users land on the new screen's first control, not on the top bar.
            first = page.nextInFocusChain()
            while first is not page and first is not None and not (page.isAncestorOf(first) and first.isVisible() and first.isEnabled() and first.focusPolicy() & Qt.FocusPolicy.TabFocus):
                first = first.nextInFocusChain()
            if first is not None and first is not page:
                first.setFocus(Qt.FocusReason.TabFocusReason)

    def show_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.controller.settings, self.session_screen.sound, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted and dialog.apply_to(self.controller.settings):
            self.controller.apply_settings()

    def _settings_changed(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication) and self.controller.settings.large_text != theme.large_text():
            theme.apply(app, large_text=self.controller.settings.large_text)
        self.summary_screen.set_unit(self.controller.settings.unit())
        self.history_screen.refresh_sessions()
        self.connect_screen.refresh()

    def show_shortcuts(self) -> None:
        from .shortcuts import ShortcutsDialog

        ShortcutsDialog(self).exec()

    def show_about(self) -> None:
        from sensorapp.settings import default_config_dir
        from sensorapp.storage.paths import default_data_dir

        from .about_dialog import AboutDialog

        store = self.controller.store
        data_dir = Path(store.path).parent if store is not None and getattr(store, "path", None) else default_data_dir()
        config_dir = self.controller.settings.path.parent if self.controller.settings.path is not None else default_config_dir()
        AboutDialog(data_dir, config_dir, self).exec()

    def toggle_session(self) -> None:
        self._space()

    def stop_session(self) -> None:
        if self.stack.currentWidget() is self.session_screen:
            self.controller.abort_session()

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

    def restore_geometry(self) -> bool:
        """The size and place saved at the last exit, if it still fits a screen here; False when not."""
        saved = self.controller.settings.window_geometry
        if saved is None:
            return False
        rect = QRect(*saved)
        for screen in QApplication.screens():
            avail = screen.availableGeometry()
            if avail.contains(rect.center()) and rect.width() <= avail.width() and rect.height() <= avail.height():
                self.setMinimumSize(min(MINIMUM_SIZE[0], rect.width()), min(MINIMUM_SIZE[1], rect.height()))
                self.resize(rect.size())
                self.move(rect.topLeft())
                return True
        return False  # a screen that has gone (a laptop off its dock): fit the one there is

    def remember_geometry(self) -> None:
        if _offscreen():
            return  # an offscreen window's size says nothing about the user's screen
        g = self.normalGeometry() if self.isMaximized() else self.geometry()
        self.controller.settings.window_geometry = [g.x(), g.y(), g.width(), g.height()]
        self.controller.save_settings()

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
        self.remember_geometry()
        self.session_screen.sound.close()

        async def close_later() -> None:
            await self.shutdown()
            self.close()

        self._close_task = asyncio.ensure_future(close_later())  # keep a reference until it is done
