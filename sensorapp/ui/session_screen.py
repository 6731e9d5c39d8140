"""The patient's screen during the guided session."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sensorapp.session.guided import ExerciseProtocol, Phase, SessionView, protocol_from_prescription
from sensorapp.storage import StorageError

from . import theme
from .controller import AppController
from .force_units import force_text
from .hold_dial import HoldDial
from .live_plot import LiveForcePlot
from .pain_prompt import PainPrompt
from .sound import CuePlayer

TEXT_INTERVAL_MS = 100


class ProtocolForm(QGroupBox):
    """The prescription: reps per side, hold, rest, first side, optional target band."""

    def __init__(self, protocol: ExerciseProtocol, patient: str = "Patient", patients: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Exercise settings", parent)
        form = QFormLayout(self)
        self.patient = QComboBox()
        self.patient.setEditable(True)
        self.patient.addItems(patients or [])
        self.patient.setCurrentText(patient)
        self.patient.setToolTip("A name or a pseudonym; sessions are saved under it.")
        self.reps = QSpinBox(minimum=1, maximum=30, value=protocol.reps_per_side)
        self.hold = QDoubleSpinBox(minimum=1.0, maximum=60.0, value=protocol.hold_s, singleStep=0.5, suffix=" s", decimals=1)
        self.rest = QDoubleSpinBox(minimum=0.0, maximum=120.0, value=protocol.rest_s, singleStep=1.0, suffix=" s", decimals=0)
        self.first = QComboBox()
        self.first.addItems(["left", "right"])
        self.first.setCurrentText(protocol.first_side)
        self.both = QCheckBox("then the other side")
        self.both.setChecked(protocol.both_sides)
        self.band = QCheckBox("show")
        self.band.setToolTip("Show a band on the plot between these levels, in % of the best rep so far.")
        self.band_lo = QSpinBox(minimum=10, maximum=140, value=70, suffix=" %")
        self.band_hi = QSpinBox(minimum=20, maximum=150, value=90, suffix=" %")
        # Three controls on one form row: each gets its own name (the row's label alone would repeat).
        theme.accessible(self.first, "Start on the side")
        theme.accessible(self.band_lo, "Target band from, % of best")
        theme.accessible(self.band_hi, "Target band to, % of best")
        if protocol.target_band_pct:
            self.band.setChecked(True)
            self.band_lo.setValue(int(protocol.target_band_pct[0]))
            self.band_hi.setValue(int(protocol.target_band_pct[1]))
        form.setVerticalSpacing(4)
        form.addRow("Patient", self.patient)
        form.addRow("Reps per side", self.reps)
        form.addRow("Hold", self.hold)
        form.addRow("Rest between reps", self.rest)
        side_row = QHBoxLayout()
        side_row.addWidget(self.first)
        side_row.addWidget(self.both)
        side_row.addStretch(1)
        form.addRow("Start on the", side_row)
        band_row = QHBoxLayout()
        band_row.addWidget(self.band)
        band_row.addWidget(self.band_lo)
        band_row.addWidget(QLabel("to"))
        band_row.addWidget(self.band_hi)
        band_row.addStretch(1)
        form.addRow("Target, % of best", band_row)
        # Beside the plot, not under it: the plot keeps its height on small screens.
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.setMaximumWidth(round(520 * theme.text_scale()))

    def protocol(self) -> ExerciseProtocol:
        band = None
        if self.band.isChecked() and self.band_lo.value() < self.band_hi.value():
            band = (float(self.band_lo.value()), float(self.band_hi.value()))
        return ExerciseProtocol(
            reps_per_side=self.reps.value(),
            hold_s=self.hold.value(),
            rest_s=self.rest.value(),
            first_side=self.first.currentText(),
            both_sides=self.both.isChecked(),
            target_band_pct=band,
        )


class SessionScreen(QWidget):
    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.sound = CuePlayer(self, sound_on=controller.settings.sound_on, volume_pct=controller.settings.volume_pct)
        controller.settings_changed.connect(self._settings_changed)

        self.banner = theme.named(QLabel(), "banner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        self.counter = QLabel("Ready when you are")
        self.counter.setFont(theme.font(30, bold=True))
        self.force_label = QLabel("")
        self.force_label.setFont(theme.font(30, bold=True))
        self.force_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.instruction = QLabel("")
        self.instruction.setFont(theme.font(24))
        self.instruction.setWordWrap(True)
        self.feedback = theme.named(QLabel(""), "muted")
        self.feedback.setFont(theme.font(18))
        self.feedback.setWordWrap(True)
        self.dial = HoldDial()
        self.plot = LiveForcePlot(controller.ring)
        self.plot.set_unit(controller.settings.unit())
        self.form = ProtocolForm(controller.protocol, controller.patient_name, [])
        self.form.patient.setAccessibleName("Patient")
        self.refresh_patients()
        self.form.patient.activated.connect(self._patient_picked)
        controller.patient_changed.connect(self.refresh_patients)
        controller.prescription_changed.connect(self.refresh_patients)
        self.pain_prompt: PainPrompt | None = None

        self.start_button = theme.named(QPushButton("Start  (space)"), "primary")
        self.start_button.setFont(theme.font(18, bold=True))
        self.start_button.clicked.connect(self.toggle)
        self.abort_button = theme.named(QPushButton("Stop session"), "danger")
        self.abort_button.clicked.connect(self.controller.abort_session)
        self.abort_button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.counter, 1)
        top.addWidget(self.force_label)
        middle = QHBoxLayout()
        middle.addWidget(self.dial, 2)
        middle.addWidget(self.plot, 5)
        middle.addWidget(self.form, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.abort_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addLayout(top)
        lay.addWidget(self.instruction)
        lay.addLayout(middle, 1)
        lay.addWidget(self.feedback)
        lay.addLayout(buttons)

        self.text_timer = QTimer(self)
        self.text_timer.setInterval(TEXT_INTERVAL_MS)
        self.text_timer.timeout.connect(self.refresh)
        self.refresh()

    def _settings_changed(self) -> None:
        settings = self.controller.settings
        self.sound.set_preferences(settings.sound_on, settings.volume_pct)
        self.plot.set_unit(settings.unit())
        self.refresh()

    # ------------------------------------------------------------ lifecycle

    def showEvent(self, event: object) -> None:
        if self.controller.session is None or self.controller.session.finished:
            self.refresh_patients()
        self.plot.start()
        self.text_timer.start()
        super().showEvent(event)  # type: ignore[arg-type]

    def hideEvent(self, event: object) -> None:
        self.plot.stop()
        self.text_timer.stop()
        super().hideEvent(event)  # type: ignore[arg-type]

    def refresh_patients(self) -> None:
        """The store's patients (not archived) in the patient box, the picked one selected and its prescription applied."""
        c = self.controller
        box = self.form.patient
        box.blockSignals(True)
        box.clear()
        patients = c.store.patients() if c.store is not None else []
        for p in patients:
            box.addItem(p.name + (f"  ({p.external_id})" if p.external_id else ""), p.id)
        index = box.findData(c.patient_id) if c.patient_id is not None else -1
        if index >= 0:
            box.setCurrentIndex(index)
        else:
            box.setCurrentText(c.patient_name)
        line = box.lineEdit()
        if line is not None:
            line.setCursorPosition(0)  # the name's start in view, not the record number's end
        box.blockSignals(False)
        self.apply_prescription()

    def _patient_picked(self, index: int) -> None:
        patient_id = self.form.patient.itemData(index)
        if self.controller.store is None or patient_id is None:
            return
        self.controller.select_patient(self.controller.store.patient(int(patient_id)))

    def apply_prescription(self) -> None:
        """Set the form from the picked patient's current prescription (the therapist may still change it here)."""
        prescription = self.controller.current_prescription()
        if prescription is None:
            self._prescription_note("Exercise settings", "No prescription for this patient: these settings are used.")
            return
        try:
            protocol = protocol_from_prescription(prescription, self.form.protocol())
        except ValueError as exc:
            self._prescription_note("Exercise settings", f"The prescription does not fit the guided session ({exc}); these settings are used.")
            return
        f = self.form
        f.reps.setValue(protocol.reps_per_side)
        f.hold.setValue(protocol.hold_s)
        f.rest.setValue(protocol.rest_s)
        f.first.setCurrentText(protocol.first_side)
        f.both.setChecked(True)
        if protocol.target_band_pct:
            f.band.setChecked(True)
            f.band_lo.setValue(int(protocol.target_band_pct[0]))
            f.band_hi.setValue(int(protocol.target_band_pct[1]))
        self._prescription_note(
            f"From the prescription ({prescription.sessions_per_day} a day)", f"From the prescription: {prescription.describe()}"
        )

    def _prescription_note(self, title: str, tip: str) -> None:
        """Where the settings come from, in the box's title (no extra line: the plot keeps its height at 600 px)."""
        self.form.setTitle(title)
        self.form.setToolTip(tip)

    def _take_patient(self) -> None:
        """The patient box's choice for the next session: a listed patient by id, else the typed name."""
        c, box = self.controller, self.form.patient
        index = box.findText(box.currentText())
        patient_id = box.itemData(index) if index >= 0 else None
        if patient_id is not None and int(patient_id) == c.patient_id:
            return  # already picked: re-picking would refill the form over the therapist's own changes
        if patient_id is not None and c.store is not None:
            try:
                c.select_patient(c.store.patient(int(patient_id)))
                return
            except StorageError:
                pass  # gone since the list was filled: the typed name decides
        c.set_patient(box.currentText())

    def toggle(self) -> None:
        """Space bar / Start button: start (after the pain question, when asked), pause, resume."""
        c = self.controller
        if self.pain_prompt is not None:
            return  # the pain question is up: space is not an answer
        if c.session is None or c.session.finished:
            self._take_patient()
            if c.pain_prompts:
                self.ask_pain_before()
            else:
                self._start()
        else:
            c.session.toggle()
        self.refresh()

    def ask_pain_before(self) -> PainPrompt:
        def answered(value: int | None) -> None:
            self.pain_prompt = None
            self.controller.pain_before = value
            self._start()

        self.pain_prompt = PainPrompt("before", answered, self)
        self.pain_prompt.open()
        return self.pain_prompt

    def _start(self) -> None:
        c = self.controller
        c.new_session(self.form.protocol())
        c.start_session()
        if c.descriptor is not None and c.descriptor.kind == "simulated":
            from sensorapp.devices.simulated import patient_begins_session

            patient_begins_session()  # the virtual patient does this session too
        self.refresh()

    # ------------------------------------------------------------ display

    def refresh(self) -> None:
        c = self.controller
        session = c.session
        force = c.last_force_n
        self.force_label.setText(force_text(force, c.settings.unit()) if force == force else "")
        if session is None:
            self._show_idle()
            return
        view = session.view()
        self._show(view)
        for cue in session.take_cues():
            self.sound.play(cue)

    def _show_idle(self) -> None:
        self.counter.setText("Ready when you are")
        self.instruction.setText("Check the settings, then press Start (or the space bar).")
        self.dial.show_idle(self.form.hold.value())
        self.feedback.setText("")  # the last session's last rep is not news for the next one
        self.feedback.hide()  # room for the settings on a small screen
        self.plot.set_side(self.form.first.currentText())  # the side the patient starts on
        self.form.setVisible(True)
        self.start_button.setText("Start  (space)")
        self.abort_button.setEnabled(False)
        self.banner.hide()

    def _show(self, v: SessionView) -> None:
        c = self.controller
        running = v.phase not in (Phase.IDLE, Phase.DONE, Phase.ABORTED)
        self.form.setVisible(not running)
        self.abort_button.setEnabled(running)
        self.start_button.setText("Resume  (space)" if v.paused else ("Pause  (space)" if running else "Start  (space)"))
        if v.phase == Phase.TURN_OVER:
            self.counter.setText(f"Turn over: {v.side} side next")
            self.counter.setStyleSheet(f"color: {theme.SIDE_COLOURS.get(v.side, theme.TEXT)};")
        elif running:
            self.counter.setText(v.counter_text)
        else:
            self.counter.setText("Session complete" if v.phase == Phase.DONE else "Session stopped")
        self.instruction.setText(v.instruction)
        self.feedback.setText(v.feedback)
        self.feedback.setVisible(running or bool(v.feedback))
        if v.phase in (Phase.PRESSING, Phase.HOLDING):
            self.dial.show_hold(v.hold_s, v.hold_target_s, done=False)
        elif v.phase == Phase.RELEASE:
            self.dial.show_hold(v.hold_s, v.hold_target_s, done=True)
        elif v.phase == Phase.REST:
            self.dial.show_rest(v.rest_remaining_s)
        elif v.phase == Phase.TURN_OVER:
            total = c.session.protocol.turnover_min_s if c.session is not None else 8.0
            self.dial.show_turn_over(v.turn_over_remaining_s, theme.SIDE_COLOURS.get(v.side, theme.SKY), total)
        else:
            self.dial.show_idle(v.hold_target_s)
        if v.phase != Phase.TURN_OVER:
            self.counter.setStyleSheet("")
        self.plot.set_side(v.side if running else None)
        self.plot.set_threshold(v.threshold_n if running else None)
        self.plot.set_band(v.target_band_n)
        if v.reconnecting:
            self.banner.setText("Lost the belt \u2013 reconnecting\u2026 keep still; the session carries on when it is back.")
            self.banner.show()
        elif v.paused:
            self.banner.setText("Paused \u2013 press space to carry on.")
            self.banner.show()
        else:
            self.banner.hide()
