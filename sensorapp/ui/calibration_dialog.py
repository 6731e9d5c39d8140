"""The calibration wizard dialog: masses, tare, each mass with live force and still/moving, the fit, Save.

The steps and every rule are the pure model's (``calibration.wizard``, fed by
``sensorapp.session.calibration_run``); this only shows them. On the
simulated belt the virtual bench hangs each mass when its step begins, so the
wizard runs end to end without hardware. Devices that calibrate themselves
(the Progressor) get a page that can only zero them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from calibration import CalibrationError, CalibrationFit, CalibrationStore, CalibrationStoreError
from calibration.wizard import Step
from sensorapp.devices.base import DeviceError
from sensorapp.session.calibration_run import CalibrationRunner, SavedCalibration

from . import theme
from .controller import AppController

DEFAULT_MASSES_KG = (2.0, 5.0, 10.0)
STILL_COLOUR = theme.GREEN
MOVING_COLOUR = theme.ORANGE


def _sentence(text: str) -> str:
    """The model's one-line messages start in lower case (they also end CLI lines); a label starts a sentence."""
    return text[:1].upper() + text[1:]


def _simulation_for(controller: AppController) -> Any:
    """The simulation whose belt the controller is connected to, or None (hardware)."""
    if controller.descriptor is None or controller.descriptor.kind != "simulated":
        return None
    from sensorapp.devices.simulated import current_simulation

    sim = current_simulation()
    return sim if sim is not None and sim.descriptor.address == controller.descriptor.address else None


