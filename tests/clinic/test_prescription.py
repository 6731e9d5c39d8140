"""The Prescription dataclass: defaults, validation, its protocol and its JSON round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sensorapp.clinic.prescription import Prescription
from sensorapp.storage.records import SessionProtocol


def test_the_default_prescription_is_the_exercise_material_and_gives_its_protocol() -> None:
    p = Prescription()
    assert (p.reps_per_side, p.hold_s, p.rest_s, p.first_side, p.sessions_per_day) == (7, 6.0, 10.0, "left", 3)
    assert p.to_protocol() == SessionProtocol(reps_per_side=7, hold_s=6.0, rest_s=10.0, first_side="left")


def test_a_percent_band_goes_to_the_protocol_an_absolute_band_does_not() -> None:
    pct = Prescription(target_kind="percent_of_best", target_low=70, target_high=90, first_side="right", reps_per_side=5)
    assert pct.to_protocol().target_band_pct == (70.0, 90.0)
    assert pct.to_protocol().first_side == "right" and pct.to_protocol().reps_per_side == 5
    absolute = Prescription(target_kind="absolute_n", target_low=80, target_high=120)
    assert absolute.to_protocol().target_band_pct is None
    assert (absolute.target_low, absolute.target_high) == (80.0, 120.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reps_per_side": 0}, "reps per side"),
        ({"reps_per_side": 7.0}, "reps per side"),
        ({"reps_per_side": True}, "reps per side"),
        ({"hold_s": 0}, "hold"),
        ({"hold_s": float("nan")}, "hold"),
        ({"hold_s": 4000}, "hold"),
        ({"rest_s": -1}, "rest"),
        ({"first_side": "both"}, "first side"),
        ({"sessions_per_day": 0}, "sessions per day"),
        ({"sessions_per_day": 21}, "sessions per day"),
        ({"target_low": 10, "target_high": 20}, "needs its kind"),
        ({"target_kind": "kg", "target_low": 10, "target_high": 20}, "target kind"),
        ({"target_kind": "absolute_n", "target_low": 10}, "needs a low and a high"),
        ({"target_kind": "percent_of_best", "target_low": 90, "target_high": 70}, "0 < low <= high"),
        ({"target_kind": "percent_of_best", "target_low": 90, "target_high": 250}, "<= 200"),
        ({"target_kind": "absolute_n", "target_low": 0, "target_high": 70}, "0 < low"),
        ({"start_date": "2026-01-01"}, "start date"),
        ({"start_date": datetime(2026, 1, 1, tzinfo=UTC)}, "start date"),
        ({"created_at": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_invalid_prescriptions_are_refused_with_a_message_naming_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Prescription(**kwargs)  # type: ignore[arg-type]


def test_to_dict_and_from_dict_round_trip_and_ignore_unknown_keys() -> None:
    p = Prescription(
        reps_per_side=8,
        hold_s=5.5,
        rest_s=12,
        first_side="right",
        target_kind="absolute_n",
        target_low=50,
        target_high=75.5,
        sessions_per_day=2,
        start_date=date(2026, 3, 1),
        uuid="5f0c6a1e-1111-4222-8333-444455556666",
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )
    d = p.to_dict()
    assert d["start_date"] == "2026-03-01" and d["created_at"] == "2026-03-01T09:30:00+00:00"
    assert Prescription.from_dict({**d, "added_by_a_newer_app": 1}) == p
    assert Prescription.from_dict({}) == Prescription()
    with pytest.raises(ValueError, match="prescription"):
        Prescription.from_dict({"start_date": "1st of March"})
    with pytest.raises(ValueError, match="hold"):
        Prescription.from_dict({**d, "hold_s": "6"})


def test_describe_says_what_the_patient_is_asked_to_do() -> None:
    text = Prescription(target_kind="percent_of_best", target_low=70, target_high=90, start_date=date(2026, 3, 2)).describe()
    assert text == "7 reps/side, hold 6 s, rest 10 s, left first, 3/day, target 70-90 % of best, from 2026-03-02"
