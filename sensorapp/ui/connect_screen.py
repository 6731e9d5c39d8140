"""Find and connect a belt (or a Progressor, or the simulated belt), check it, tare it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sensorapp.devices.base import BluetoothUnavailableError, DeviceDescriptor, DeviceError

from . import theme
from .controller import AppController
from .force_units import force_text

BLUETOOTH_MISSING = "Bluetooth is off or missing on this computer. You can still use the simulated belt."
KIND_LABELS = {"belt": "GMBelt", "progressor": "Tindeq Progressor", "simulated": "simulated", "replay": "recording"}


def signal_bars(rssi: int | None) -> str:
    """RSSI as words a patient understands."""
    if rssi is None:
        return ""
    if rssi >= -60:
        return "signal strong"
    if rssi >= -75:
        return "signal good"
    if rssi >= -85:
        return "signal weak"
    return "signal very weak"


class ConnectScreen(QWidget):
    continue_requested = Signal()

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        title = QLabel("Connect your belt")
        title.setFont(theme.font(28, bold=True))
        self.hint = theme.named(QLabel("Switch the belt on and keep it near the computer, then press Scan."), "muted")
        self.hint.setWordWrap(True)
        self.bt_state = theme.named(QLabel(""), "error")
        self.bt_state.setWordWrap(True)
        self.bt_state.hide()
        self.bt_detail = theme.named(QLabel(""), "muted")  # the system's own words, for whoever helps
        self.bt_detail.setWordWrap(True)
        self.bt_detail.setFont(theme.font(11))
        self.bt_detail.hide()
        self.devices = theme.accessible(QListWidget(), "Belts found", "Choose one with the arrow keys, then Connect")
        self.devices.setFont(theme.font(16))
        self.devices.setWordWrap(True)
        self.devices.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.devices.itemDoubleClicked.connect(lambda _item: self.connect_selected())
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self.scan)
        self.connect_button = theme.named(QPushButton("Connect"), "primary")
        self.connect_button.clicked.connect(self.connect_selected)
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.clicked.connect(lambda: self.controller.run(self.controller.disconnect(), "Disconnect"))
        self.tare_button = QPushButton("Zero (tare)")
        self.tare_button.setToolTip("Relax the leg with the belt just tight, then zero: takes 1 s.")
        self.tare_button.clicked.connect(lambda: self.controller.run(self.controller.tare(), "Tare"))
        self.calibrate_button = QPushButton("Calibrate\u2026")
        self.calibrate_button.setAccessibleName("Calibrate the belt with known masses")
        self.calibrate_button.setToolTip("Tare, then hang two or more known masses: the fit is saved and written to the belt.")
        self.calibrate_button.clicked.connect(self.open_calibration)
        self.lsl_check = QCheckBox("Stream to Lab Streaming Layer (LSL)")
        self.lsl_check.setToolTip("Force (N) and rep markers on the device clock, for LabRecorder or any LSL inlet")
        self.lsl_check.toggled.connect(lambda on: self.lsl_check.setChecked(self.controller.set_lsl_enabled(on)))
        self.continue_button = theme.named(QPushButton("Start exercise \u2192"), "primary")
        self.continue_button.setFont(theme.font(18, bold=True))
        self.continue_button.clicked.connect(self.continue_requested.emit)

        self.device_title = QLabel("Not connected")
        self.device_title.setFont(theme.font(20, bold=True))
        self.device_detail = theme.named(QLabel(""), "muted")
        self.device_detail.setWordWrap(True)
        self.live_force = QLabel("")
        self.live_force.setFont(theme.font(44, bold=True))
        self.status = theme.named(QLabel(""), "muted")
        self.status.setWordWrap(True)

        buttons = QHBoxLayout()
        for b in (self.scan_button, self.connect_button, self.disconnect_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(title)
        left.addWidget(self.hint)
        left.addWidget(self.bt_state)
        left.addWidget(self.bt_detail)
        left.addWidget(self.devices, 1)
        left.addLayout(buttons)
        left.addWidget(self.status)
        right_panel = theme.named(QWidget(), "panel")
        right = QVBoxLayout(right_panel)
        right.addWidget(self.device_title)
        right.addWidget(self.device_detail)
        right.addStretch(1)
        right.addWidget(theme.named(QLabel("Force now"), "muted"))
        right.addWidget(self.live_force)
        right.addWidget(self.tare_button)
        right.addWidget(self.calibrate_button)
        right.addWidget(self.lsl_check)
        right.addStretch(1)
        right.addWidget(self.continue_button)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 3)
        lay.addWidget(right_panel, 2)

        self._scanning = False
        self.populate([])
        controller.connection_changed.connect(self.refresh)
        controller.battery_changed.connect(lambda _pct: self.refresh())
        controller.link_state_changed.connect(lambda _s: self.refresh())
        self.force_timer = QTimer(self)
        self.force_timer.setInterval(200)
        self.force_timer.timeout.connect(self._show_force)
        self.force_timer.start()
        self.refresh()

    # ------------------------------------------------------------ list

    def populate(self, found: list[DeviceDescriptor]) -> None:
        self.devices.clear()
        entries: list[DeviceDescriptor] = []
        last = self.controller.last_device()
        if last is not None and all(d.address != last.address for d in found):
            entries.append(last)
        entries.extend(found)
        entries.append(self.controller.simulated_descriptor())
        for d in entries:
            parts = [d.name, KIND_LABELS.get(d.kind, d.kind)]
            bars = signal_bars(d.rssi)
            if bars:
                parts.append(f"{bars} ({d.rssi} dBm)")
            if last is not None and d.address == last.address:
                parts.append("last used")
            if d.kind not in ("simulated",):
                parts.append(d.address)
            # Name on its own line, details below: nothing runs off a narrow list.
            item = QListWidgetItem(parts[0] + "\n" + "  \u00b7  ".join(parts[1:]))
            item.setData(Qt.ItemDataRole.UserRole, d)
            self.devices.addItem(item)
        self.devices.setCurrentRow(0)

    def selected(self) -> DeviceDescriptor | None:
        item = self.devices.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def scan(self) -> None:
        if self._scanning:
            return
        self._scanning = True
        self.scan_button.setEnabled(False)
        self.scan_button.setText("Scanning\u2026")

        async def do_scan() -> None:
            try:
                found = await self.controller.scan()
                self.bt_state.hide()
                self.bt_detail.hide()
                self.populate(found)
                self.status.setText(f"Found {len(found)} device(s)." if found else "No belt found. Is it switched on?")
            except BluetoothUnavailableError as exc:
                self.bt_state.setText(BLUETOOTH_MISSING)
                self.bt_state.show()
                self.bt_detail.setText(f"Details: {exc}")
                self.bt_detail.show()
                self.populate([])
            except DeviceError as exc:
                self.status.setText(str(exc))
            finally:
                self._scanning = False
                self.scan_button.setEnabled(True)
                self.scan_button.setText("Scan")

        self.controller.run(do_scan(), "Scan")

    def connect_selected(self) -> None:
        d = self.selected()
        if d is None:
            return
        self.connect_button.setEnabled(False)

        async def do_connect() -> None:
            try:
                await self.controller.connect_to(d)
            finally:
                self.refresh()

        self.controller.run(do_connect(), f"Connecting to {d.name}")

    # ------------------------------------------------------------ state

    def refresh(self) -> None:
        c = self.controller
        connected = c.connected
        self.connect_button.setEnabled(not connected)
        self.disconnect_button.setEnabled(connected)
        self.continue_button.setEnabled(connected)
        info = c.source.info if c.source is not None else None
        self.tare_button.setEnabled(connected and (info is None or info.supports_tare))
        self.calibrate_button.setEnabled(connected and (info is None or info.supports_tare))
        if not connected or info is None:
            self.device_title.setText("Not connected")
            self.device_detail.setText("")
            return
        self.device_title.setText(info.name)
        lines = [f"{KIND_LABELS.get(info.kind, info.kind)} {info.model}".strip()]
        if info.serial:
            lines.append(f"serial {info.serial}, firmware {info.firmware}")
        if info.rate_hz:
            lines.append(f"{info.rate_hz:.0f} samples per second")
        if c.battery_pct is not None:
            lines.append(f"battery {c.battery_pct} %")
        rssi = c.descriptor.rssi if c.descriptor is not None else None
        if rssi is not None:
            lines.append(f"{signal_bars(rssi)} ({rssi} dBm)")
        if info.calibration:
            lines.append(f"calibration: {info.calibration}")
        lines.append(f"link: {c.link_state}")
        self.device_detail.setText("\n".join(lines))

    def open_calibration(self) -> QWidget:
        from .calibration_dialog import open_calibration_dialog

        return open_calibration_dialog(self.controller, self)

    def _show_force(self) -> None:
        f = self.controller.last_force_n
        self.live_force.setText(force_text(f, self.controller.settings.unit(), 1) if self.controller.connected and f == f else "\u2013")
