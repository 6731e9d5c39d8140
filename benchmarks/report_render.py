"""The PDF report of a year of sessions, as a ratio to the least work such a PDF takes.

    python benchmarks/report_render.py             # 365 days x 3 sessions; exits 1 if the ratio is above its target
    python benchmarks/report_render.py --days 90 --per-day 2 --repeat 5

Seeds a fresh store with one patient's year (3 sessions a day: 1095 sessions) through the store's
public API: each session is a short synthetic two-sided recording (seven trapezoid presses per side
at 20 Hz, ``tests/reporting/report_helpers.py``) fed through a real recorder and analysed on finish,
with pain ratings; the virtual patient's richer signal is left out so seeding takes about half a
minute. Then alternates (``--repeat`` times, medians):

* measured: ``build_patient_report`` (sessions, trend values, adherence, the latest session's samples
  and reps, flags and advice from ``clinic.overview``) and ``render_report_bytes`` (the two-pass layout
  with text measurement, the plots, the table over every page, the PDF in memory), A4;
* reference: ``SessionStore.sessions`` for the patient (the read the report cannot avoid) and a
  QPdfWriter that draws the same table cells as text at fixed places, one page per 60 rows, with no
  measuring, plots or layout (the least a PDF of that table takes).

Also printed: pages, PDF bytes, seeding time, and the build and render parts of the measured time.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reporting"))

from ratio_targets import Target, fmt_s, interleaved, report
from report_helpers import seed_period

from sensorapp.clinic.prescription import Prescription
from sensorapp.reporting import build_patient_report
from sensorapp.reporting.model import Report
from sensorapp.storage.store import SessionStore

MAX_RATIO = 6.0  # see benchmarks/README.md for the measured ratios


def plain_table_pdf(report: Report) -> bytes:
    """The reference: the table's cells as text at fixed places in a QPdfWriter, nothing else."""
    from PySide6.QtCore import QBuffer, QIODevice, QPointF
    from PySide6.QtGui import QFont, QPageSize, QPainter, QPdfWriter

    from sensorapp.ui.report_pdf import table_cells

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    painter = QPainter(writer)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(7.0)
    painter.setFont(font)
    for i, row in enumerate(report.rows):
        if i and i % 60 == 0:
            writer.newPage()
        y = 200.0 + (i % 60) * 50.0
        for k, cell in enumerate(table_cells(row)):
            painter.drawText(QPointF(150.0 + k * 190.0, y), cell)
    painter.end()
    buffer.close()
    return bytes(buffer.data().data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs of code and reference (median)")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO, help="measured / reference above which the exit code is 1")
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # fonts, no window: before Qt starts
    from sensorapp.ui.report_pdf import ensure_gui_application, render_report_bytes

    ensure_gui_application()
    with tempfile.TemporaryDirectory() as tmp:
        store = SessionStore.open(Path(tmp) / "data")
        try:
            start = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
            patient = store.add_patient("Benchmark", external_id="B-1", involved_side="left", body_mass_kg=70.0, lever_arm_m=0.8)
            store.set_prescription(patient.id, Prescription(sessions_per_day=args.per_day, start_date=start.date()))
            t0 = time.perf_counter()
            seed_period(store, patient.id, days=args.days, per_day=args.per_day, first_day=start)
            seed_s = time.perf_counter() - t0
            now = start + timedelta(days=args.days)

            def build() -> Report:
                return build_patient_report(store, patient, now=now)

            def measured() -> object:
                return render_report_bytes(build())

            def reference() -> object:
                store.sessions(patient.id)
                return plain_table_pdf(the_report)

            the_report = build()
            t1 = time.perf_counter()
            build()
            build_s = time.perf_counter() - t1
            t2 = time.perf_counter()
            rendered = render_report_bytes(the_report)
            render_s = time.perf_counter() - t2
            pair = interleaved(measured, reference, repeat=args.repeat)
        finally:
            store.close()
    sessions = len(the_report.rows)
    target = Target(
        f"report, {sessions} sessions",
        pair,
        max_ratio=args.max_ratio,
        reference="sessions read + the table as plain PDF text",
        notes=[
            f"{rendered.pages} pages A4, {len(rendered.data) / 1e6:.2f} MB; clipped text: {len(rendered.clipped)}",
            f"one run: build {fmt_s(build_s)} + render {fmt_s(render_s)}; seeding {sessions} sessions took {seed_s:.1f} s",
        ],
    )
    return report([target], title=f"PDF report of one patient: {args.days} days x {args.per_day} sessions")


if __name__ == "__main__":
    sys.exit(main())
