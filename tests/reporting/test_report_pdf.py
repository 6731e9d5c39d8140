"""The PDF report: its text (read back with poppler's pdftotext) carries the store's numbers; A4 and Letter; long periods page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sensorapp import __version__, cli
from sensorapp.clinic.prescription import Prescription
from sensorapp.reporting import build_patient_report, build_session_report
from sensorapp.storage.records import Patient, SessionRecord
from sensorapp.storage.store import SessionStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_helpers import presses, seed_period, seed_session

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="poppler-utils (pdftotext, pdfinfo) is not installed; .ci/run installs it with apt-get",
)


MET, SHORT = "\u2714 met", "\u2716 short"


def pdf_text(path: Path, page: int | None = None, *, layout: bool = True) -> str:
    """The PDF's text; ``layout``: table rows kept on one line, else pdftotext's reading order (columns apart)."""
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    mode = ["-layout"] if layout else []
    return subprocess.run(["pdftotext", *mode, *pages, str(path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


@pytest.fixture(scope="module")
def caseload(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SessionStore, Patient, list[SessionRecord]]]:
    store = SessionStore.open(tmp_path_factory.mktemp("report-store"))
    patient = store.add_patient(
        "Anna Example", external_id="MRN-004217", birth_year=1961, sex="female", involved_side="left", body_mass_kg=62.0, lever_arm_m=0.82
    )
    store.set_prescription(patient.id, Prescription(sessions_per_day=3, target_kind="percent_of_best", target_low=70.0, target_high=90.0))
    records = seed_period(store, patient.id, days=4)
    yield store, patient, records
    store.close()


def slashes(text: str) -> str:
    """pdftotext drops the spaces around a short "7 / 7" in some cells and not in others: compare without them."""
    return re.sub(r"\s*/\s*", "/", text)


def row_line(text: str, record: SessionRecord) -> str:
    """The one table line of this session, with "a / b" written "a/b"."""
    stamp = record.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    lines = [line for line in text.splitlines() if line.strip().startswith(stamp)]
    assert len(lines) == 1, f"{stamp}: {len(lines)} table lines"
    return slashes(lines[0])


def in_order(line: str, cells: list[str]) -> bool:
    """Each cell appears in the line after the one before it (column order)."""
    at = 0
    for cell in cells:
        found = line.find(cell, at)
        if found < 0:
            return False
        at = found + len(cell)
    return True


def expected_cells(record: SessionRecord, mass: float, lever: float) -> list[str]:
    sides = record.side_summaries()
    sym = record.symmetry
    assert sym is not None and sym["lsi_ci95_pct"] is not None
    left, right = sides["left"]["plateau_n"], sides["right"]["plateau_n"]
    met = sides["left"]["reps_target_met"] + sides["right"]["reps_target_met"]
    low, high = sym["lsi_ci95_pct"]
    cells = [
        f"{sides['left']['reps']} / {sides['right']['reps']}",
        f"{met} of {record.rep_count}",
        f"{left:.1f}",
        f"{right:.1f}",
        f"{left / mass:.2f} / {right / mass:.2f}",
        f"{left * lever / mass:.2f} / {right * lever / mass:.2f}",
        f"{sym['lsi_pct']:.1f}",
        f"{low:.1f}\u2013{high:.1f}",
        f"{record.pain_before} / {record.pain_after}",
    ]
    return [slashes(c) for c in cells]


def test_every_number_in_the_table_is_the_stores(caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path, qapp: object) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    store, patient, records = caseload
    out = tmp_path / "r.pdf"
    rendered = render_report_pdf(build_patient_report(store, patient), out)
    assert rendered.clipped == ()
    text = pdf_text(out)
    for seeded in records:
        record = store.session(seeded.id)  # as stored now, with its pain
        line = row_line(text, record)
        cells = expected_cells(record, 62.0, 0.82)
        assert in_order(line, cells), (line, cells)
    # The seeded data: 7 reps a side, all held, the weaker (involved) left side gaining; the last session's LSI.
    assert all(row_line(text, r).count("7/7") == 1 for r in records)
    first = store.session(records[0].id).symmetry
    last = store.session(records[-1].id).symmetry
    assert first is not None and last is not None and first["lsi_pct"] < last["lsi_pct"]
    # Header and provenance.
    for expected in (
        "Anna Example", "MRN-004217", "born 1961, female", "Involved side", "62 kg", "0.82 m",
        "7 reps per side, hold 6 s, rest 10 s, left side", "3 sessions a day, target 70-90 % of best",
        "2026-01-05 to 2026-01-08 (4 days)", "4 of 4 days met 3 sessions a day (100 %)", "No progression advice pending", "Progression rule:",
        "GMBelt-7F3A (serial GMB-000123, firmware 1.4.2, belt)", "factory", "linearity error 0.21 N", "20.0 Hz",
        f"sensorapp {__version__}", "Page 1 of",
    ):
        assert expected in text, expected


def test_a_session_report_has_that_sessions_reps_and_numbers(caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path, qapp: object) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    store, _, records = caseload
    record = store.session(records[5].id)
    report = build_session_report(store, record.uuid[:8])
    assert [r.session_id for r in report.rows] == [record.id]
    assert report.trace is not None and len(report.trace.reps) == record.rep_count == 14
    out = tmp_path / "s.pdf"
    rendered = render_report_pdf(report, out)
    text = pdf_text(out)
    assert rendered.pages == 1 and "Session report" in text and "Page 1 of 1" in text
    line = row_line(text, record)
    assert in_order(line, expected_cells(record, 62.0, 0.82)), line
    # Every rep is tagged on the trace: L1..L7 and R1..R7.
    for side in "LR":
        for k in range(1, 8):
            assert re.search(rf"\b{side}{k}\b", text), f"{side}{k}"
    assert f"held 6 s ({sum(r.target_met for r in report.trace.reps)} of 14)" in text
    # The reps table, left reps beside right reps: each rep's hold, plateau and peak as the store has them.
    lines = [" ".join(line.split()) for line in text.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("Left side") and "Right side" in line)
    reps = store.reps(record.id)
    left = [r for r in reps if r.side == "left"]
    right = [r for r in reps if r.side == "right"]
    assert len(left) == len(right) == 7
    for k, (a, b) in enumerate(zip(left, right, strict=True)):
        want = [f"{r.index} {r.hold_s:.1f} {r.plateau_n:.1f} {r.peak_n:.1f} {MET if r.target_met else SHORT}" for r in (a, b)]
        assert in_order(lines[start + 2 + k], want), (lines[start + 2 + k], want)


@pytest.mark.parametrize(("paper", "size_pt"), [("a4", (595.276, 841.89)), ("letter", (612.0, 792.0))])
def test_paper_size(caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path, qapp: object, paper: str, size_pt: tuple[float, float]) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    store, patient, _ = caseload
    out = tmp_path / f"{paper}.pdf"
    rendered = render_report_pdf(build_patient_report(store, patient), out, paper=paper)
    info = pdf_info(out)
    w, h = (float(v) for v in re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (w, h) == pytest.approx(size_pt, abs=0.5)
    assert int(info["Pages"]) == rendered.pages
    assert rendered.clipped == ()


def test_a_long_period_runs_over_pages_with_the_table_head_and_page_numbers(tmp_path: Path, qapp: object) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    with SessionStore.open(tmp_path / "store") as store:
        patient = store.add_patient("Ben Long", involved_side="right", body_mass_kg=80.0)
        records = seed_period(store, patient.id, days=40, pain=False)  # 120 sessions
        report = build_patient_report(store, patient)
        # A period filter keeps only its days (local time; the seeded sessions are 08:00-16:00 UTC).
        part = build_patient_report(store, patient, date_from=date(2026, 1, 10), date_to=date(2026, 1, 12))
    assert len(part.rows) == 9
    out = tmp_path / "long.pdf"
    rendered = render_report_pdf(report, out)
    assert rendered.clipped == ()
    assert rendered.pages >= 4 and int(pdf_info(out)["Pages"]) == rendered.pages
    seen = 0
    for page in range(1, rendered.pages + 1):
        text = pdf_text(out, page)
        assert f"Page {page} of {rendered.pages}" in text
        rows = sum(row_line_count(text, r) for r in records)
        if rows:
            assert "Plateau" in text and "L (N)" in text, f"page {page} has table rows without the head"
        seen += rows
    assert seen == len(records) == 120
    # No lever arm: N·m/kg is a dash, N/kg is there.
    assert "\u2013" in pdf_text(out, 2)


def row_line_count(text: str, record: SessionRecord) -> int:
    stamp = record.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return sum(line.strip().startswith(stamp) for line in text.splitlines())


def test_cli_writes_refuses_to_overwrite_and_says_why(
    caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: object
) -> None:
    # qapp: in this process the command must find the tests' QApplication, not make a bare QGuiApplication
    # that the widget tests after it could not use.
    store, _, records = caseload
    data = ["--data-dir", str(store.path.parent)]
    out = tmp_path / "cli.pdf"
    assert cli.main([*data, "report", "--patient", "MRN-004217", "--from", "2026-01-06", "--to", "2026-01-07", "--paper", "letter", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.strip() == f"{out}: 1 page, 6 sessions" or re.fullmatch(rf"{re.escape(str(out))}: \d+ pages, 6 sessions", said.strip())
    assert "2026-01-06 to 2026-01-07" in pdf_text(out)
    before = out.read_bytes()
    assert cli.main([*data, "report", str(records[0].id), "--out", str(out)]) == cli.EXIT_FAILURE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and err.count("\n") == 1
    assert out.read_bytes() == before
    assert cli.main([*data, "report", str(records[0].id), "--out", str(out), "--force"]) == 0
    assert "Session report" in pdf_text(out)
    capsys.readouterr()
    for argv, code, words in (
        (["report", "--out", str(tmp_path / "x.pdf")], cli.EXIT_USAGE, "either SESSION_ID or --patient"),
        (["report", "1", "--patient", "1", "--out", str(tmp_path / "x.pdf")], cli.EXIT_USAGE, "either SESSION_ID or --patient"),
        (["report", "1", "--from", "2026-01-01", "--out", str(tmp_path / "x.pdf")], cli.EXIT_USAGE, "go with --patient"),
        (["report", "--patient", "nobody", "--out", str(tmp_path / "x.pdf")], cli.EXIT_FAILURE, "nobody"),
        (["report", "--patient", "1", "--from", "2027-01-01", "--out", str(tmp_path / "x.pdf")], cli.EXIT_FAILURE, "no ended sessions from 2027-01-01"),
        (["report", "--patient", "1", "--out", str(tmp_path / "missing" / "x.pdf")], cli.EXIT_FAILURE, "does not exist"),
        (["report", "--patient", "1", "--out", str(tmp_path), "--force"], cli.EXIT_FAILURE, "is a folder"),
        (["report", "--patient", "1", "--from", "2026-01-08", "--to", "2026-01-06", "--out", str(tmp_path / "x.pdf")], cli.EXIT_FAILURE, "is after --to"),
    ):
        assert cli.main([*data, *argv]) == code, argv
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err
    # argparse refuses a date it cannot read: usage, then the one-line error, exit 2.
    with pytest.raises(SystemExit) as stopped:
        cli.main([*data, "report", "--patient", "1", "--from", "8 Jan", "--out", str(tmp_path / "x.pdf")])
    assert stopped.value.code == cli.EXIT_USAGE
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith("argument --from: '8 Jan' is not a date (YYYY-MM-DD)")
    assert not (tmp_path / "x.pdf").exists()


def test_cli_runs_without_a_display_and_sets_offscreen_itself(caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path) -> None:
    import os

    store, _, records = caseload
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    out = tmp_path / "sub.pdf"
    proc = subprocess.run(
        [sys.executable, "-m", "sensorapp", "--data-dir", str(store.path.parent), "report", str(records[-1].id), "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{out}: 1 page, 1 session"
    assert "MRN-004217" in pdf_text(out)


def test_rows_per_kg_need_body_mass_and_torque_needs_the_lever_arm(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "store") as store:
        bare = store.add_patient("No Details")
        record = seed_session(store, bare.id, datetime(2026, 2, 1, 9, 0, tzinfo=UTC), left_n=70.0, right_n=80.0, seed=3)
        row = build_session_report(store, record.id).rows[0]
        assert row.plateau_n_per_kg == {"left": None, "right": None} and row.torque_nm_per_kg == {"left": None, "right": None}
        store.update_patient(bare.id, body_mass_kg=70.0)
        row = build_session_report(store, record.id).rows[0]
        left = row.plateau_n["left"]
        assert left is not None and row.plateau_n_per_kg["left"] == pytest.approx(left / 70.0)
        assert row.torque_nm_per_kg["left"] is None
        assert row.pain_before is None and row.pain_after is None


def test_flags_and_pending_advice_are_the_overviews(caseload: tuple[SessionStore, Patient, list[SessionRecord]], tmp_path: Path, qapp: object) -> None:
    from sensorapp.clinic.overview import patient_overview
    from sensorapp.ui.report_pdf import render_report_pdf

    store, patient, _ = caseload
    overview = patient_overview(store, patient)
    assert overview.flags  # months after the seeded sessions: at least "no session for ... d"
    out = tmp_path / "flags.pdf"
    render_report_pdf(build_patient_report(store, patient), out)
    text = " ".join(pdf_text(out).split())
    for flag in overview.flags:
        assert f"{flag.severity.capitalize()}: {flag.text}" in text

    # Strong, symmetric, every hold met, little pain, plateau level for two weeks: the progression advice is pending.
    with SessionStore.open(tmp_path / "ready") as ready:
        eve = ready.add_patient("Eve Ready", involved_side="left", body_mass_kg=60.0)
        records = seed_period(ready, eve.id, days=16, per_day=2, pain=False, left_from_n=84.0, left_to_n=84.0)
        for r in records:
            ready.set_pain(r.id, before=1, after=1)
        now = records[-1].started_at + timedelta(hours=2)
        report = build_patient_report(ready, eve, now=now)
        expected = patient_overview(ready, eve, today=now.date()).advice
    assert expected is not None and report.advice is not None and report.advice.text == expected.text
    out = tmp_path / "advice.pdf"
    render_report_pdf(report, out)
    text = " ".join(pdf_text(out).split())
    assert f"Advice, pending the therapist's decision: {expected.text}" in text
    assert all(" ".join(s.split()) in text for s in expected.suggestions)


def test_long_names_wrap_or_are_shortened_never_clipped(tmp_path: Path, qapp: object) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    name = "Maria-Magdalena Constanza von Hohenzollern-Sigmaringen Ölçüm Çalışması " * 2
    record_no = "CLINIC-RECORD-" + "0123456789" * 4  # one word wider than its column
    with SessionStore.open(tmp_path / "store") as store:
        patient = store.add_patient(name.strip(), external_id=record_no, involved_side="left", body_mass_kg=70.0, lever_arm_m=0.8)
        seed_session(store, patient.id, datetime(2026, 2, 1, 9, 0, tzinfo=UTC), left_n=70.0, right_n=80.0, seed=5)
        seed_session(store, patient.id, datetime(2026, 2, 2, 9, 0, tzinfo=UTC), left_n=72.0, right_n=80.0, seed=6)
        report = build_patient_report(store, patient)
    for paper in ("a4", "letter"):
        out = tmp_path / f"{paper}.pdf"
        rendered = render_report_pdf(report, out, paper=paper)
        assert rendered.clipped == (), paper
        text = pdf_text(out, 1, layout=False)
        assert " ".join(name.split()) in " ".join(text.split())  # the header wraps the whole name
        assert record_no in text.replace("\n", "").replace(" ", "")  # broken over lines, every character kept
        assert "\u2026" in text  # the footer shortens the name to fit


def test_reps_without_a_side_are_counted_apart(tmp_path: Path, qapp: object) -> None:
    from sensorapp.ui.report_pdf import render_report_pdf

    with SessionStore.open(tmp_path / "store") as store:
        patient = store.add_patient("No Sides")
        t, f = presses([70.0] * 5, [6.5] * 5, t0=0.0, rng=np.random.default_rng(2))
        rec = store.begin_session(patient_id=patient.id, side=None, started_at=datetime(2026, 2, 3, 9, 0, tzinfo=UTC))
        rec.add_samples(t, f)
        record = rec.finish()
        assert record.rep_count == 5
        report = build_session_report(store, record.id)
    row = report.rows[0]
    assert row.reps == {"left": 0, "right": 0} and row.reps_unsided == 5 and row.holds_total == 5
    out = tmp_path / "unsided.pdf"
    rendered = render_report_pdf(report, out)
    assert rendered.clipped == ()
    assert in_order(row_line(pdf_text(out), record), ["0/0 +5", "5 of 5"])


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_widest_cells_fit_their_columns_or_shrink_to_fit(caseload: tuple[SessionStore, Patient, list[SessionRecord]], paper: str, qapp: object) -> None:
    import dataclasses

    from sensorapp.ui.report_pdf import render_report_bytes, table_cells

    store, patient, _ = caseload
    report = build_patient_report(store, patient)
    widest = dataclasses.replace(
        report.rows[0], complete=False, reps={"left": 30, "right": 30}, reps_unsided=14, holds_met=58, holds_total=74,
        plateau_n={"left": 1234.5, "right": 1234.5}, plateau_n_per_kg={"left": 19.91, "right": 19.91},
        torque_nm_per_kg={"left": 16.33, "right": 16.33}, lsi_pct=100.8, lsi_low_pct=100.2, lsi_high_pct=110.5,
        lsi_interval_basis="measurement error", lsi_band="red", pain_before=10, pain_after=10,
    )  # fmt: skip
    assert table_cells(widest)[0].endswith(" *") and table_cells(widest)[8].endswith("\u2020")
    rendered = render_report_bytes(dataclasses.replace(report, rows=(widest,) * 3), paper=paper)
    assert set(rendered.clipped) == set(), sorted(set(rendered.clipped))
