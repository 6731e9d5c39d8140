"""The therapist's home: the caseload, each patient's editor and prescription.

The list shows each patient's record number, involved side, last session, flags
and pending progression advice (``sensorapp.clinic.overview``); the therapist
accepts or dismisses advice here, and the decision is recorded in the store.
Accepting never changes the prescription: that is the therapist's own edit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorapp.clinic.advice import Advice
from sensorapp.clinic.flags import Flag
from sensorapp.clinic.overview import decide_advice, patient_overview
from sensorapp.clinic.prescription import Prescription
from sensorapp.clinic.thresholds import USER_FILENAME, ThresholdsError
from sensorapp.storage import SessionStore, StorageError
from sensorapp.storage.records import Patient, SessionRecord

from . import theme
from .controller import AppController
from .dialogs import fit_dialog

PATIENT_COLUMNS = ("Name", "Record no.", "Involved", "Last session", "Flags", "Advice")
SIDE_CHOICES: tuple[tuple[str, str | None], ...] = (("none", None), ("left", "left"), ("right", "right"))
SEX_CHOICES: tuple[tuple[str, str | None], ...] = (("not given", None), ("female", "female"), ("male", "male"), ("other", "other"))
TARGET_CHOICES: tuple[tuple[str, str | None], ...] = (("none", None), ("% of best rep", "percent_of_best"), ("absolute, N", "absolute_n"))
NOT_GIVEN = "not given"
FLAG_SYMBOLS = {"alert": "\u2716", "warning": "!"}  # with the colour: no colour carries meaning alone
FIRST_BIRTH_YEAR = 1900
PRESCRIPTION_COLUMNS = ("Changed", "Reps", "Hold", "Rest", "First", "Target", "A day", "From")
# The theme styles spin and combo boxes; the editors' text and date fields get the same frame here,
# and disabled fields read as disabled (the theme's near-white text would not).
EDITOR_STYLE = f"""
QLineEdit, QPlainTextEdit, QDateEdit {{ background: {theme.PANEL}; border: 1px solid {theme.MUTED}; border-radius: 6px; padding: 4px 8px; }}
QLineEdit:focus, QPlainTextEdit:focus, QDateEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{ border-color: {theme.YELLOW}; }}
QDateEdit {{ min-height: 1.6em; }}
QDateEdit::drop-down {{ width: 26px; background: {theme.GRID}; border-left: 1px solid {theme.MUTED}; }}
QSpinBox:disabled, QDoubleSpinBox:disabled, QComboBox:disabled {{ color: {theme.DISABLED_TEXT}; border-color: {theme.GRID}; }}
"""


def _combo(choices: tuple[tuple[str, str | None], ...], current: str | None, accessible: str) -> QComboBox:
    box = QComboBox()
    for label, value in choices:
        box.addItem(label, value)
    box.setCurrentIndex(max(0, box.findData(current)) if current is not None else 0)
    box.setAccessibleName(accessible)
    return box


def target_text(p: Prescription) -> str:
    if p.target_kind is None or p.target_low is None or p.target_high is None:
        return "\u2013"
    if p.target_kind == "percent_of_best":
        return f"{p.target_low:.0f}\u2013{p.target_high:.0f} % of best"
    return f"{p.target_low:.0f}\u2013{p.target_high:.0f} N"


def prescription_text(p: Prescription | None) -> str:
    """One line: '7 reps/side, hold 6 s, rest 10 s, left first, 3/day'."""
    return "No prescription yet: sessions use the exercise settings." if p is None else p.describe()


def flag_name(flag: Flag) -> str:
    """The flag's short name for a list cell: its text up to the first colon ("asymmetry")."""
    return flag.text.split(":", 1)[0]


