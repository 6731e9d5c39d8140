"""History: trend per side, LSI with its band, adherence per day, and `sensorapp sessions`."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from storage_helpers import record_session, sensorapp, utc

from sensorapp.signal.symmetry import UNCERTAIN_ASYMMETRY_PCT
from sensorapp.storage.history import adherence, patient_trend
from sensorapp.storage.store import SessionStore


@pytest.mark.both_engines
def test_trend_per_side_and_lsi_band_come_from_each_session(store: SessionStore) -> None:
    anna = store.add_patient("Anna", involved_side="left")
    other = store.add_patient("Ben")
    r1 = record_session(store, patient_id=anna.id, seed=1, reps_per_side=3, started_at=utc(2026, 3, 1, 9))
    r2 = record_session(store, patient_id=anna.id, seed=5, reps_per_side=1, started_at=utc(2026, 3, 2, 9))
    r3 = record_session(store, patient_id=anna.id, seed=7, reps_per_side=2, started_at=utc(2026, 3, 3, 9))
    record_session(store, patient_id=other.id, seed=9, reps_per_side=1, started_at=utc(2026, 3, 1, 10))
    live = store.begin_session(patient_id=anna.id, started_at=utc(2026, 3, 4, 9))  # still recording: not in the trend
    live.add_samples(np.arange(10) * 0.01, np.zeros(10))
    live.flush()

    trend = patient_trend(store, anna.id)
    assert [p.session_id for p in trend.points] == [r1.id, r2.id, r3.id]
    left = trend.side("left")
    np.testing.assert_array_equal(left.session_ids, [r1.id, r2.id, r3.id])
    np.testing.assert_allclose(left.t_posix_s, [r.started_at.timestamp() for r in (r1, r2, r3)])
    np.testing.assert_allclose(left.plateau_n, [r.summary["sides"]["left"]["plateau_n"] for r in (r1, r2, r3)])
    np.testing.assert_allclose(trend.side("right").mean_hold_s, [r.summary["sides"]["right"]["mean_hold_s"] for r in (r1, r2, r3)])

    lsi = trend.lsi
    np.testing.assert_allclose(lsi.lsi_pct, [r.symmetry["lsi_pct"] for r in (r1, r2, r3)])
    assert trend.points[0].band_basis == "ci95"
    ci = r1.symmetry["lsi_ci95_pct"]
    assert (lsi.low_pct[0], lsi.high_pct[0]) == (ci[0], ci[1]) and ci[0] < lsi.lsi_pct[0] < ci[1]
    # One rep per side has no confidence interval: the band is the single-session measurement error.
    assert r2.symmetry["lsi_ci95_pct"] is None and trend.points[1].band_basis == "measurement error"
    assert lsi.high_pct[1] - lsi.lsi_pct[1] == pytest.approx(UNCERTAIN_ASYMMETRY_PCT)
    assert trend.points[0].lsi_band in ("green", "amber", "red") and lsi.uncertain.dtype == bool
    # LSI is involved/uninvolved for a patient with an involved side.
    assert r1.symmetry["involved_side"] == "left"
    json.dumps(trend.to_dict())


@pytest.mark.both_engines
def test_incomplete_sessions_can_be_left_out_of_the_trend(store: SessionStore) -> None:
    a = record_session(store, reps_per_side=1, started_at=utc(2026, 3, 1))
    rec = store.begin_session(started_at=utc(2026, 3, 2))
    rec.add_samples(np.arange(100) * 0.01, np.zeros(100))
    b = rec.finish(complete=False, reason="aborted")
    assert [p.session_id for p in patient_trend(store, None).points] == [a.id, b.id]
    assert [p.session_id for p in patient_trend(store, None, include_incomplete=False).points] == [a.id]
    # A session without reps has NaN, not zero, in the plot arrays.
    assert np.isnan(patient_trend(store, None).side("left").plateau_n[1])


@pytest.mark.both_engines
def test_adherence_counts_sessions_per_local_day_against_two_to_three(store: SessionStore) -> None:
    kim = store.add_patient("Kim")
    plus2 = timezone(timedelta(hours=2))
    times = [
        utc(2026, 3, 1, 8), utc(2026, 3, 1, 23, 30),  # the second is 01:30 on 2 March at UTC+2
        utc(2026, 3, 2, 12),
        # 3 March: none
        utc(2026, 3, 4, 7), utc(2026, 3, 4, 12), utc(2026, 3, 4, 18),
        utc(2026, 3, 5, 6), utc(2026, 3, 5, 9), utc(2026, 3, 5, 13), utc(2026, 3, 5, 17),
        utc(2026, 3, 6, 8),
    ]  # fmt: skip
    for i, moment in enumerate(times):
        record_session(store, patient_id=kim.id, seed=20 + i, reps_per_side=1, started_at=moment)
    empty = store.begin_session(patient_id=kim.id, started_at=utc(2026, 3, 2, 15))  # no reps: does not count
    empty.add_samples(np.arange(50) * 0.01, np.zeros(50))
    empty.finish()

    result = adherence(store, kim.id, tz=plus2, today=date(2026, 3, 6))
    got = [(d.day.day, d.sessions, d.started, d.status) for d in result.days]
    assert got == [
        (1, 1, 1, "below"),
        (2, 2, 3, "met"),
        (3, 0, 0, "below"),
        (4, 3, 3, "met"),
        (5, 4, 4, "above"),
        (6, 1, 1, "today"),
    ]
    assert (result.days_met, result.days_below, result.days_above) == (2, 2, 1)
    assert result.fraction_days_met == pytest.approx(3 / 5)  # today is not judged yet
    assert result.mean_sessions_per_day == pytest.approx(10 / 5)
    # In UTC the late session stays on 1 March.
    utc_days = adherence(store, kim.id, tz=UTC, today=date(2026, 3, 6)).days
    assert [d.sessions for d in utc_days][:2] == [2, 1]
    # An explicit range lists empty days too, and future days are not judged.
    ranged = adherence(store, kim.id, tz=plus2, first_day=date(2026, 2, 27), last_day=date(2026, 3, 8), today=date(2026, 3, 6))
    assert [d.status for d in ranged.days][:2] == ["below", "below"] and [d.status for d in ranged.days][-2:] == ["future", "future"]
    assert adherence(store, store.add_patient("Nobody").id).days == ()
    json.dumps(result.to_dict())


def test_sessions_cli_lists_filters_and_prints_json(tmp_path: Path, _private_data_dir: Path) -> None:
    store = SessionStore.open(_private_data_dir)
    anna = store.add_patient("=Anna")
    record_session(store, patient_id=anna.id, reps_per_side=2, started_at=utc(2026, 3, 1, 9))
    record_session(store, patient_id=store.add_patient("Ben").id, reps_per_side=1, started_at=utc(2026, 3, 1, 10))
    rec = store.begin_session(started_at=utc(2026, 3, 2, 10))
    rec.add_samples(np.arange(100) * 0.01, np.zeros(100))
    rec.finish(complete=False, reason="aborted")
    store.close()

    table = sensorapp("sessions")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "patient", "started", "length", "left", "right", "LSI", "pain", "state"]
    assert len(lines) == 4 and "=Anna" in lines[1] and "2 reps" in lines[1] and "complete" in lines[1]
    assert "incomplete (aborted)" in lines[3]

    data = json.loads(sensorapp("sessions", "--json", "--patient", "=anna").stdout)
    assert [d["patient"] for d in data] == ["=Anna"]
    entry = data[0]
    assert {"id", "patient", "started_at", "sides", "symmetry", "complete"} <= set(entry)
    assert entry["sides"]["left"]["reps"] == 2 and entry["symmetry"]["lsi_pct"] > 0 and entry["complete"] is True

    missing = sensorapp("sessions", "--patient", "Zed")
    assert missing.returncode == 1 and "no patient with the id, external id or name 'Zed'" in missing.stderr and "Traceback" not in missing.stderr
    adh = json.loads(sensorapp("sessions", "--adherence", "--json", "--patient", "Ben").stdout)
    assert adh["prescribed_per_day"] == [2, 3] and adh["days"][0]["sessions"] == 1