class CalibrationDialog(QDialog):
    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.source = controller.source
        self.runner: CalibrationRunner | None = None
        self.fit: CalibrationFit | None = None
        self.saved: SavedCalibration | None = None
        self.simulation = _simulation_for(controller)
        name = self.source.name if self.source is not None else "the device"
        self.setWindowTitle(f"Calibrate {name}")
        self.setAccessibleName("Calibration wizard")
        self.setMinimumSize(640, 480)
        self.pages = QStackedWidget()
        self.masses_page = self._build_masses_page()
        self.capture_page = self._build_capture_page()
        self.result_page = self._build_result_page()
        self.tare_page = self._build_tare_page()
        for page in (self.masses_page, self.capture_page, self.result_page, self.tare_page):
            self.pages.addWidget(page)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close the calibration wizard")
        self.close_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.pages, 1)
        lay.addLayout(bottom)
        supports = self.source is not None and self.source.supports_calibration
        self.pages.setCurrentWidget(self.masses_page if supports else self.tare_page)
        self.timer = QTimer(self)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.refresh_live)
        self.finished.connect(self._cleanup)

    # ------------------------------------------------------------ pages

    def _build_masses_page(self) -> QWidget:
        page = QWidget()
        title = QLabel("Calibrate with known masses")
        title.setFont(theme.font(22, bold=True))
        intro = theme.named(QLabel(
            "Hang the belt from a hook with nothing attached. You will capture it unloaded, then with each known mass "
            "hanging still from it. Use two or more different masses, up to the heaviest force you expect."
        ), "muted")
        intro.setWordWrap(True)
        self.mass_list = QListWidget()
        self.mass_list.setAccessibleName("Known masses, kilograms")
        self.mass_list.setFont(theme.font(16))
        for m in DEFAULT_MASSES_KG:
            self.mass_list.addItem(f"{m:g} kg")
        self.mass_input = QDoubleSpinBox()
        self.mass_input.setAccessibleName("Mass to add, kilograms")
        self.mass_input.setRange(0.1, 100.0)
        self.mass_input.setDecimals(3)
        self.mass_input.setSuffix(" kg")
        self.mass_input.setValue(20.0)
        self.add_button = QPushButton("Add mass")
        self.add_button.setAccessibleName("Add this mass")
        self.add_button.clicked.connect(self.add_mass)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove the selected mass")
        self.remove_button.clicked.connect(self.remove_mass)
        self.masses_error = theme.named(QLabel(""), "error")
        self.masses_error.setWordWrap(True)
        self.start_button = theme.named(QPushButton("Start: capture unloaded \u2192"), "primary")
        self.start_button.setAccessibleName("Start the calibration")
        self.start_button.clicked.connect(self.start)
        row = QHBoxLayout()
        row.addWidget(self.mass_input)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        lay = QVBoxLayout(page)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addWidget(self.mass_list, 1)
        lay.addLayout(row)
        lay.addWidget(self.masses_error)
        lay.addWidget(self.start_button)
        return page

    def _build_capture_page(self) -> QWidget:
        page = QWidget()
        self.step_title = QLabel("")
        self.step_title.setFont(theme.font(22, bold=True))
        self.instruction = QLabel("")
        self.instruction.setFont(theme.font(16))
        self.instruction.setWordWrap(True)
        self.bench_note = theme.named(QLabel("Simulated belt: the virtual bench hangs each mass for you."), "muted")
        self.bench_note.setVisible(self.simulation is not None)
        self.live_force = QLabel("\u2013")
        self.live_force.setFont(theme.font(40, bold=True))
        self.live_force.setAccessibleName("Force now")
        self.still_label = QLabel("")
        self.still_label.setFont(theme.font(18, bold=True))
        self.still_label.setAccessibleName("Still or moving")
        self.capture_message = theme.named(QLabel(""), "error")
        self.capture_message.setWordWrap(True)
        self.captured = QListWidget()
        self.captured.setAccessibleName("Captured points")
        self.capture_button = theme.named(QPushButton("Capture"), "primary")
        self.capture_button.setAccessibleName("Capture this point")
        self.capture_button.setFont(theme.font(18, bold=True))
        self.capture_button.clicked.connect(self.capture)
        self.redo_button = QPushButton("Redo last point")
        self.redo_button.setAccessibleName("Capture the last point again")
        self.redo_button.clicked.connect(self.redo_last)
        live = QHBoxLayout()
        live.addWidget(self.live_force)
        live.addSpacing(24)
        live.addWidget(self.still_label)
        live.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.redo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.capture_button)
        lay = QVBoxLayout(page)
        lay.addWidget(self.step_title)
        lay.addWidget(self.instruction)
        lay.addWidget(self.bench_note)
        lay.addLayout(live)
        lay.addWidget(self.capture_message)
        lay.addWidget(theme.named(QLabel("Captured"), "muted"))
        lay.addWidget(self.captured, 1)
        lay.addLayout(buttons)
        return page

    def _build_result_page(self) -> QWidget:
        page = QWidget()
        title = QLabel("The fit")
        title.setFont(theme.font(22, bold=True))
        self.fit_summary = QLabel("")
        self.fit_summary.setFont(theme.font(15))
        self.fit_summary.setWordWrap(True)
        self.fit_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.points_table = QTableWidget(0, 4)
        self.points_table.setAccessibleName("Points and residuals")
        self.points_table.setHorizontalHeaderLabels(["mass kg", "applied N", "mean counts", "residual N"])
        self.points_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.points_table.verticalHeader().setVisible(False)
        self.points_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.points_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.points_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.save_message = QLabel("")
        self.save_message.setWordWrap(True)
        self.save_button = theme.named(QPushButton("Save and write to the belt"), "primary")
        self.save_button.setAccessibleName("Save the calibration")
        self.save_button.clicked.connect(self.save)
        self.discard_button = QPushButton("Start over")
        self.discard_button.setAccessibleName("Discard this fit and start over")
        self.discard_button.clicked.connect(self.start_over)
        buttons = QHBoxLayout()
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(page)
        lay.addWidget(title)
        lay.addWidget(self.fit_summary)
        lay.addWidget(self.points_table, 1)
        lay.addWidget(self.save_message)
        lay.addLayout(buttons)
        return page

    def _build_tare_page(self) -> QWidget:
        page = QWidget()
        title = QLabel(f"{self.source.name if self.source is not None else 'This device'}: zero only")
        title.setFont(theme.font(22, bold=True))
        title.setWordWrap(True)
        text = QLabel(
            "This device applies its own calibration, so it cannot be calibrated with known masses here; "
            "the app can only zero it. Take every load off it, keep it still, then zero."
        )
        text.setWordWrap(True)
        self.tare_message = QLabel("")
        self.tare_message.setWordWrap(True)
        self.tare_button = theme.named(QPushButton("Zero (tare)"), "primary")
        self.tare_button.setAccessibleName("Zero the device")
        self.tare_button.clicked.connect(self.tare)
        lay = QVBoxLayout(page)
        lay.addWidget(title)
        lay.addWidget(text)
        lay.addWidget(self.tare_message)
        lay.addStretch(1)
        lay.addWidget(self.tare_button)
        return page

    # ------------------------------------------------------------ masses

    def masses(self) -> list[float]:
        return [float(self.mass_list.item(i).text().split()[0]) for i in range(self.mass_list.count())]

    def set_masses(self, masses_kg: list[float]) -> None:
        self.mass_list.clear()
        for m in masses_kg:
            self.mass_list.addItem(f"{m:g} kg")

    def add_mass(self) -> None:
        value = round(self.mass_input.value(), 3)
        if value in self.masses():
            self.masses_error.setText(f"{value:g} kg is already in the list: each mass must be different")
            return
        self.masses_error.setText("")
        self.mass_list.addItem(f"{value:g} kg")

    def remove_mass(self) -> None:
        row = self.mass_list.currentRow()
        if row >= 0:
            self.mass_list.takeItem(row)

    def start(self) -> None:
        if self.source is None or not self.controller.connected:
            self.masses_error.setText("The device is not connected.")
            return
        self._close_runner()
        try:
            self.runner = CalibrationRunner(self.source, self.masses())
        except (CalibrationError, DeviceError) as exc:
            self.masses_error.setText(str(exc))
            return
        self.masses_error.setText("")
        self.captured.clear()
        self.pages.setCurrentWidget(self.capture_page)
        self._begin_step()
        self.timer.start()

    # ------------------------------------------------------------ capture

    def _begin_step(self) -> None:
        assert self.runner is not None
        w = self.runner.wizard
        n_steps = len(w.masses_kg) + 1
        index = len(w.points) + 1
        mass = w.current_mass_kg
        self.step_title.setText(f"Step {index} of {n_steps}: " + ("unloaded" if mass == 0 else f"{mass:g} kg"))
        self.instruction.setText(_sentence(w.instruction()) + ", wait until it reads \u201cstill\u201d, then press Capture.")
        self.capture_message.setText("")
        self.redo_button.setEnabled(bool(w.points))
        if self.simulation is not None:
            self.simulation.hang_mass(mass)  # the virtual bench does what the instruction says
        self.refresh_live()

    def refresh_live(self) -> None:
        if self.runner is None or self.runner.wizard.step not in (Step.TARE, Step.MASS):
            return
        w = self.runner.wizard.window()
        if w.n_samples:
            self.live_force.setText(f"{w.force_n:.2f} N" if w.force_n == w.force_n else "\u2013")
        if not w.full:
            text, colour = "measuring\u2026", theme.MUTED
        elif w.still:
            text, colour = "\u2714 still", STILL_COLOUR
        else:
            text, colour = f"\u223f moving ({w.spread_n:.1f} N)", MOVING_COLOUR
        self.still_label.setText(text)
        self.still_label.setStyleSheet(f"color: {colour};")

    def capture(self) -> None:
        if self.runner is None:
            return
        try:
            point = self.runner.wizard.capture()
        except CalibrationError as exc:
            self.capture_message.setText(_sentence(str(exc)))
            return
        label = "unloaded" if point.mass_kg == 0 else f"{point.mass_kg:g} kg"
        self.captured.addItem(f"{label}: {point.mean_counts:.1f} counts ({point.n_samples} samples, varied by {point.spread_n:.2f} N)")
        if self.runner.wizard.step is Step.FIT:
            self.show_fit()
        else:
            self._begin_step()

    def redo_last(self) -> None:
        if self.runner is None or not self.runner.wizard.points:
            return
        self.runner.wizard.undo_last()
        self.captured.takeItem(self.captured.count() - 1)
        self._begin_step()

    # ------------------------------------------------------------ result

    def show_fit(self) -> None:
        assert self.runner is not None
        try:
            fit = self.runner.fit()
        except CalibrationError as exc:
            self.capture_message.setText(_sentence(str(exc)))
            self.runner.wizard.undo_last()
            self.captured.takeItem(self.captured.count() - 1)
            self._begin_step()
            return
        self.timer.stop()
        self.fit = fit
        cal = fit.calibration
        self.fit_summary.setText(
            f"Gain {cal.newtons_per_count:.9g} N/count, zero {cal.zero_counts:.1f} counts.\n"
            f"Linearity error {fit.linearity_error_n:.3f} N ({fit.linearity_error_pct_fs:.3f} % of {fit.full_scale_n:.0f} N), "
            f"R\u00b2 {fit.r_squared:.7f}, {fit.n_points} points."
        )
        self.points_table.setRowCount(fit.n_points)
        for row, (p, force, residual) in enumerate(zip(self.runner.wizard.points, fit.forces_n, fit.residuals_n, strict=True)):
            for col, text in enumerate((f"{p.mass_kg:g}", f"{force:.3f}", f"{p.mean_counts:.1f}", f"{residual:+.4f}")):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.points_table.setItem(row, col, item)
        self.save_message.setText("")
        self.save_button.setEnabled(True)
        self.pages.setCurrentWidget(self.result_page)

    def _store(self) -> CalibrationStore:
        store = getattr(self.source, "calibration_store", None)
        if isinstance(store, CalibrationStore):
            return store
        from sensorapp.devices.belt import default_calibration_store

        return default_calibration_store()

    def save(self) -> None:
        if self.runner is None:
            return
        self.save_button.setEnabled(False)
        self.save_message.setText("Saving\u2026")

        async def do_save() -> None:
            assert self.runner is not None
            try:
                saved = await self.runner.save(self._store())
            except (CalibrationStoreError, DeviceError) as exc:
                self.save_message.setText(f"Not saved: {exc}")
                self.save_button.setEnabled(True)
                return
            self.saved = saved
            text = f"Saved for belt {saved.serial} in {saved.store_path}."
            if saved.written_to_device and saved.device_readback is not None:
                held = saved.device_readback
                text += f" Written to the belt and read back: zero {held.zero_counts} counts, {held.newtons_per_count:.9g} N/count."
            self.save_message.setText(text)
            self.discard_button.setEnabled(False)
            self.controller.connection_changed.emit()  # the Device screen shows the new calibration

        self.controller.run(do_save(), "Saving the calibration")

    def start_over(self) -> None:
        self.fit = None
        self.pages.setCurrentWidget(self.masses_page)
        self._close_runner()

    # ------------------------------------------------------------ tare only

    def tare(self) -> None:
        self.tare_button.setEnabled(False)
        self.tare_message.setText("Zeroing\u2026")

        async def do_tare() -> None:
            try:
                removed = await self.controller.tare()
            except DeviceError as exc:
                self.tare_message.setText(str(exc))
            else:
                self.tare_message.setText(f"Zeroed: {removed or 0.0:.2f} N removed.")
            finally:
                self.tare_button.setEnabled(True)

        self.controller.run(do_tare(), "Tare")

    # ------------------------------------------------------------ closing

    def _close_runner(self) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None

    def _cleanup(self, _result: int = 0) -> None:
        self.timer.stop()
        self._close_runner()
        if self.simulation is not None:
            self.simulation.to_patient()  # the simulated belt goes back on the patient's ankles


def open_calibration_dialog(controller: AppController, parent: QWidget | None = None) -> CalibrationDialog:
    """Show the wizard for the connected device (non-modal for tests; modal to the window for users)."""
    dialog = CalibrationDialog(controller, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
