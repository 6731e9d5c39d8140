"""Assemble the therapist's report from the session store: header, session table, trends, trace, provenance.

Everything here is plain data computed from what the store keeps: the stored
summary of each session (best-3 plateau per side, holds met, LSI with its
interval, as ``sensorapp.storage.history`` reads them), the latest session's
raw samples and reps, and the patient's details. The renderer
(``sensorapp.ui.report_pdf``) only lays it out, so the numbers printed are the
ones the tests compare with the store.

Pain scores, the clinic's record number and the prescription come from the
store (schema v3; None where a session or patient has none). Flags, pending
advice and the progression rule's criteria come from
``sensorapp.clinic.overview``, as of the day the report is made, so the report
says what the patient list says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import numpy as np

from sensorapp import __version__
from sensorapp.clinic.overview import patient_overview
from sensorapp.clinic.thresholds import ThresholdsError
from sensorapp.storage.history import adherence, local_day, prescribed_per_day, trend_point
from sensorapp.storage.records import SIDES, Patient, SessionRecord
from sensorapp.storage.store import SessionStore

# The trace is drawn as a min/max envelope of this many columns: finer than the
# page can show at 300 dpi across a 17 cm plot, so no rep's peak is lost.
TRACE_COLUMNS = 2000


class ReportError(ValueError):
    """Nothing to report (no sessions in the period, an unknown patient...): one line for the user."""


@dataclass(frozen=True)
class SessionRow:
    """One line of the session table. Values are None where the session has none."""

    session_id: int
    started_at: datetime
    complete: bool
    reps: dict[str, int]  # per side
    reps_unsided: int  # reps recorded before a side was chosen (older command-line recordings)
    reps_prescribed: int | None  # per side, from the session's protocol
    holds_met: int
    holds_total: int
    plateau_n: dict[str, float | None]  # best-3 mean plateau per side
    plateau_n_per_kg: dict[str, float | None]
    torque_nm_per_kg: dict[str, float | None]
    lsi_pct: float | None
    lsi_low_pct: float | None
    lsi_high_pct: float | None
    lsi_interval_basis: str | None  # "ci95" or "measurement error"
    lsi_band: str | None  # "green" | "amber" | "red"
    weaker_side: str | None
    pain_before: int | None
    pain_after: int | None


@dataclass(frozen=True)
class TraceRep:
    side: str | None
    index: int
    onset_s: float
    release_s: float
    hold_s: float
    plateau_n: float
    target_met: bool
    rate_hz: float  # median sample rate within the rep
    peak_n: float


@dataclass(frozen=True, eq=False)
class ForceTrace:
    """The latest session's force as a min/max envelope (one column per entry), with its reps."""

    session_id: int
    started_at: datetime
    t_s: np.ndarray  # column start times, device seconds
    force_min_n: np.ndarray
    force_max_n: np.ndarray
    side_codes: np.ndarray  # uint8 per column: 0 unknown, 1 left, 2 right (of the column's first sample)
    reps: tuple[TraceRep, ...]
    target_hold_s: float
    sample_count: int


@dataclass(frozen=True)
class ReportFlag:
    code: str
    text: str
    severity: str


@dataclass(frozen=True)
class ReportAdvice:
    rule_id: str
    text: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class ReportCriterion:
    name: str
    met: bool
    detail: str


@dataclass(frozen=True)
class ReportHeader:
    patient_id: int | None
    patient_name: str
    external_id: str | None
    birth_year: int | None
    sex: str | None
    involved_side: str | None
    body_mass_kg: float | None
    lever_arm_m: float | None
    prescription: tuple[str, ...]  # lines such as "7 reps per side, hold 6 s, rest 10 s"
    prescription_source: str  # "prescription" (stored) or "protocol of the latest session"
    period_from: date
    period_to: date
    generated_at: datetime
    title: str  # "Session report" or "Progress report"


@dataclass(frozen=True)
class Provenance:
    app_version: str  # of this report
    recorded_with: tuple[str, ...]  # app versions the sessions were recorded with
    devices: tuple[str, ...]  # "GMBelt-1234 (serial GMB-0042, belt)"
    calibration: str  # the latest session's calibration, in words
    sample_rate_hz: float | None  # the latest session's mean sample rate
    sessions: int
    samples: int  # in the latest session


