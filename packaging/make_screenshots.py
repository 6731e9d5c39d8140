"""Regenerate docs/screenshots/: the real window, offscreen, driven by the simulated belt.

    .venv/bin/python packaging/make_screenshots.py                 # everything
    .venv/bin/python packaging/make_screenshots.py --report        # only the PDF report pages (report-*.png)
    .venv/bin/python packaging/make_screenshots.py --calibration   # only the calibration wizard (calibration-wizard-*.png)
    .venv/bin/python packaging/make_screenshots.py --patients      # only the therapist's screens (patients*, prescription, pain)
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC

import qasync
from PySide6.QtWidgets import QApplication

from sensorapp.devices.base import DeviceDescriptor
from sensorapp.session.guided import Phase
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.world import LinkDrop
from sensorapp.ui import theme
from sensorapp.ui.controller import AppController
from sensorapp.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SPEED = 4.0  # slow enough that the three sizes of one moment look alike
# Each screen at the app's preferred size (the README's pictures), and at the
# smallest screen it is laid out for and a full-HD one.
SIZES = {"": (1280, 820), "-1024x600": (1024, 600), "-1920x1080": (1920, 1080)}


def seed_history(days: int = 14, data_dir: Path | None = None) -> None:
    """Two weeks of a patient getting stronger, 1-3 sessions a day, recorded
    through the real store and recorder (the analysis runs as for a live session).
    ``days=0``: one session, today."""
    from datetime import datetime, timedelta

    import numpy as np

    from sensorapp.session.guided import ExerciseProtocol
    from sensorapp.storage import SessionStore

    rng = np.random.default_rng(7)
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=days)
    with SessionStore.open(data_dir) as store:
        patient = store.add_patient("Patient", involved_side="left")
        for day in range(max(1, days)):
            for k in range(int(rng.choice([1, 2, 2, 3, 3])) if days else 1):
                progress = day / days if days else 0.5
                profile = PatientProfile(
                    seed=100 + 10 * day + k,
                    strong_plateau_n=80 + 25 * progress,
                    asymmetry_pct=max(3.0, 22 - 16 * progress + rng.normal(0, 2)),
                    start_rest_s=3.0,
                    turnover_s=10.0,
                )
                patient_model = VirtualPatient(profile)
                t = np.arange(0, patient_model.duration_s, 0.01)
                f = patient_model.force_at(t)
                rec = store.begin_session(
                    patient_id=patient.id,
                    protocol=ExerciseProtocol().as_dict(),
                    device={"kind": "simulated", "name": "GMBelt-E240 (simulated)"},
                    started_at=start + timedelta(days=day, hours=5 * k),
                )
                switch = np.searchsorted(t, patient_model.truth[7].onset_s - 2.0)
                rec.set_side("left")
                rec.add_samples(t[:switch], f[:switch])
                rec.set_side("right")
                rec.add_samples(t[switch:], f[switch:])
                rec.finish(complete=True)


def report_pages(out: Path = OUT) -> list[Path]:
    """docs/screenshots/report-*.png: a patient's progress report (A4) and one session's (Letter), as PDF pages.

    Six weeks of a patient recorded through the real store (the virtual patient at
    100 Hz): the involved left side catches up over four weeks, then levels off with
    little pain, so the progression advice is pending. The PDFs are drawn by
    sensorapp.ui.report_pdf and turned into PNGs by poppler's pdftoppm at 60 dpi.
    Also: ``python packaging/make_screenshots.py --report`` makes only these.
    """
    import shutil
    import subprocess
    import tempfile
    from datetime import datetime, timedelta

    import numpy as np

    from sensorapp.clinic.prescription import Prescription
    from sensorapp.reporting import build_patient_report, build_session_report
    from sensorapp.storage import SessionStore
    from sensorapp.ui.report_pdf import render_report_pdf

    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt install poppler-utils")
    rng = np.random.default_rng(11)
    work = Path(tempfile.mkdtemp(prefix="sensorapp-report-screens-"))
    start = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    days = 42
    with SessionStore.open(work / "store") as store:
        patient = store.add_patient(
            "Anna Example", external_id="MRN-004217", birth_year=1961, sex="female", involved_side="left", body_mass_kg=62.0, lever_arm_m=0.82
        )
        prescription = store.set_prescription(patient.id, Prescription(sessions_per_day=3, start_date=start.date()))
        last = None
        for day in range(days):
            for k in range(int(rng.choice([2, 3, 3, 3]))):
                progress = min(1.0, day / 28)
                profile = PatientProfile(
                    seed=300 + 10 * day + k,
                    strong_plateau_n=95.0 + rng.normal(0, 1.5),
                    asymmetry_pct=max(1.0, 24 - 21 * progress + rng.normal(0, 1.0)),
                    start_rest_s=3.0,
                    turnover_s=10.0,
                )
                model = VirtualPatient(profile)
                t = np.arange(0, model.duration_s, 0.01)
                f = model.force_at(t)
                rec = store.begin_session(
                    patient_id=patient.id,
                    device={"kind": "belt", "name": "GMBelt-1E40", "serial": "GMB-000123", "firmware": "1.4.2", "rate_hz": 100.0},
                    calibration={"zero_counts": 8123.0, "newtons_per_count": 0.0049, "source": "factory", "created_at": "2026-01-15", "linearity_error_n": 0.21},
                    started_at=start + timedelta(days=day, hours=5 * k + float(rng.uniform(0, 1))),
                    prescription=prescription,
                    commit_span_s=1e6,  # seeded in one go: no crash to survive
                )
                switch = np.searchsorted(t, model.truth[7].onset_s - 2.0)
                rec.set_side("left")
                rec.add_samples(t[:switch], f[:switch])
                rec.set_side("right")
                rec.add_samples(t[switch:], f[switch:])
                last = rec.finish(complete=True)
                pain = max(0, round(4 - 3.5 * progress + rng.normal(0, 0.6)))
                store.set_pain(last.id, before=pain, after=min(10, pain + int(rng.integers(0, 2))))
        assert last is not None
        now = last.started_at + timedelta(hours=3)
        progress_pdf = work / "progress.pdf"
        session_pdf = work / "session.pdf"
        render_report_pdf(build_patient_report(store, patient, now=now), progress_pdf, paper="a4")
        render_report_pdf(build_session_report(store, last.id, now=now), session_pdf, paper="letter")
    for old in out.glob("report-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(progress_pdf), str(out / "report-progress-a4")], check=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(session_pdf), str(out / "report-session-letter")], check=True)
    written = sorted(out.glob("report-*.png"))
    for path in written:
        print(f"wrote {path.relative_to(OUT.parent.parent)}")
    return written


async def wait_for(controller: AppController, window: MainWindow, phase: Phase, min_hold_s: float = 0.0, timeout_s: float = 120) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            await asyncio.sleep(0.01)
            s = controller.session
            if s is not None and s.phase == phase and s.view().hold_s >= min_hold_s:
                window.session_screen.refresh()
                await asyncio.sleep(0.05)
                return


async def grab(window: MainWindow, name: str) -> None:
    for suffix, (width, height) in SIZES.items():
        window.resize(width, height)
        # Let the layout and the plots settle at this size. Through the loop, not
        # processEvents(): that would re-enter asyncio tasks from inside this one.
        await asyncio.sleep(0.04)
        window.session_screen.refresh()
        path = OUT / f"{name}{suffix}.png"
        if not window.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path.relative_to(OUT.parent.parent)}")
    window.resize(*SIZES[""])


async def main() -> None:
    seed_history()
    # The virtual patient does not wait for the app: give the screenshots of the
    # connect screens time before the first press.
    profile = PatientProfile(seed=1, start_rest_s=12.0)
    truth = VirtualPatient(profile).truth
    # A drop in a rest shows the reconnect banner; the virtual patient does not
    # repeat a rep it did while the link was down, so a mid-rep drop would
    # leave the session one rep short.
    drop = LinkDrop(truth[2].release_end_s + 0.5, 4.0)
    controller = AppController(None, simulation_speed=SPEED, simulation_seed=1, simulation_extra={"link_drops": (drop,), "patient": profile})
    controller.open_store()
    window = MainWindow(controller)
    window.setMinimumSize(0, 0)
    window.resize(*SIZES[""])
    window.show()

    # Connect screen: a scan result list (as it looks with a belt and a Progressor in range), then connected.
    window.connect_screen.populate(
        [
            DeviceDescriptor("belt", "C4:7F:51:0A:1E:40", "GMBelt-1E40", -58),
            DeviceDescriptor("progressor", "E8:3B:12:77:90:02", "Progressor_7702", -71),
        ]
    )
    await grab(window, "connect-scan")
    from sensorapp.ui.connect_screen import BLUETOOTH_MISSING

    cs = window.connect_screen
    cs.bt_state.setText(BLUETOOTH_MISSING)
    cs.bt_detail.setText("Details: Bluetooth is not available (no BlueZ system service: No such file or directory)")
    cs.bt_state.show()
    cs.bt_detail.show()
    cs.populate([])
    await grab(window, "connect-no-bluetooth")
    cs.bt_state.hide()
    cs.bt_detail.hide()
    await controller.connect_to(controller.simulated_descriptor())
    await asyncio.sleep(0.4)
    window.connect_screen.refresh()
    await grab(window, "connect-connected")

    window.show_session()
    await asyncio.sleep(0.3)
    await grab(window, "session-settings")
    window.session_screen.toggle()
    await wait_for(controller, window, Phase.POSITION)
    await grab(window, "session-position")
    await wait_for(controller, window, Phase.HOLDING, min_hold_s=3.0)
    await grab(window, "session-hold")
    await wait_for(controller, window, Phase.RELEASE)
    await grab(window, "session-release")
    await wait_for(controller, window, Phase.REST)
    await asyncio.sleep(0.3)
    await grab(window, "session-rest")
    async with asyncio.timeout(120):
        while controller.session is None or not controller.session.reconnecting:
            await asyncio.sleep(0.005)
    window.session_screen.refresh()
    await grab(window, "session-reconnecting")
    await wait_for(controller, window, Phase.TURN_OVER)
    await asyncio.sleep(0.3)
    await grab(window, "session-turn-over")
    async with asyncio.timeout(120):
        while controller.session is not None and controller.session.view().turn_over_remaining_s > 0:
            await asyncio.sleep(0.01)
    window.session_screen.refresh()
    await grab(window, "session-turn-over-still")
    async with asyncio.timeout(240):
        while window.stack.currentWidget() is not window.summary_screen:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await grab(window, "summary")
    window.show_history()
    await asyncio.sleep(0.2)
    window.history_screen.select_row(0)
    await asyncio.sleep(0.2)
    await grab(window, "history")
    # History of a new patient: one session, today.
    import tempfile

    from sensorapp.storage import SessionStore

    one_dir = Path(tempfile.mkdtemp(prefix="sensorapp-screens-one-"))
    seed_history(days=0, data_dir=one_dir)
    main_store = controller.store
    controller.store = SessionStore.open(one_dir)
    window.history_screen.refresh()
    await asyncio.sleep(0.2)
    window.history_screen.select_row(0)
    await grab(window, "history-one-session")
    controller.store.close()
    controller.store = main_store
    await window.shutdown()
    report_pages()


CALIBRATION_DIALOG_SIZE = (820, 600)  # fits the smallest screen the app is laid out for (1024x600)


async def calibration_wizard_screens() -> None:
    """docs/screenshots/calibration-wizard-*.png: the wizard dialog on the simulated belt's virtual bench."""
    from sensorapp.ui.calibration_dialog import CalibrationDialog

    controller = AppController(None, simulation_speed=SPEED, simulation_seed=1, simulation_extra={"max_step_s": 0.05})
    window = MainWindow(controller)
    window.resize(*SIZES[""])
    window.show()
    await controller.connect_to(controller.simulated_descriptor())
    window.connect_screen.refresh()
    dialog = window.connect_screen.open_calibration()
    assert isinstance(dialog, CalibrationDialog)
    dialog.resize(*CALIBRATION_DIALOG_SIZE)

    async def shot(name: str) -> None:
        dialog.refresh_live()
        await asyncio.sleep(0.05)
        path = OUT / f"calibration-wizard-{name}.png"
        if not dialog.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path.relative_to(OUT.parent.parent)}")

    async def until(condition: object) -> None:
        async with asyncio.timeout(120):
            while not condition():  # type: ignore[operator]
                await asyncio.sleep(0.02)

    await shot("masses")
    dialog.start_button.click()
    assert dialog.runner is not None
    wizard = dialog.runner.wizard
    await until(wizard.ready)
    dialog.capture_button.click()
    await until(lambda: wizard.window().full)
    dialog.capture_button.click()  # still bouncing: refused, with the message
    await shot("moving")
    for _ in range(2):
        await until(wizard.ready)
        dialog.capture_button.click()
    await until(wizard.ready)
    await shot("still")
    dialog.capture_button.click()
    dialog.save_button.click()
    await until(lambda: dialog.saved is not None or "Not saved" in dialog.save_message.text())
    await shot("result")
    dialog.close()
    await controller.disconnect()
    # A Progressor calibrates itself: the wizard only zeroes it.
    controller.simulation_extra = {"max_step_s": 0.05, "device": "progressor"}
    await controller.connect_to(controller.simulated_descriptor())
    dialog = window.connect_screen.open_calibration()
    assert isinstance(dialog, CalibrationDialog)
    dialog.resize(*CALIBRATION_DIALOG_SIZE)
    dialog.tare_button.click()
    await until(lambda: dialog.tare_button.isEnabled())
    await shot("tare-only")
    dialog.close()
    await window.shutdown()