class PatientOverviewRow:
    """What one row of the list shows: the overview's last session, flags and pending advice.

    When the flag thresholds cannot be read (a bad user file), the row still shows the store's
    last session, and ``problem`` says why the flags are missing."""

    def __init__(self, store: SessionStore, patient: Patient) -> None:
        self.patient = patient
        self.flags: list[Flag] = []
        self.advice: Advice | None = None
        self.problem: str | None = None
        try:
            overview = patient_overview(store, patient)
        except ThresholdsError as exc:
            self.problem = str(exc)
            ended = [r for r in store.sessions(patient.id) if r.ended_at is not None]
            self.last_session: SessionRecord | None = ended[-1] if ended else None
            return
        self.last_session = overview.last_session
        self.flags = list(overview.flags)
        self.advice = overview.advice

    @property
    def last_session_text(self) -> str:
        r = self.last_session
        if r is None:
            return "none yet"
        return f"{r.started_at.astimezone().strftime('%d %b %H:%M')}, {r.rep_count} reps"

    @property
    def flags_text(self) -> str:
        if self.problem:
            return "not checked"
        if not self.flags:
            return "\u2013"
        return "; ".join(f"{FLAG_SYMBOLS.get(f.severity, '!')} {flag_name(f)}" for f in self.flags)

    @property
    def flag_lines(self) -> list[str]:
        return [f"{FLAG_SYMBOLS.get(f.severity, '!')} {f.text}" for f in self.flags]

    @property
    def advice_text(self) -> str:
        return "pending" if self.advice is not None else "\u2013"


# ---------------------------------------------------------------- patient editor