@dataclass(frozen=True)
class Report:
    header: ReportHeader
    rows: tuple[SessionRow, ...]
    trace: ForceTrace | None
    flags: tuple[ReportFlag, ...] | None  # None: not assessed (``flags_not_assessed`` says why)
    flags_not_assessed: str | None
    advice: ReportAdvice | None  # pending advice only (not yet accepted or dismissed)
    progression: tuple[ReportCriterion, ...]  # the progression rule's criteria, met or not
    adherence_text: str | None
    provenance: Provenance

    def side_series(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(session start as POSIX seconds, best-3 plateau N) of the sessions with that side, for the trend plot."""
        pts = [(r.started_at.timestamp(), r.plateau_n.get(side)) for r in self.rows]
        kept = [(t, v) for t, v in pts if v is not None]
        return np.array([t for t, _ in kept], dtype=np.float64), np.array([v for _, v in kept], dtype=np.float64)

    def lsi_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(POSIX s, LSI %, interval low %, interval high %) of the sessions with both sides."""
        kept = [r for r in self.rows if r.lsi_pct is not None]
        t = np.array([r.started_at.timestamp() for r in kept], dtype=np.float64)
        lsi = np.array([r.lsi_pct for r in kept], dtype=np.float64)
        low = np.array([np.nan if r.lsi_low_pct is None else r.lsi_low_pct for r in kept], dtype=np.float64)
        high = np.array([np.nan if r.lsi_high_pct is None else r.lsi_high_pct for r in kept], dtype=np.float64)
        return t, lsi, low, high


# ---------------------------------------------------------------------- building


def build_session_report(store: SessionStore, session_ref: str | int, *, tz: tzinfo | None = None, now: datetime | None = None) -> Report:
    """The report of one session (its id, UUID or UUID prefix, as ``export`` takes it)."""
    record = store.find_session(session_ref)
    if record.ended_at is None:
        raise ReportError(f"session {record.id} is still being recorded; report it once it has ended")
    patient = store.patient(record.patient_id) if record.patient_id is not None else None
    day = local_day(record.started_at, tz)
    return _build(
        store, patient, [record], day, day, title="Session report", tz=tz, now=now, name=record.patient_name, session_prescription=True
    )


def build_patient_report(
    store: SessionStore,
    patient: Patient,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
) -> Report:
    """A patient's progress over local days ``date_from``..``date_to`` (inclusive; default: all their sessions)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ReportError(f"--from {date_from.isoformat()} is after --to {date_to.isoformat()}")
    patient_records = store.sessions(patient.id)
    records = [
        r
        for r in patient_records
        if r.ended_at is not None
        and (date_from is None or local_day(r.started_at, tz) >= date_from)
        and (date_to is None or local_day(r.started_at, tz) <= date_to)
    ]
    if not records:
        span = ""
        if date_from or date_to:
            span = f" from {date_from.isoformat() if date_from else 'the start'} to {date_to.isoformat() if date_to else 'today'}"
        raise ReportError(f"patient {patient.name!r} (id {patient.id}) has no ended sessions{span}; nothing to report")
    first = date_from or local_day(records[0].started_at, tz)
    last = date_to or local_day(records[-1].started_at, tz)
    return _build(
        store, patient, records, first, last, title="Progress report", tz=tz, now=now, name=patient.name, patient_records=patient_records
    )


def _build(
    store: SessionStore,
    patient: Patient | None,
    records: Sequence[SessionRecord],
    first: date,
    last: date,
    *,
    title: str,
    tz: tzinfo | None,
    now: datetime | None,
    name: str | None,
    session_prescription: bool = False,
    patient_records: Sequence[SessionRecord] | None = None,
) -> Report:
    """``patient_records``: all of the patient's sessions if the caller has read them (adherence and the flags judge those)."""
    if patient is not None and patient_records is None:
        patient_records = store.sessions(patient.id)  # read once here, not again by adherence and the overview
    mass = patient.body_mass_kg if patient else None
    lever = patient.lever_arm_m if patient else None
    rows = tuple(session_row(r, body_mass_kg=mass, lever_arm_m=lever) for r in records)
    latest = records[-1]
    prescription, source = _prescription_lines(store, None if session_prescription else patient, latest)
    header = ReportHeader(
        patient_id=patient.id if patient else None,
        patient_name=(patient.name if patient else name) or "Unassigned",
        external_id=patient.external_id if patient else None,
        birth_year=patient.birth_year if patient else None,
        sex=patient.sex if patient else None,
        involved_side=patient.involved_side if patient else None,
        body_mass_kg=mass,
        lever_arm_m=lever,
        prescription=prescription,
        prescription_source=source,
        period_from=first,
        period_to=last,
        generated_at=(now or datetime.now().astimezone()),
        title=title,
    )
    flags, advice, criteria, not_assessed = _flags_and_advice(store, patient, (now or datetime.now().astimezone()).date(), tz, patient_records)
    adherence_text = None
    if patient is not None and len(records) > 1:
        # Judged against the prescription in force when there is one, else the app's default of 2-3 a day.
        per_day = prescribed_per_day(store, patient.id)
        adh = adherence(
            store,
            patient.id,
            first_day=first,
            last_day=last,
            tz=tz,
            today=(now.date() if now else None),
            prescribed_per_day=per_day,
            records=patient_records,
        )
        if adh.fraction_days_met is not None and adh.mean_sessions_per_day is not None:
            judged = len(adh.judged_days)
            wanted = str(adh.prescribed_min) if adh.prescribed_min == adh.prescribed_max else f"{adh.prescribed_min}-{adh.prescribed_max}"
            adherence_text = (
                f"{round(adh.fraction_days_met * judged)} of {judged} days met {wanted} "
                f"sessions a day ({100 * adh.fraction_days_met:.0f} %); {adh.mean_sessions_per_day:.1f} sessions a day on average"
            )
    trace = force_trace(store, latest)
    return Report(
        header=header,
        rows=rows,
        trace=trace,
        flags=flags,
        flags_not_assessed=not_assessed,
        advice=advice,
        progression=criteria,
        adherence_text=adherence_text,
        provenance=_provenance(records, latest, trace),
    )


def session_row(record: SessionRecord, *, body_mass_kg: float | None, lever_arm_m: float | None) -> SessionRow:
    """The table line of one session, from its stored summary; N/kg and N·m/kg from the patient's details."""
    point = trend_point(record)
    per_kg: dict[str, float | None] = {}
    torque_per_kg: dict[str, float | None] = {}
    for s in SIDES:
        plateau = point.plateau_n.get(s)
        per_kg[s] = plateau / body_mass_kg if plateau is not None and body_mass_kg else None
        torque_per_kg[s] = plateau * lever_arm_m / body_mass_kg if plateau is not None and body_mass_kg and lever_arm_m else None
    prescribed = record.protocol.get("reps_per_side")
    return SessionRow(
        session_id=record.id,
        started_at=record.started_at,
        complete=record.complete,
        reps=dict(point.reps),
        reps_unsided=record.rep_count - sum(point.reps.values()),
        reps_prescribed=int(prescribed) if isinstance(prescribed, int) and not isinstance(prescribed, bool) else None,
        holds_met=record.reps_target_met,
        holds_total=record.rep_count,
        plateau_n={s: (None if v is None else float(v)) for s, v in point.plateau_n.items()},
        plateau_n_per_kg=per_kg,
        torque_nm_per_kg=torque_per_kg,
        lsi_pct=point.lsi_pct,
        lsi_low_pct=point.lsi_low_pct,
        lsi_high_pct=point.lsi_high_pct,
        lsi_interval_basis=point.band_basis,
        lsi_band=point.lsi_band,
        weaker_side=point.weaker_side,
        pain_before=record.pain_before,
        pain_after=record.pain_after,
    )


def force_trace(store: SessionStore, record: SessionRecord, columns: int = TRACE_COLUMNS) -> ForceTrace | None:
    """The session's force as a min/max envelope of ``columns`` columns, with its stored reps; None without samples."""
    samples = store.samples(record.id)
    n = len(samples)
    if n == 0:
        return None
    edges = np.linspace(0, n, min(columns, n) + 1).astype(np.int64)
    starts = edges[:-1]
    fmin = np.minimum.reduceat(samples.force_n, starts)
    fmax = np.maximum.reduceat(samples.force_n, starts)
    reps = tuple(
        TraceRep(r.side, r.index, r.onset_s, r.release_s, r.hold_s, r.plateau_n, r.target_met, r.rate_hz, r.peak_n) for r in store.reps(record.id)
    )
    return ForceTrace(
        session_id=record.id,
        started_at=record.started_at,
        t_s=samples.t_s[starts],
        force_min_n=fmin,
        force_max_n=fmax,
        side_codes=samples.side_codes[starts],
        reps=reps,
        target_hold_s=record.target_hold_s,
        sample_count=n,
    )


def _num(value: float) -> str:
    return f"{value:g}"


def _prescription_lines(store: SessionStore, patient: Patient | None, latest: SessionRecord) -> tuple[tuple[str, ...], str]:
    """The patient's current prescription (``patient`` None: skip it), else what the latest session was done under."""
    current = store.prescription(patient.id) if patient is not None else None
    d: dict[str, Any]
    if current is not None:
        d = current.to_dict()
        source = "current prescription"
    elif latest.prescription is not None:
        d = dict(latest.prescription)
        source = "prescription of the latest session"
    else:
        d = dict(latest.protocol)
        source = "protocol of the latest session"
    lines = [
        f"{d.get('reps_per_side', 7)} reps per side, hold {_num(float(d.get('hold_s', 6.0)))} s, "
        f"rest {_num(float(d.get('rest_s', 10.0)))} s, {d.get('first_side', 'left')} side first"
    ]
    extra = []
    if d.get("sessions_per_day") is not None:
        extra.append(f"{d['sessions_per_day']} sessions a day")
    kind, low, high = d.get("target_kind"), d.get("target_low"), d.get("target_high")
    if kind == "percent_of_best" and low is not None and high is not None:
        extra.append(f"target {_num(float(low))}-{_num(float(high))} % of best")
    elif kind == "absolute_n" and low is not None and high is not None:
        extra.append(f"target {_num(float(low))}-{_num(float(high))} N")
    elif d.get("target_band_pct"):
        lo, hi = d["target_band_pct"]
        extra.append(f"target {_num(float(lo))}-{_num(float(hi))} % of best")
    if d.get("start_date"):
        extra.append(f"since {d['start_date']}")
    if extra:
        lines.append(", ".join(extra))
    return tuple(lines), source


def _flags_and_advice(
    store: SessionStore, patient: Patient | None, today: date | None, tz: tzinfo | None, records: Sequence[SessionRecord] | None = None
) -> tuple[tuple[ReportFlag, ...] | None, ReportAdvice | None, tuple[ReportCriterion, ...], str | None]:
    """Flags, pending advice and the progression rule's criteria as the patient list shows them (None: not assessed, and why)."""
    if patient is None:
        return None, None, (), "the session has no patient"
    try:
        overview = patient_overview(store, patient, today=today, tz=tz, records=records)
    except ThresholdsError as exc:
        return None, None, (), f"the clinic thresholds file is not valid ({exc})"
    flags = tuple(ReportFlag(f.code, f.text, f.severity) for f in overview.flags)
    advice = None
    if overview.advice is not None:
        advice = ReportAdvice(overview.advice.rule_id, overview.advice.text, tuple(overview.advice.suggestions))
    criteria = () if overview.progression is None else tuple(ReportCriterion(c.name, c.met, c.detail) for c in overview.progression.criteria)
    return flags, advice, criteria, None


def calibration_text(calibration: dict[str, Any]) -> str:
    """A stored calibration in words: where it came from, when, its gain and linearity error."""
    if not calibration:
        return "not recorded"
    parts = []
    source = calibration.get("source")
    if source:
        parts.append(str(source))
    if calibration.get("created_at"):
        parts.append(f"made {calibration['created_at']}")
    gain = calibration.get("newtons_per_count")
    if isinstance(gain, (int, float)) and math.isfinite(gain):
        parts.append(f"{gain:.6g} N/count")
    lin = calibration.get("linearity_error_n")
    if isinstance(lin, (int, float)) and math.isfinite(lin):
        parts.append(f"linearity error {lin:.2f} N")
    note = calibration.get("note")
    if note:
        parts.append(str(note))
    return ", ".join(parts) or "recorded without details"


def _device_text(device: dict[str, Any]) -> str:
    name = str(device.get("name") or device.get("model") or device.get("kind") or "unknown device")
    details = []
    if device.get("serial"):
        details.append(f"serial {device['serial']}")
    if device.get("firmware"):
        details.append(f"firmware {device['firmware']}")
    if device.get("kind"):
        details.append(str(device["kind"]))
    return name + (f" ({', '.join(details)})" if details else "")


def _provenance(records: Sequence[SessionRecord], latest: SessionRecord, trace: ForceTrace | None) -> Provenance:
    # The rate measured within the reps (median), not samples / duration: the turn-over gap would lower that.
    rate = None
    rep_rates = [r.rate_hz for r in trace.reps if math.isfinite(r.rate_hz) and r.rate_hz > 0] if trace else []
    if rep_rates:
        rate = float(np.median(rep_rates))
    elif isinstance(latest.device.get("rate_hz"), (int, float)):
        rate = float(latest.device["rate_hz"])
    elif latest.sample_count > 1 and latest.duration_s > 0:
        rate = (latest.sample_count - 1) / latest.duration_s
    return Provenance(
        app_version=__version__,
        recorded_with=tuple(dict.fromkeys(r.app_version for r in records)),
        devices=tuple(dict.fromkeys(_device_text(r.device) for r in records)),
        calibration=calibration_text(latest.calibration),
        sample_rate_hz=rate,
        sessions=len(records),
        samples=latest.sample_count,
    )