def record_caseload_session(store: object, patient_id: int, started_at: object, *, seed: int, asymmetry_pct: float, pain: tuple[int, int]) -> None:
    """One two-sided session of the virtual patient through the real recorder, with its pain ratings."""
    import numpy as np

    from sensorapp.storage import SessionStore

    assert isinstance(store, SessionStore)
    vp = VirtualPatient(PatientProfile(seed=seed, asymmetry_pct=asymmetry_pct, turnover_s=8.0))
    t = np.arange(0, vp.duration_s, 0.02)
    f = vp.force_at(t)
    turn = int(np.searchsorted(t, vp.truth[vp.profile.reps_per_side].onset_s - 4.0))
    rec = store.begin_session(patient_id=patient_id, side="left", started_at=started_at)  # type: ignore[arg-type]
    rec.add_samples(t[:turn], f[:turn])
    rec.set_side("right")
    rec.add_samples(t[turn:], f[turn:])
    record = rec.finish()
    store.set_pain(record.id, before=pain[0], after=pain[1])


async def patients_screens() -> None:
    """The therapist's screens: the patient list (with flags and pending advice), the patient and
    prescription editors and the pain prompt, on a caseload recorded through the real store."""
    import tempfile
    from datetime import datetime, timedelta

    from sensorapp.clinic.prescription import Prescription
    from sensorapp.storage import SessionStore
    from sensorapp.ui.pain_prompt import PainPrompt

    data_dir = Path(tempfile.mkdtemp(prefix="sensorapp-screens-caseload-"))
    seed_history(days=14, data_dir=data_dir)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with SessionStore.open(data_dir) as store:
        (first,) = store.patients()
        store.update_patient(
            first.id, name="Marta Lindqvist", external_id="MRN-204815", birth_year=1957, sex="female", body_mass_kg=68.0, lever_arm_m=0.84,
            notes="Left total hip replacement, 9 weeks ago. Trendelenburg gait on the left.",
        )
        store.set_prescription(first.id, Prescription(reps_per_side=5, hold_s=5.0, rest_s=10.0, sessions_per_day=3, start_date=(now - timedelta(days=14)).date()))
        store.set_prescription(
            first.id,
            Prescription(reps_per_side=7, hold_s=6.0, rest_s=10.0, target_kind="percent_of_best", target_low=70, target_high=90, sessions_per_day=2, start_date=(now - timedelta(days=7)).date()),
        )
        ready = store.add_patient("Jonas Weber", external_id="MRN-198342", involved_side="right", birth_year=1971, sex="male")
        store.set_prescription(ready.id, Prescription(sessions_per_day=1, start_date=(now - timedelta(days=8)).date()))
        for day in range(8):
            record_caseload_session(store, ready.id, now - timedelta(days=7 - day, hours=3), seed=40 + day, asymmetry_pct=2.0, pain=(1, 1))
        weak = store.add_patient("Aïcha Benali", external_id="MRN-210077", involved_side="left", birth_year=1984, sex="female")
        record_caseload_session(store, weak.id, now - timedelta(days=4), seed=3, asymmetry_pct=26.0, pain=(2, 5))
        store.add_patient("Pieter de Vries", external_id="MRN-211930", involved_side="right")
        ready_id = ready.id
    controller = AppController(None)
    controller.open_store(str(data_dir))
    window = MainWindow(controller)
    window.setMinimumSize(0, 0)
    window.resize(*SIZES[""])
    window.show()
    window.show_patients()
    window.patients_screen.select_patient(ready_id)
    for suffix, (width, height) in SIZES.items():
        window.resize(width, height)
        await asyncio.sleep(0.1)
        window.patients_screen.table.resizeRowsToContents()
        await asyncio.sleep(0.05)
        path = OUT / f"patients{suffix}.png"
        if not window.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path.relative_to(OUT.parent.parent)}")
    window.resize(*SIZES[""])
    await asyncio.sleep(0.05)

    async def grab_dialog(dialog: object, name: str) -> None:
        from PySide6.QtWidgets import QWidget

        assert isinstance(dialog, QWidget)
        # The default offscreen screen is 800x600, smaller than the window shown here: size the dialog
        # as it opens on a real screen (the layout probe checks it on 1024x600 and larger).
        dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()))
        await asyncio.sleep(0.1)
        path = OUT / f"{name}.png"
        if not dialog.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(f"wrote {path.relative_to(OUT.parent.parent)}")

    screen = window.patients_screen
    screen.select_patient(first.id)
    editor = screen.edit_selected()
    await grab_dialog(editor, "patients-editor")
    assert editor is not None
    editor.reject()
    prescription = screen.edit_prescription()
    await grab_dialog(prescription, "prescription")
    assert prescription is not None
    prescription.reject()
    pain = PainPrompt("before", lambda _v: None, window)
    pain.open()
    await grab_dialog(pain, "pain")
    pain.reject()
    # Exercise with Marta: the settings come from her prescription.
    screen.select_patient(first.id)
    screen.exercise_button.click()
    await asyncio.sleep(0.2)
    path = OUT / "patients-exercise.png"
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path.relative_to(OUT.parent.parent)}")
    controller.close_store()


if __name__ == "__main__":
    import tempfile

    os.environ["SENSORAPP_DATA_DIR"] = tempfile.mkdtemp(prefix="sensorapp-screens-")  # never the user's store
    app = QApplication(sys.argv[:1])
    theme.apply(app)
    if "--report" in sys.argv[1:]:  # only the report pages, not everyone's window screenshots
        report_pages()
        sys.exit(0)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    only = {"--calibration", "--patients"} & set(sys.argv[1:])  # only those screens, not everyone's
    with loop:
        if not only:
            loop.run_until_complete(main())
        if not only or "--calibration" in only:
            loop.run_until_complete(calibration_wizard_screens())
        if not only or "--patients" in only:
            loop.run_until_complete(patients_screens())
