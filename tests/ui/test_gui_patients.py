"""The therapist's screens (issue 9): patient list and editor, prescription editor, pain prompt,
and a guided session run under a patient's prescription. Nothing here depends on wall time:
the session runs on the simulated belt's virtual clock, as the other GUI tests do."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from sensorapp.clinic.prescription import Prescription
from sensorapp.settings import Settings
from sensorapp.simulation.patient import PatientProfile
from sensorapp.storage.store import SessionStore
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow
from sensorapp.ui.pain_prompt import QUESTION, PainPrompt
from sensorapp.ui.patients_screen import PatientDialog, PrescriptionDialog

pytestmark = pytest.mark.gui


def open_window(tmp_path: Path, **controller_options: object) -> tuple[MainWindow, AppController, SessionStore]:
    """The main window on a fresh store in ``tmp_path``, its controller, and that store."""
    controller = AppController(None, **controller_options)  # type: ignore[arg-type]
    controller.open_store(str(tmp_path / "data"))
    store = controller.store
    assert store is not None
    window = MainWindow(controller)
    window.resize(1280, 820)
    window.show()
    return window, controller, store


def test_patient_is_created_edited_and_archived_through_the_dialog(qapp: QApplication, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, controller, store = open_window(tmp_path)
    window.show_patients()
    screen = window.patients_screen
    assert screen.isVisible() and screen.table.rowCount() == 0

    dialog = screen.new_patient()
    assert isinstance(dialog, PatientDialog) and dialog.isVisible()
    # No name: refused inline, the dialog stays open with what was typed.
    qtbot.keyClicks(dialog.external_id, "  MRN-0042 ")
    qtbot.keyClicks(dialog.notes, "left hip, after surgery")
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.error.isVisible() and "name" in dialog.error.text()
    assert store.patients() == []
    qtbot.keyClicks(dialog.name, "Ada Moreau")
    dialog.birth_year.setValue(1961)
    dialog.sex.setCurrentIndex(dialog.sex.findData("female"))
    dialog.involved.setCurrentIndex(dialog.involved.findData("left"))
    dialog.body_mass.setValue(64.5)
    dialog.lever_arm.setValue(0.82)
    dialog.save_button.click()
    assert not dialog.isVisible()
    (ada,) = store.patients()
    assert (ada.name, ada.external_id, ada.birth_year, ada.sex, ada.involved_side) == ("Ada Moreau", "MRN-0042", 1961, "female", "left")
    assert (ada.body_mass_kg, ada.lever_arm_m, ada.notes, ada.archived) == (64.5, 0.82, "left hip, after surgery", False)
    assert screen.table.rowCount() == 1
    assert [screen.table.item(0, c).text() for c in range(3)] == ["Ada Moreau", "MRN-0042", "left"]
    assert screen.table.item(0, 3).text() == "none yet"

    # A second patient may not take the same record number: the store's refusal is shown inline, nothing lost.
    second = screen.new_patient()
    assert isinstance(second, PatientDialog)
    qtbot.keyClicks(second.name, "Ben Okafor")
    qtbot.keyClicks(second.external_id, "MRN-0042")
    second.save_button.click()
    assert second.isVisible() and second.error.isVisible() and "MRN-0042" in second.error.text()
    assert second.name.text() == "Ben Okafor" and len(store.patients()) == 1
    second.external_id.setText("MRN-0043")
    second.save_button.click()
    assert not second.isVisible() and len(store.patients()) == 2

    # Edit Ada: involved side to none, a year of birth cleared back to "not given".
    screen.select_patient(ada.id)
    edit = screen.edit_selected()
    assert isinstance(edit, PatientDialog) and edit.name.text() == "Ada Moreau" and edit.birth_year.value() == 1961
    edit.involved.setCurrentIndex(edit.involved.findData(None))
    edit.birth_year.setValue(edit.birth_year.minimum())
    assert edit.birth_year.text() == "not given"
    edit.save_button.click()
    ada = store.patient(ada.id)
    assert ada.involved_side is None and ada.birth_year is None and ada.external_id == "MRN-0042"

    # Archive her: gone from the list and from the session's patient box; "Show archived" brings her back.
    screen.select_patient(ada.id)
    screen.archive_button.click()
    assert store.patient(ada.id).archived
    names = [screen.table.item(r, 0).text() for r in range(screen.table.rowCount())]
    assert names == ["Ben Okafor"]
    window.session_screen.refresh_patients()
    box = window.session_screen.form.patient
    assert [box.itemText(i) for i in range(box.count())] == ["Ben Okafor  (MRN-0043)"]
    window.history_screen.refresh()  # History still reaches an archived patient's sessions
    history_box = window.history_screen.patient
    assert "Ada Moreau (archived)" in [history_box.itemText(i) for i in range(history_box.count())]
    screen.show_archived.setChecked(True)
    names = [screen.table.item(r, 0).text() for r in range(screen.table.rowCount())]
    assert names == ["Ada Moreau (archived)", "Ben Okafor"]
    screen.select_patient(ada.id)
    assert screen.archive_button.text() == "Restore" and not screen.exercise_button.isEnabled()
    screen.archive_button.click()
    assert not store.patient(ada.id).archived
    controller.close_store()


def test_prescription_editor_saves_a_new_row_each_time_and_refuses_a_bad_band(qapp: QApplication, tmp_path: Path) -> None:
    window, controller, store = open_window(tmp_path)
    patient = store.add_patient("Chloe Dubois", involved_side="right")
    window.show_patients()
    screen = window.patients_screen
    screen.select_patient(patient.id)
    dialog = screen.edit_prescription()
    assert isinstance(dialog, PrescriptionDialog) and dialog.history.rowCount() == 0
    dialog.reps.setValue(5)
    dialog.hold.setValue(8.0)
    dialog.rest.setValue(12.0)
    dialog.first.setCurrentIndex(dialog.first.findData("right"))
    dialog.target_kind.setCurrentIndex(dialog.target_kind.findData("percent_of_best"))
    dialog.target_low.setValue(95.0)
    dialog.target_high.setValue(80.0)  # low above high: refused inline
    dialog.per_day.setValue(2)
    dialog.save_button.click()
    assert dialog.isVisible() and dialog.error.isVisible() and "target band" in dialog.error.text()
    assert store.prescription(patient.id) is None
    dialog.target_high.setValue(110.0)
    dialog.save_button.click()
    assert not dialog.isVisible()
    first = store.prescription(patient.id)
    assert first is not None
    assert (first.reps_per_side, first.hold_s, first.rest_s, first.first_side, first.sessions_per_day) == (5, 8.0, 12.0, "right", 2)
    assert (first.target_kind, first.target_low, first.target_high, first.start_date) == ("percent_of_best", 95.0, 110.0, date.today())
    assert "5 reps/side" in screen.detail.text()

    again = screen.edit_prescription()
    assert isinstance(again, PrescriptionDialog)
    assert again.reps.value() == 5 and again.history.rowCount() == 1  # opens on the current one
    again.reps.setValue(3)
    again.target_kind.setCurrentIndex(again.target_kind.findData("absolute_n"))
    again.target_low.setValue(40.0)
    again.target_high.setValue(60.0)
    assert again.target_low.suffix() == " N"
    again.save_button.click()
    history = store.prescription_history(patient.id)
    assert [p.reps_per_side for p in history] == [5, 3]
    assert store.prescription(patient.id) == history[-1]
    third = screen.edit_prescription()
    assert isinstance(third, PrescriptionDialog) and third.history.rowCount() == 2
    assert third.history.item(0, 1).text() == "3" and third.history.item(0, 5).text() == "40\u201360 N"  # newest first
    assert third.history.item(1, 5).text() == "95\u2013110 % of best"
    third.reject()
    controller.close_store()


def test_pain_prompt_takes_keys_0_to_9_the_10_button_and_skip(qapp: QApplication, qtbot) -> None:  # type: ignore[no-untyped-def]
    answers: list[int | None] = []
    for key, expected in ((Qt.Key.Key_0, 0), (Qt.Key.Key_7, 7), (Qt.Key.Key_9, 9)):
        prompt = PainPrompt("before", answers.append)
        prompt.open()
        assert QUESTION in prompt.question.text() and "10 = worst imaginable" in prompt.scale_words.text()
        assert len(prompt.buttons) == 11
        qtbot.keyClick(prompt, key)
        assert prompt.answer == expected and not prompt.isVisible()
        qtbot.keyClick(prompt, Qt.Key.Key_1)  # a second key after the answer is not a second answer
    ten = PainPrompt("after", answers.append)
    ten.open()
    ten.buttons[10].click()
    skipped = PainPrompt("after", answers.append)
    skipped.open()
    qtbot.keyClick(skipped, Qt.Key.Key_Escape)
    closed = PainPrompt("after", answers.append)
    closed.open()
    closed.skip_button.click()
    assert answers == [0, 7, 9, 10, None, None]
    from sensorapp.ui.history_screen import pain_text

    assert [pain_text(3, 5), pain_text(None, 4), pain_text(2, None), pain_text(None, None)] == ["3 \u2192 5", "\u2013 \u2192 4", "2 \u2192 \u2013", "\u2013"]
    with pytest.raises(ValueError, match="before"):
        PainPrompt("during", answers.append)


def test_a_setting_changed_after_picking_the_patient_is_what_the_session_uses(qapp: QApplication, tmp_path: Path) -> None:
    window, controller, store = open_window(tmp_path)
    eva = store.add_patient("Eva Novak", external_id="N-1")
    store.set_prescription(eva.id, Prescription(reps_per_side=4, hold_s=6.0, rest_s=8.0))
    window.show_session()
    ss = window.session_screen
    box = ss.form.patient
    index = box.findData(eva.id)
    assert box.itemText(index) == "Eva Novak  (N-1)"
    box.setCurrentIndex(index)
    box.activated.emit(index)  # what a pick with the mouse or keyboard sends
    assert controller.patient_id == eva.id and ss.form.reps.value() == 4
    ss.form.reps.setValue(2)  # the therapist shortens today's session by hand
    ss._take_patient()  # what Start does first
    assert controller.patient_id == eva.id and ss.form.reps.value() == 2
    assert ss.form.protocol().reps_per_side == 2
    # A typed new name is a new patient at the start, as before the patient list existed.
    box.setEditText("Walk-in")
    ss._take_patient()
    assert controller.patient_name == "Walk-in" and controller.patient_id is None
    controller.close_store()


def test_the_search_box_finds_by_name_or_record_number_and_enter_opens_the_exercise(qapp: QApplication, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, controller, store = open_window(tmp_path)
    for name, record in (("Hana Ito", "H-100"), ("Hans Berg", "H-200"), ("Ivo Petrov", "X-300")):
        store.add_patient(name, external_id=record)
    window.show_patients()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # so the window's own shortcuts are live too
    screen = window.patients_screen
    assert screen.table.rowCount() == 3
    screen.search.setFocus()
    qtbot.keyClicks(screen.search, "han")
    assert [r.patient.name for r in screen.rows] == ["Hana Ito", "Hans Berg"]
    qtbot.keyClicks(screen.search, "a ito")  # a space is typed into the box (the window's space key is the Exercise screen's)
    assert screen.search.text() == "hana ito" and [r.patient.name for r in screen.rows] == ["Hana Ito"]
    screen.search.setText("x-3")
    assert [r.patient.name for r in screen.rows] == ["Ivo Petrov"]
    qtbot.keyClick(screen.search, Qt.Key.Key_Return)  # one found: straight to the exercise, for him
    assert window.stack.currentWidget() is window.session_screen and controller.patient_name == "Ivo Petrov"
    window.show_patients()
    screen.search.setText("nobody")
    assert screen.table.rowCount() == 0 and "No patient matches" in screen.detail.text()
    controller.close_store()


def test_a_bad_thresholds_file_leaves_the_flags_unchecked_and_the_list_working(qapp: QApplication, tmp_path: Path) -> None:
    from sensorapp.clinic.thresholds import USER_FILENAME

    window, controller, store = open_window(tmp_path)
    gil = store.add_patient("Gil Ramos", external_id="R-9")
    (Path(store.data_dir) / USER_FILENAME).write_text("{ not json", encoding="utf-8")
    window.show_patients()
    screen = window.patients_screen
    assert [screen.table.item(0, c).text() for c in (0, 1, 4)] == ["Gil Ramos", "R-9", "not checked"]
    assert USER_FILENAME in screen.table.item(0, 4).toolTip()
    screen.select_patient(gil.id)
    assert "Flags not checked" in screen.advice_label.text() and screen.edit_button.isEnabled()
    controller.close_store()


def test_keyboard_opens_the_patients_screen_and_its_editors_only_there(qapp: QApplication, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window, controller, store = open_window(tmp_path)
    store.add_patient("Fay Olsen")
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # shortcuts go to the active window
    window.show_history()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.patients_screen.dialog is None  # Ctrl+N belongs to the Patients screen
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.patients_screen
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.patients_screen.dialog
    assert isinstance(dialog, PatientDialog) and dialog.patient is None and dialog.isVisible()
    dialog.reject()
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.patients_screen.dialog, PrescriptionDialog)
    window.patients_screen.dialog.reject()
    controller.close_store()


def test_the_picked_patient_is_remembered_between_runs(qapp: QApplication, tmp_path: Path) -> None:
    settings = Settings(path=tmp_path / "settings.json")
    controller = AppController(settings)
    controller.open_store(str(tmp_path / "data"))
    assert controller.store is not None
    twin_a = controller.store.add_patient("Sam Lee", external_id="A-1")
    twin_b = controller.store.add_patient("Sam Lee", external_id="B-2")  # two patients of one name: the id tells them apart
    controller.select_patient(twin_b)
    controller.close_store()
    again = AppController(Settings.load(tmp_path / "settings.json"))
    again.open_store(str(tmp_path / "data"))
    assert again.patient_id == twin_b.id != twin_a.id
    current = again.current_patient()
    assert current is not None and current.external_id == "B-2"
    again.close_store()


SPEED = 40.0
VIRTUAL_STEP_S = 0.02


def test_a_session_for_a_patient_with_3_reps_per_side_runs_3_plus_3_stores_the_snapshot_and_the_pain(
    qasync_loop: asyncio.AbstractEventLoop, qtbot, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    # The virtual patient does what this prescription asks (3 reps a side, right side first).
    profile = PatientProfile(seed=5, reps_per_side=3, first_side="right", start_rest_s=3.0, turnover_s=12.0)
    window, controller, store = open_window(
        tmp_path, simulation_speed=SPEED, simulation_seed=5, simulation_extra={"max_step_s": VIRTUAL_STEP_S, "patient": profile}
    )
    controller.pain_prompts = True
    store.add_patient("Someone Else")
    dana = store.add_patient("Dana Smit", external_id="MRN-7", involved_side="right")
    stored = store.set_prescription(dana.id, Prescription(reps_per_side=3, hold_s=6.0, rest_s=8.0, first_side="right", sessions_per_day=2))

    # Pick her on the patient list and go to the exercise: the form takes her prescription.
    window.show_patients()
    window.patients_screen.select_patient(dana.id)
    window.patients_screen.exercise_button.click()
    ss = window.session_screen
    assert window.stack.currentWidget() is ss
    assert (ss.form.reps.value(), ss.form.hold.value(), ss.form.rest.value(), ss.form.first.currentText()) == (3, 6.0, 8.0, "right")
    assert ss.form.title() == "From the prescription (2 a day)" and "3 reps/side" in ss.form.toolTip()

    async def run() -> None:
        await controller.connect_to(controller.simulated_descriptor())
        ss.toggle()  # what the space bar does: first the pain question
        prompt = ss.pain_prompt
        assert prompt is not None and prompt.isVisible() and controller.session is None
        ss.toggle()  # space while the question is up does not start anything
        assert controller.session is None
        qtbot.keyClick(prompt, Qt.Key.Key_3)
        assert controller.session is not None and controller.session.protocol.reps_per_side == 3
        async with asyncio.timeout(90):
            while not controller.session.finished:
                await asyncio.sleep(0.02)
                ss.refresh()
        await asyncio.sleep(0.1)

    qasync_loop.run_until_complete(run())
    session = controller.session
    assert session is not None and session.finished
    assert len(session.reps["right"]) == 3 and len(session.reps["left"]) == 3
    assert [r.side for r in sorted(session.all_reps(), key=lambda r: r.onset_s)] == ["right"] * 3 + ["left"] * 3

    # The pain question after the session, answered with the keyboard.
    after = window.pain_prompt
    assert after is not None and after.isVisible() and after.when == "after"
    qtbot.keyClick(after, Qt.Key.Key_5)
    (record,) = store.sessions(dana.id)
    assert record.state == "complete" and record.rep_count == 6
    assert record.pain_before == 3 and record.pain_after == 5
    assert record.prescription is not None
    assert record.prescription["uuid"] == stored.uuid and record.prescription["reps_per_side"] == 3
    assert record.protocol["reps_per_side"] == 3 and record.protocol["first_side"] == "right"
    assert store.sessions(store.find_patients("Someone Else")[0].id) == []

    # History shows the pain; the patient list shows the last session.
    window.show_history()
    history = window.history_screen
    history.patient.setCurrentIndex(history.patient.findData(dana.id))
    pain_col = history.table.columnCount() - 1
    assert history.table.rowCount() == 1 and history.table.item(0, pain_col).text() == "3 \u2192 5"
    assert "Today so far: 1 of 2." in history.adherence_label.text()  # judged against her 2 a day, not 2-3
    window.show_patients()
    row = next(i for i, r in enumerate(window.patients_screen.rows) if r.patient.id == dana.id)
    assert window.patients_screen.table.item(row, 3).text().endswith("6 reps")
    qasync_loop.run_until_complete(window.shutdown())


def _record_session(store, patient_id: int, started_at, *, seed: int, asymmetry_pct: float, pain: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """A two-sided session of the virtual patient (7 reps a side, left first) through the real recorder."""
    import numpy as np

    from sensorapp.simulation.patient import VirtualPatient

    vp = VirtualPatient(PatientProfile(seed=seed, asymmetry_pct=asymmetry_pct, turnover_s=8.0))
    rate = 50.0
    t = np.arange(int(vp.duration_s * rate)) / rate
    force = vp.force_at(t)
    turn = int(np.searchsorted(t, vp.truth[vp.profile.reps_per_side].onset_s - 4.0))
    rec = store.begin_session(patient_id=patient_id, side="left", started_at=started_at)
    rec.add_samples(t[:turn], force[:turn])
    rec.set_side("right")
    rec.add_samples(t[turn:], force[turn:])
    record = rec.finish()
    store.set_pain(record.id, before=pain[0], after=pain[1])


def test_flags_show_in_the_list_and_pending_advice_is_accepted_or_dismissed_without_touching_the_prescription(
    qapp: QApplication, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    window, controller, store = open_window(tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    ready = store.add_patient("Cleo Martin", involved_side="left")
    prescribed = store.set_prescription(ready.id, Prescription(sessions_per_day=1))
    for day in range(8):  # eight symmetric, painless sessions, one a day up to today: the progression rule fires
        _record_session(store, ready.id, now - timedelta(days=7 - day, hours=1), seed=10 + day, asymmetry_pct=2.0, pain=(1, 1))
    weak = store.add_patient("Ben Okafor", involved_side="left")
    _record_session(store, weak.id, now - timedelta(hours=2), seed=3, asymmetry_pct=25.0, pain=(1, 4))

    window.show_patients()
    screen = window.patients_screen
    rows = {r.patient.id: i for i, r in enumerate(screen.rows)}
    flags = screen.table.item(rows[weak.id], 4).text()
    assert flags.startswith("\u2716 asymmetry")  # a symbol and words, not colour alone
    screen.select_patient(weak.id)
    assert "LSI" in screen.advice_label.text() and not screen.accept_button.isVisible()  # the flag in full, no advice
    window.show_history()  # History names the same flags for the patient shown
    window.history_screen.patient.setCurrentIndex(window.history_screen.patient.findData(weak.id))
    assert "Flags: \u2716 asymmetry" in window.history_screen.adherence_label.text()
    window.show_patients()
    assert screen.table.item(rows[weak.id], 5).text() == "\u2013"
    assert screen.table.item(rows[ready.id], 5).text() == "pending"

    screen.select_patient(ready.id)
    assert screen.advice_panel.isVisible() and screen.accept_button.isEnabled()
    assert "The prescription stays as it is" in screen.advice_label.text() and "side plank" in screen.advice_label.text()
    screen.accept_button.click()
    (decision,) = store.advice_decisions(ready.id)
    assert decision.decision == "accepted"
    assert store.prescription(ready.id) == prescribed and len(store.prescription_history(ready.id)) == 1
    assert screen.table.item(screen.rows.index(screen.selected_row()), 5).text() == "\u2013"  # type: ignore[arg-type]
    assert not screen.advice_panel.isVisible() and "unchanged" in screen.status.text()

    # A session started after the decision brings the advice back; this time it is dismissed.
    after_decision = max(decision.decided_at, now) + timedelta(minutes=1)
    _record_session(store, ready.id, after_decision, seed=30, asymmetry_pct=2.0, pain=(0, 1))
    screen.refresh()
    screen.select_patient(ready.id)
    assert screen.dismiss_button.isEnabled()
    screen.dismiss_button.click()
    assert [d.decision for d in store.advice_decisions(ready.id)] == ["accepted", "dismissed"]
    assert store.prescription(ready.id) == prescribed
    controller.close_store()
