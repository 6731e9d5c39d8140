"""A patient's prescription: what the guided session asks for and how often.

Stored as history (``SessionStore.set_prescription`` adds a row; the newest is
current) and snapshotted with every session done under it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sensorapp.storage.records import SIDES, SessionProtocol

TARGET_KINDS: tuple[str, ...] = ("percent_of_best", "absolute_n")
MAX_REPS_PER_SIDE = 1000
MAX_HOLD_S = 3600.0
MAX_REST_S = 3600.0
MAX_SESSIONS_PER_DAY = 20
# A band as % of the patient's best may reach above 100 % (a stretch goal); beyond 200 % it is a typo.
MAX_TARGET_PERCENT = 200.0
MAX_TARGET_N = 10_000.0


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Prescription:
    """Reps per side, hold, rest, first side, optional target band, sessions a day, start date.

    ``uuid`` and ``created_at`` are set by the store on the copy it keeps.
    """

    reps_per_side: int = 7
    hold_s: float = 6.0
    rest_s: float = 10.0
    first_side: str = "left"
    target_kind: str | None = None  # "percent_of_best", "absolute_n" or None (no band)
    target_low: float | None = None
    target_high: float | None = None
    sessions_per_day: int = 3
    start_date: date | None = None
    uuid: str | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _is_whole(self.reps_per_side) or not 1 <= self.reps_per_side <= MAX_REPS_PER_SIDE:
            raise ValueError(f"reps per side must be a whole number from 1 to {MAX_REPS_PER_SIDE}, got {self.reps_per_side!r}")
        if not _is_number(self.hold_s) or not 0 < self.hold_s <= MAX_HOLD_S:
            raise ValueError(f"hold must be a number of seconds above 0 and at most {MAX_HOLD_S:g}, got {self.hold_s!r}")
        if not _is_number(self.rest_s) or not 0 <= self.rest_s <= MAX_REST_S:
            raise ValueError(f"rest must be a number of seconds from 0 to {MAX_REST_S:g}, got {self.rest_s!r}")
        object.__setattr__(self, "hold_s", float(self.hold_s))
        object.__setattr__(self, "rest_s", float(self.rest_s))
        if self.first_side not in SIDES:
            raise ValueError(f"first side must be 'left' or 'right', got {self.first_side!r}")
        if not _is_whole(self.sessions_per_day) or not 1 <= self.sessions_per_day <= MAX_SESSIONS_PER_DAY:
            raise ValueError(
                f"sessions per day must be a whole number from 1 to {MAX_SESSIONS_PER_DAY}, got {self.sessions_per_day!r}"
            )
        self._check_target()
        if self.start_date is not None and (not isinstance(self.start_date, date) or isinstance(self.start_date, datetime)):
            raise ValueError(f"start date must be a date (no time of day) or None, got {self.start_date!r}")
        if self.uuid is not None and (not isinstance(self.uuid, str) or not self.uuid.strip()):
            raise ValueError(f"a prescription's uuid must be text or None, got {self.uuid!r}")
        if self.created_at is not None and (not isinstance(self.created_at, datetime) or self.created_at.tzinfo is None):
            raise ValueError(f"created_at must be a timezone-aware datetime or None, got {self.created_at!r}")

    def _check_target(self) -> None:
        if self.target_kind is None:
            if self.target_low is not None or self.target_high is not None:
                raise ValueError("a target band needs its kind: 'percent_of_best' or 'absolute_n'")
            return
        if self.target_kind not in TARGET_KINDS:
            raise ValueError(f"target kind must be 'percent_of_best', 'absolute_n' or None, got {self.target_kind!r}")
        if not _is_number(self.target_low) or not _is_number(self.target_high):
            raise ValueError(f"a {self.target_kind} target needs a low and a high number, got {self.target_low!r}, {self.target_high!r}")
        low, high = float(self.target_low), float(self.target_high)  # type: ignore[arg-type]
        limit, unit = (MAX_TARGET_PERCENT, "%") if self.target_kind == "percent_of_best" else (MAX_TARGET_N, "N")
        if not 0 < low <= high <= limit:
            raise ValueError(f"target band must be 0 < low <= high <= {limit:g} {unit}, got {low:g} to {high:g} {unit}")
        object.__setattr__(self, "target_low", low)
        object.__setattr__(self, "target_high", high)

    def to_protocol(self) -> SessionProtocol:
        """The guided session's protocol. An absolute band (N) has no place there; callers read it from here."""
        band = (self.target_low, self.target_high) if self.target_kind == "percent_of_best" else None
        return SessionProtocol(
            reps_per_side=self.reps_per_side,
            hold_s=self.hold_s,
            rest_s=self.rest_s,
            first_side=self.first_side,
            target_band_pct=band,  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates and times as ISO 8601 text."""
        d = dataclasses.asdict(self)
        d["start_date"] = None if self.start_date is None else self.start_date.isoformat()
        d["created_at"] = None if self.created_at is None else self.created_at.isoformat()
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prescription:
        """Known keys only (a newer app may store more); missing keys take the defaults. ValueError when invalid."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a prescription must be an object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        try:
            if isinstance(kwargs.get("start_date"), str):
                kwargs["start_date"] = date.fromisoformat(kwargs["start_date"])
            if isinstance(kwargs.get("created_at"), str):
                kwargs["created_at"] = datetime.fromisoformat(kwargs["created_at"])
        except ValueError as exc:
            raise ValueError(f"prescription: {exc}") from None
        return cls(**kwargs)

    def describe(self) -> str:
        """One line for tables and reports: "7 reps/side, hold 6 s, rest 10 s, left first, 3/day"."""
        text = (
            f"{self.reps_per_side} reps/side, hold {self.hold_s:g} s, rest {self.rest_s:g} s, "
            f"{self.first_side} first, {self.sessions_per_day}/day"
        )
        if self.target_kind == "percent_of_best":
            text += f", target {self.target_low:g}-{self.target_high:g} % of best"
        elif self.target_kind == "absolute_n":
            text += f", target {self.target_low:g}-{self.target_high:g} N"
        if self.start_date is not None:
            text += f", from {self.start_date.isoformat()}"
        return text
