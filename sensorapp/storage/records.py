"""What the store hands out: plain frozen dataclasses, no database handles."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from .sample_codec import SIDE_NAMES

SIDES: tuple[str, ...] = ("left", "right")


@dataclass(frozen=True)
class Patient:
    id: int
    uuid: str
    name: str  # a name or a pseudonym
    involved_side: str | None  # "left", "right" or None
    body_mass_kg: float | None
    lever_arm_m: float | None
    created_at: datetime
    external_id: str | None = None  # the clinic's record number; unique in a store
    birth_year: int | None = None
    sex: str | None = None  # "female", "male", "other" or None
    notes: str = ""
    archived: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uuid": self.uuid,
            "name": self.name,
            "external_id": self.external_id,
            "birth_year": self.birth_year,
            "sex": self.sex,
            "involved_side": self.involved_side,
            "body_mass_kg": self.body_mass_kg,
            "lever_arm_m": self.lever_arm_m,
            "notes": self.notes,
            "archived": self.archived,
            "created_at": self.created_at.isoformat(),
        }


SEXES: tuple[str, ...] = ("female", "male", "other")
ADVICE_DECISIONS: tuple[str, ...] = ("accepted", "dismissed")
PAIN_MIN, PAIN_MAX = 0, 10  # the 0-10 numeric rating scale


@dataclass(frozen=True)
class AdviceDecision:
    """The therapist accepted or dismissed a piece of progression advice; ``basis`` is the data it rested on."""

    id: int
    patient_id: int
    rule_id: str
    advice_text: str
    decision: str  # "accepted" or "dismissed"
    decided_at: datetime
    basis: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "rule_id": self.rule_id,
            "advice_text": self.advice_text,
            "decision": self.decision,
            "decided_at": self.decided_at.isoformat(),
            "basis": self.basis,
        }


@dataclass(frozen=True)
class SessionProtocol:
    """What the patient was asked to do; stored with every session as JSON."""

    reps_per_side: int = 7
    hold_s: float = 6.0
    rest_s: float = 10.0
    first_side: str = "left"
    target_band_pct: tuple[float, float] | None = None  # optional band, % of the patient's best

    def __post_init__(self) -> None:
        if not isinstance(self.reps_per_side, int) or isinstance(self.reps_per_side, bool) or self.reps_per_side < 1:
            raise ValueError(f"reps_per_side must be a whole number >= 1, got {self.reps_per_side!r}")
        for name in ("hold_s", "rest_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 or (name == "hold_s" and value == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if name == 'hold_s' else '>= 0'}, got {value!r}")
        if self.first_side not in SIDES:
            raise ValueError(f"first_side must be 'left' or 'right', got {self.first_side!r}")
        if self.target_band_pct is not None:
            lo, hi = (float(v) for v in self.target_band_pct)
            if not (0 < lo <= hi and math.isfinite(hi)):
                raise ValueError(f"target_band_pct must be (low, high) with 0 < low <= high, got {self.target_band_pct!r}")
            object.__setattr__(self, "target_band_pct", (lo, hi))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["target_band_pct"] = None if self.target_band_pct is None else list(self.target_band_pct)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionProtocol:
        """Known keys only (a newer app may store more); missing keys take the defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if kwargs.get("target_band_pct") is not None:
            kwargs["target_band_pct"] = tuple(kwargs["target_band_pct"])
        return cls(**kwargs)


@dataclass(frozen=True)
class SessionRecord:
    """One session as History lists it. ``summary`` is ``SessionSummary.to_dict()`` (None until analysed)."""

    id: int
    uuid: str
    patient_id: int | None
    patient_name: str | None
    started_at: datetime
    ended_at: datetime | None
    complete: bool
    end_reason: str | None  # None while recording; "finished", "interrupted", "source failed"... afterwards
    protocol: dict[str, Any]
    device: dict[str, Any]
    calibration: dict[str, Any]
    app_version: str
    sample_count: int
    duration_s: float
    samples_sha256: str | None
    summary: dict[str, Any] | None = field(default=None, compare=False)
    notes: str = ""
    pain_before: int | None = None  # 0-10 numeric rating scale, None when not asked or skipped
    pain_after: int | None = None
    prescription: dict[str, Any] | None = None  # Prescription.to_dict() the session was done under (None before v3)

    @property
    def state(self) -> str:
        """"recording", "complete" or "incomplete"."""
        if self.ended_at is None:
            return "recording"
        return "complete" if self.complete else "incomplete"

    @property
    def target_hold_s(self) -> float:
        return float(self.protocol.get("hold_s", 6.0))

    def side_summaries(self) -> dict[str, dict[str, Any]]:
        return dict((self.summary or {}).get("sides") or {})

    @property
    def symmetry(self) -> dict[str, Any] | None:
        return (self.summary or {}).get("symmetry")

    @property
    def rep_count(self) -> int:
        return sum(int(s.get("reps") or 0) for s in self.side_summaries().values())

    @property
    def reps_target_met(self) -> int:
        """Holds that reached the target, over every side (as ``rep_count`` counts the reps)."""
        return sum(int(s.get("reps_target_met") or 0) for s in self.side_summaries().values())

    def to_dict(self) -> dict[str, Any]:
        """The ``sessions --json`` entry: identity, patient, times, state, per-side summaries, symmetry."""
        sides = {
            name: {k: s.get(k) for k in ("reps", "reps_target_met", "plateau_n", "mean_hold_s", "best_peak_n")}
            for name, s in self.side_summaries().items()
        }
        return {
            "id": self.id,
            "uuid": self.uuid,
            "patient": self.patient_name,
            "patient_id": self.patient_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "complete": self.complete,
            "state": self.state,
            "end_reason": self.end_reason,
            "samples": self.sample_count,
            "duration_s": round(self.duration_s, 3),
            "target_hold_s": self.target_hold_s,
            "sides": sides,
            "symmetry": self.symmetry,
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "prescription": self.prescription,
        }


@dataclass(frozen=True, eq=False)
class SessionSamples:
    """Every raw sample of a session, in time order: parallel arrays."""

    t_s: np.ndarray  # float64, strictly increasing (device clock)
    force_n: np.ndarray  # float64, calibrated newtons
    side_codes: np.ndarray  # uint8: 0 unknown, 1 left, 2 right

    def __len__(self) -> int:
        return int(self.t_s.size)

    @property
    def side(self) -> np.ndarray:
        """Per-sample labels "left"/"right"/"" (object array), as the samples CSV and the analysis take them."""
        return np.asarray(SIDE_NAMES, dtype=object)[self.side_codes]

    def analysis_side(self) -> str | np.ndarray | None:
        """The cheapest ``side`` argument for the analysis: None, one label, or per-sample labels."""
        if self.side_codes.size == 0:
            return None
        first = int(self.side_codes[0])
        if bool(np.all(self.side_codes == first)):
            return SIDE_NAMES[first] or None
        return self.side


def json_ready(value: Any) -> Any:
    """Strict-JSON copy: NaN and infinities become None, tuples lists, datetimes ISO strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def as_plain_dict(value: object) -> dict[str, Any]:
    """A dataclass (e.g. SourceInfo, LinearCalibration) or mapping as a JSON-ready dict; None as {}."""
    if value is None:
        return {}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_ready(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return json_ready(dict(value))
    raise TypeError(f"expected a dataclass or a mapping, got {type(value).__name__}")
