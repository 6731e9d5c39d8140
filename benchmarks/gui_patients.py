"""The Patients screen over a caseload, as a ratio to the overviews it shows.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_patients.py     # exits 1 if the ratio is above its target
    python benchmarks/gui_patients.py --patients 40 --days 90 --per-day 2

Fills a fresh store with ``--patients`` patients, each with ``--days`` x ``--per-day`` sessions
(built as in clinic_overview.py: six recorded from the virtual patient, the rest copies), opens the
real window offscreen on it and alternates (``--repeat`` times, medians):

* measured: ``PatientsScreen.refresh()`` (every patient's overview, the table filled and sized,
  the selected patient's panel);
* reference: ``clinic.overview.patient_overview`` for every patient, the work the list cannot avoid.

The ratio is what the screen costs on top of the domain code.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "clinic"))

from clinic_overview import fill
from ratio_targets import Target, interleaved, report

MAX_RATIO = 1.5  # see benchmarks/README.md for the measured ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs of code and reference (median)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO, help="measured / reference above which the exit code is 1")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from sensorapp.clinic.overview import patient_overview
    from sensorapp.storage.store import SessionStore
    from sensorapp.ui import theme
    from sensorapp.ui.controller import AppController
    from sensorapp.ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    theme.apply(app)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with SessionStore.open(data) as store:
            for _ in range(args.patients):
                fill(store, args.days, args.per_day)
        controller = AppController(None)
        controller.open_store(str(data))
        store = controller.store
        assert store is not None
        window = MainWindow(controller)
        window.resize(1280, 820)
        window.show()
        window.show_patients()
        app.processEvents()
        screen = window.patients_screen
        patients = store.patients()
        sessions = len(store.sessions())
        try:
            pair = interleaved(screen.refresh, lambda: [patient_overview(store, p) for p in patients], repeat=args.repeat)
            rows = screen.table.rowCount()
        finally:
            controller.close_store()
    target = Target(
        f"Patients list, {rows} rows",
        pair,
        max_ratio=args.max_ratio,
        reference="patient_overview of each patient",
        notes=[f"{len(patients)} patients, {sessions} sessions"],
    )
    return report([target], title=f"Patients screen: {args.patients} patients x {args.days} days x {args.per_day} sessions")


if __name__ == "__main__":
    sys.exit(main())