class PatientDialog(QDialog):
    """Create or edit a patient. Save keeps the dialog open, with everything typed, when the store refuses."""

    def __init__(self, store: SessionStore, patient: Patient | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.patient = patient
        self.saved: Patient | None = None
        self.setWindowTitle("Edit patient" if patient else "New patient")
        self.setAccessibleName(self.windowTitle())
        self.setStyleSheet(EDITOR_STYLE)
        heading = QLabel(self.windowTitle())
        heading.setFont(theme.font(20, bold=True))
        this_year = date.today().year
        self.name = QLineEdit(patient.name if patient else "")
        self.name.setPlaceholderText("a name or a pseudonym")
        self.name.setAccessibleName("Name")
        self.external_id = QLineEdit((patient.external_id or "") if patient else "")
        self.external_id.setPlaceholderText("the clinic's record number (optional)")
        self.external_id.setAccessibleName("Record number")
        self.birth_year = QSpinBox(minimum=FIRST_BIRTH_YEAR - 1, maximum=this_year)
        self.birth_year.setSpecialValueText(NOT_GIVEN)  # the minimum reads "not given"
        self.birth_year.setValue(patient.birth_year if patient and patient.birth_year else FIRST_BIRTH_YEAR - 1)
        self.birth_year.setAccessibleName("Year of birth")
        self.sex = _combo(SEX_CHOICES, patient.sex if patient else None, "Sex")
        self.involved = _combo(SIDE_CHOICES, patient.involved_side if patient else None, "Involved side")
        self.body_mass = QDoubleSpinBox(minimum=0.0, maximum=400.0, decimals=1, singleStep=0.5, suffix=" kg")
        self.body_mass.setSpecialValueText(NOT_GIVEN)
        self.body_mass.setValue(patient.body_mass_kg if patient and patient.body_mass_kg else 0.0)
        self.body_mass.setAccessibleName("Body mass")
        self.lever_arm = QDoubleSpinBox(minimum=0.0, maximum=2.0, decimals=2, singleStep=0.01, suffix=" m")
        self.lever_arm.setSpecialValueText(NOT_GIVEN)
        self.lever_arm.setValue(patient.lever_arm_m if patient and patient.lever_arm_m else 0.0)
        self.lever_arm.setAccessibleName("Lever arm, hip to belt")
        self.lever_arm.setToolTip("Hip joint to the belt, for torque (N\u00b7m)")
        self.notes = QPlainTextEdit(patient.notes if patient else "")
        self.notes.setAccessibleName("Notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(90)
        self.archived = QCheckBox("Archived (hidden from the lists)")
        self.archived.setChecked(bool(patient and patient.archived))
        self.archived.setVisible(patient is not None)
        self.error = theme.named(QLabel(""), "error")
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Error")
        self.error.hide()
        self.save_button = theme.named(QPushButton("Save"), "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.setVerticalSpacing(6)
        form.addRow("&Name", self.name)
        form.addRow("&Record no.", self.external_id)
        form.addRow("&Year of birth", self.birth_year)
        form.addRow("Se&x", self.sex)
        form.addRow("&Involved side", self.involved)
        form.addRow("Body &mass", self.body_mass)
        form.addRow("&Lever arm", self.lever_arm)
        form.addRow("No&tes", self.notes)
        form.addRow("", self.archived)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        self.setMinimumWidth(560)

    def values(self) -> dict[str, Any]:
        """The fields as the store takes them ("not given" is None)."""
        return {
            "name": self.name.text(),
            "external_id": self.external_id.text().strip() or None,
            "birth_year": self.birth_year.value() if self.birth_year.value() >= FIRST_BIRTH_YEAR else None,
            "sex": self.sex.currentData(),
            "involved_side": self.involved.currentData(),
            "body_mass_kg": self.body_mass.value() or None,
            "lever_arm_m": self.lever_arm.value() or None,
            "notes": self.notes.toPlainText().strip(),
        }

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def save(self) -> bool:
        values = self.values()
        if not values["name"].strip():
            self.show_error("A patient needs a name or a pseudonym.")
            self.name.setFocus()
            return False
        try:
            if self.patient is None:
                self.saved = self.store.add_patient(values.pop("name"), **values)
            else:
                self.saved = self.store.update_patient(self.patient.id, **values, archived=self.archived.isChecked())
        except (ValueError, StorageError) as exc:
            self.show_error(f"Not saved: {exc}")
            return False
        self.accept()
        return True


# ---------------------------------------------------------------- prescription editor


class PrescriptionDialog(QDialog):
    """The patient's prescription, and the history of its changes (a change adds a row, nothing is overwritten)."""

    def __init__(self, store: SessionStore, patient: Patient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.patient = patient
        self.saved: Prescription | None = None
        self.setWindowTitle(f"Prescription: {patient.name}")
        self.setAccessibleName(self.windowTitle())
        # The theme's arrow images, on the date field's drop-down too.
        self.setStyleSheet(EDITOR_STYLE + theme.arrow_style_sheet().replace("QComboBox::down-arrow", "QComboBox::down-arrow, QDateEdit::down-arrow"))
        heading = QLabel(self.windowTitle())
        heading.setFont(theme.font(20, bold=True))
        current = store.prescription(patient.id) or Prescription()
        self.reps = QSpinBox(minimum=1, maximum=30, value=current.reps_per_side)
        self.reps.setAccessibleName("Reps per side")
        self.hold = QDoubleSpinBox(minimum=1.0, maximum=60.0, decimals=1, singleStep=0.5, suffix=" s", value=current.hold_s)
        self.hold.setAccessibleName("Hold, seconds")
        self.rest = QDoubleSpinBox(minimum=0.0, maximum=120.0, decimals=0, singleStep=1.0, suffix=" s", value=current.rest_s)
        self.rest.setAccessibleName("Rest between reps, seconds")
        self.first = _combo((("left", "left"), ("right", "right")), current.first_side, "First side")
        self.target_kind = _combo(TARGET_CHOICES, current.target_kind, "Target band kind")
        self.target_low = QDoubleSpinBox(minimum=0.0, maximum=2000.0, decimals=0, singleStep=5.0)
        self.target_high = QDoubleSpinBox(minimum=0.0, maximum=2000.0, decimals=0, singleStep=5.0)
        self.target_low.setAccessibleName("Target band, low")
        self.target_high.setAccessibleName("Target band, high")
        self.target_low.setValue(current.target_low if current.target_low is not None else 70.0)
        self.target_high.setValue(current.target_high if current.target_high is not None else 90.0)
        self.target_kind.currentIndexChanged.connect(lambda _i: self._target_kind_changed())
        self.target_kind.setToolTip("A band drawn on the live plot: in % of the patient's best rep, or in newtons")
        self.per_day = QSpinBox(minimum=1, maximum=12, value=current.sessions_per_day)
        self.per_day.setAccessibleName("Sessions per day")
        self.start_date = QDateEdit()
        self.start_date.setCalendarPopup(True)
        self.start_date.setDisplayFormat("yyyy-MM-dd")
        start = current.start_date or date.today()
        self.start_date.setDate(QDate(start.year, start.month, start.day))
        self.start_date.setAccessibleName("Start date")
        self.error = theme.named(QLabel(""), "error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.history = QTableWidget(0, len(PRESCRIPTION_COLUMNS))
        self.history.setHorizontalHeaderLabels(PRESCRIPTION_COLUMNS)
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.history.setAccessibleName("Prescription history")
        self.history.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.save_button = theme.named(QPushButton("Save as new prescription"), "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        # Two fields a row: at 600 px the history below keeps room for a few rows.
        form = QGridLayout()
        form.setVerticalSpacing(6)
        form.setHorizontalSpacing(10)
        for row, col, text, field in (
            (0, 0, "&Reps per side", self.reps),
            (0, 2, "&Hold", self.hold),
            (1, 0, "R&est between reps", self.rest),
            (1, 2, "&First side", self.first),
            (3, 0, "Sessions &a day", self.per_day),
            (3, 2, "&Starts on", self.start_date),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addWidget(label, row, col)
            form.addWidget(field, row, col + 1)
        band = QHBoxLayout()
        band.addWidget(self.target_kind)
        band.addWidget(self.target_low, 1)
        band.addWidget(QLabel(" to "))
        band.addWidget(self.target_high, 1)
        band_label = QLabel("&Target band")
        band_label.setBuddy(self.target_kind)
        form.addWidget(band_label, 2, 0)
        form.addLayout(band, 2, 1, 1, 3)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        history_title = QLabel("Changes, newest first")
        history_title.setFont(theme.font(14, bold=True))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(history_title)
        lay.addWidget(self.history, 1)
        lay.addLayout(buttons)
        self.setMinimumWidth(640)
        self._target_kind_changed()
        self.refresh_history()

    def _target_kind_changed(self) -> None:
        kind = self.target_kind.currentData()
        for box in (self.target_low, self.target_high):
            box.setEnabled(kind is not None)
            box.setSuffix(" %" if kind == "percent_of_best" else " N")

    def prescription(self) -> Prescription:
        """What the form says; ValueError (from Prescription) when it does not hold together."""
        kind = self.target_kind.currentData()
        d = self.start_date.date()
        return Prescription(
            reps_per_side=self.reps.value(),
            hold_s=self.hold.value(),
            rest_s=self.rest.value(),
            first_side=str(self.first.currentData()),
            target_kind=kind,
            target_low=self.target_low.value() if kind else None,
            target_high=self.target_high.value() if kind else None,
            sessions_per_day=self.per_day.value(),
            start_date=date(d.year(), d.month(), d.day()),
        )

    def refresh_history(self) -> None:
        changes = list(reversed(self.store.prescription_history(self.patient.id)))
        self.history.setRowCount(len(changes))
        for row, p in enumerate(changes):
            when = p.created_at.astimezone().strftime("%d %b %Y %H:%M") if p.created_at else "\u2013"
            values = (
                when,
                str(p.reps_per_side),
                f"{p.hold_s:g} s",
                f"{p.rest_s:g} s",
                p.first_side,
                target_text(p),
                str(p.sessions_per_day),
                p.start_date.isoformat() if p.start_date else "\u2013",
            )
            for col, text in enumerate(values):
                self.history.setItem(row, col, QTableWidgetItem(text))
        self._fit_history()

    def showEvent(self, event: object) -> None:
        self._fit_history()  # again once polished: the style sheet's font makes the columns wider
        super().showEvent(event)  # type: ignore[arg-type]

    def _fit_history(self) -> None:
        """As wide as its columns (with the header's words), so none is cut and nothing scrolls sideways."""
        self.history.ensurePolished()
        header = self.history.horizontalHeader()
        need = sum(max(self.history.sizeHintForColumn(c), header.sectionSizeHint(c)) + 4 for c in range(self.history.columnCount()))
        self.history.setMinimumWidth(need + self.history.verticalScrollBar().sizeHint().width() + 2 * self.history.frameWidth())
    def save(self) -> bool:
        try:
            self.saved = self.store.set_prescription(self.patient.id, self.prescription())
        except (ValueError, StorageError) as exc:
            self.error.setText(f"Not saved: {exc}")
            self.error.show()
            return False
        self.accept()
        return True


# ---------------------------------------------------------------- the list


class PatientsScreen(QWidget):
    """The caseload. ``exercise_requested`` asks the window to open the exercise screen for the chosen patient."""

    exercise_requested = Signal()

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.rows: list[PatientOverviewRow] = []
        self.dialog: QDialog | None = None  # the open editor, for tests and screenshots
        title = QLabel("Patients")
        title.setFont(theme.font(28, bold=True))
        self.show_archived = QCheckBox("Show archived")
        self.show_archived.setAccessibleName("Show archived patients")
        self.show_archived.toggled.connect(lambda _on: self.refresh())
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find  (Ctrl+F)")
        self.search.setToolTip("Patients whose name or record number holds every word typed here; Enter with one found opens their exercise")
        self.search.setAccessibleName("Find a patient by name or record number")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self.search.setStyleSheet(EDITOR_STYLE)
        self.search.textChanged.connect(lambda _t: self.refresh())
        self.search.returnPressed.connect(self.exercise_if_one)
        self.table = QTableWidget(0, len(PATIENT_COLUMNS))
        self.table.setHorizontalHeaderLabels(PATIENT_COLUMNS)
        self.table.setAccessibleName("Patients")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for col in range(len(PATIENT_COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Name and flags share the room left (a long name is cut with "…", whole in its tooltip; flags wrap).
        header.setSectionResizeMode(PATIENT_COLUMNS.index("Name"), QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(PATIENT_COLUMNS.index("Flags"), QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        self.table.setMinimumHeight(150)  # a few rows stay in view when the panel below has much to say

        self.detail = theme.named(QLabel(""), "muted")
        self.detail.setWordWrap(True)
        self.advice_label = QLabel("")
        self.advice_label.setWordWrap(True)
        self.advice_label.setAccessibleName("Flags and progression advice")
        self.accept_button = QPushButton("Accept advice")
        self.accept_button.setAccessibleName("Accept the progression advice")
        self.accept_button.clicked.connect(lambda: self.decide("accepted"))
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setAccessibleName("Dismiss the progression advice")
        self.dismiss_button.clicked.connect(lambda: self.decide("dismissed"))
        self.status = theme.named(QLabel(""), "muted")
        self.status.setWordWrap(True)

        self.new_button = QPushButton("New patient\u2026")
        self.new_button.setToolTip("Ctrl+N")
        self.new_button.clicked.connect(self.new_patient)
        self.edit_button = QPushButton("Edit\u2026")
        self.edit_button.setToolTip("Ctrl+E, or double-click the row")
        self.edit_button.clicked.connect(self.edit_selected)
        self.archive_button = QPushButton("Archive")
        self.archive_button.clicked.connect(self.toggle_archived)
        self.prescription_button = QPushButton("Prescription\u2026")
        self.prescription_button.setToolTip("Ctrl+P")
        self.prescription_button.clicked.connect(self.edit_prescription)
        self.exercise_button = theme.named(QPushButton("Exercise with this patient \u2192"), "primary")
        self.exercise_button.setToolTip("Ctrl+Enter")
        self.exercise_button.clicked.connect(self.exercise_selected)
        for shortcut, slot in (("Ctrl+N", self.new_patient), ("Ctrl+E", self.edit_selected), ("Ctrl+P", self.edit_prescription), ("Ctrl+Return", self.exercise_selected), ("Ctrl+F", self.search.setFocus)):
            # Window-wide keys, heard only while this screen is the one shown.
            QShortcut(QKeySequence(shortcut), self).activated.connect(lambda s=slot: s() if self.isVisible() else None)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.search)
        top.addWidget(self.show_archived)
        advice_panel = theme.named(QFrame(), "panel")
        advice_row = QHBoxLayout(advice_panel)
        advice_row.addWidget(self.advice_label, 1)
        advice_row.addWidget(self.accept_button)
        advice_row.addWidget(self.dismiss_button)
        self.advice_panel = advice_panel
        buttons = QHBoxLayout()
        for b in (self.new_button, self.edit_button, self.archive_button, self.prescription_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.exercise_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.detail)
        lay.addWidget(advice_panel)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        controller.history_changed.connect(self.refresh)
        self.refresh()

    def showEvent(self, event: object) -> None:
        self.refresh()
        super().showEvent(event)  # type: ignore[arg-type]

    # ------------------------------------------------------------ data

    def refresh(self) -> None:
        store = self.controller.store
        if store is None:
            self.status.setText(f"No patient store: {self.controller.store_error or 'not opened'}")
            self._selection_changed()
            return
        keep = self.selected_patient()
        keep_id = keep.id if keep is not None else self.controller.patient_id
        try:
            patients = [p for p in store.patients(include_archived=self.show_archived.isChecked()) if self._matches(p)]
            self.rows = [PatientOverviewRow(store, p) for p in patients]
        except StorageError as exc:
            self.status.setText(str(exc))
            return
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for row, r in enumerate(self.rows):
            p = r.patient
            values = (
                p.name + (" (archived)" if p.archived else ""),
                p.external_id or "\u2013",
                p.involved_side or "none",
                r.last_session_text,
                r.flags_text,
                r.advice_text,
            )
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setToolTip(p.name)
                if col == PATIENT_COLUMNS.index("Flags") and r.flags:
                    alert = any(f.severity == "alert" for f in r.flags)
                    item.setForeground(theme_colour(theme.VERMILLION if alert else theme.ORANGE))
                    item.setToolTip("\n".join(r.flag_lines))
                if col == PATIENT_COLUMNS.index("Flags") and r.problem:
                    item.setToolTip(f"Flags not checked ({USER_FILENAME} in the data folder): {r.problem}")
                if p.archived:
                    item.setForeground(theme_colour(theme.MUTED))
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        index = next((i for i, r in enumerate(self.rows) if r.patient.id == keep_id), 0 if self.rows else -1)
        if index >= 0:
            self.table.selectRow(index)
        self._selection_changed()

    def _matches(self, patient: Patient) -> bool:
        """The search box's words all in the patient's name or record number (case ignored)."""
        words = self.search.text().casefold().split()
        where = f"{patient.name} {patient.external_id or ''}".casefold()
        return all(w in where for w in words)

    def exercise_if_one(self) -> None:
        """Enter in the search box: with exactly one patient found, go to their exercise."""
        if len(self.rows) == 1:
            self.table.selectRow(0)
            self.exercise_selected()

    def select_patient(self, patient_id: int) -> None:
        for i, r in enumerate(self.rows):
            if r.patient.id == patient_id:
                self.table.selectRow(i)
                return

    def selected_row(self) -> PatientOverviewRow | None:
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()]

    def selected_patient(self) -> Patient | None:
        r = self.selected_row()
        return r.patient if r is not None else None

    def _selection_changed(self) -> None:
        r = self.selected_row()
        has = r is not None
        for b in (self.edit_button, self.archive_button, self.prescription_button):
            b.setEnabled(has)
        self.exercise_button.setEnabled(has and not (r is not None and r.patient.archived))
        self.archive_button.setText("Restore" if r is not None and r.patient.archived else "Archive")
        store = self.controller.store
        if r is None or store is None:
            if self.rows:
                self.detail.setText("")
            elif self.search.text().strip():
                self.detail.setText(f"No patient matches \u201c{self.search.text().strip()}\u201d.")
            else:
                self.detail.setText("No patients yet: press New patient\u2026")
            self.advice_label.setText("")
            self.advice_panel.hide()
            return
        p = r.patient
        facts = [f"born {p.birth_year}" if p.birth_year else "", p.sex or "", f"{p.body_mass_kg:g} kg" if p.body_mass_kg else ""]
        facts.append(f"lever arm {p.lever_arm_m:g} m" if p.lever_arm_m else "")
        line = ", ".join(f for f in facts if f)
        self.detail.setText(f"{p.name}{': ' + line if line else ''}.  Prescription: {prescription_text(store.prescription(p.id))}")
        # The panel: the selected patient's flags in full, then pending advice.
        advice = r.advice
        lines = list(r.flag_lines)
        if r.problem:
            lines.append(f"Flags not checked: {r.problem}")
        if advice is not None:
            headline = advice.text.split(":", 1)[0] if advice.suggestions else advice.text  # the suggestions follow
            lines.append(f"Advice: {headline}: " + "; ".join(advice.suggestions) + ". The prescription stays as it is until you edit it.")
            self.advice_label.setToolTip(advice.text)
        self.advice_label.setText("\n".join(lines))
        self.advice_panel.setVisible(bool(lines))
        self.accept_button.setVisible(advice is not None)
        self.dismiss_button.setVisible(advice is not None)
        self.accept_button.setEnabled(advice is not None)
        self.dismiss_button.setEnabled(advice is not None)

    # ------------------------------------------------------------ actions

    def _open(self, dialog: QDialog, done: Callable[[], None]) -> QDialog:
        """Open without blocking the event loop (the belt keeps streaming); ``done`` runs when it is accepted."""
        self.dialog = dialog
        dialog.accepted.connect(done)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()
        fit_dialog(dialog)
        return dialog

    def new_patient(self) -> QDialog | None:
        store = self.controller.store
        if store is None:
            return None
        dialog = PatientDialog(store, None, self)

        def created() -> None:
            if dialog.saved is not None:
                self.status.setText(f"Added {dialog.saved.name}.")
                self.refresh()
                self.select_patient(dialog.saved.id)

        return self._open(dialog, created)

    def edit_selected(self) -> QDialog | None:
        store, p = self.controller.store, self.selected_patient()
        if store is None or p is None:
            return None
        dialog = PatientDialog(store, p, self)

        def edited() -> None:
            if dialog.saved is not None:
                self.status.setText(f"Saved {dialog.saved.name}.")
                if self.controller.patient_id == dialog.saved.id:
                    self.controller.select_patient(dialog.saved)
                self.refresh()

        return self._open(dialog, edited)

    def edit_prescription(self) -> QDialog | None:
        store, p = self.controller.store, self.selected_patient()
        if store is None or p is None:
            return None
        dialog = PrescriptionDialog(store, p, self)

        def saved() -> None:
            self.status.setText(f"New prescription for {p.name}: {prescription_text(dialog.saved)}.")
            self._selection_changed()
            self.controller.prescription_changed.emit()

        return self._open(dialog, saved)

    def toggle_archived(self) -> None:
        store, p = self.controller.store, self.selected_patient()
        if store is None or p is None:
            return
        try:
            store.update_patient(p.id, archived=not p.archived)
        except (ValueError, StorageError) as exc:
            self.status.setText(f"Could not change {p.name}: {exc}")
            return
        self.status.setText(f"{p.name} {'restored' if p.archived else 'archived (tick Show archived to see them)'}.")
        self.refresh()

    def decide(self, decision: str) -> None:
        store, r = self.controller.store, self.selected_row()
        if store is None or r is None or r.advice is None:
            return
        try:
            # Recomputed and recorded through the store: what is recorded is the advice pending now.
            decide_advice(store, r.patient, decision)
        except (ValueError, StorageError) as exc:
            self.status.setText(f"Could not record the decision: {exc}")
            return
        extra = " The prescription is unchanged: edit it with Prescription\u2026" if decision == "accepted" else ""
        self.status.setText(f"Advice {decision} for {r.patient.name}.{extra}")
        self.refresh()

    def exercise_selected(self) -> None:
        p = self.selected_patient()
        if p is None or p.archived:
            return
        self.controller.select_patient(p)
        self.exercise_requested.emit()


def theme_colour(colour: str) -> QBrush:
    return QBrush(QColor(colour))
