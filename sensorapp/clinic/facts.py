"""The per-session figures the flags and the advice are computed from.

A small plain record per session, so the rules can be tested without a store and run over
hundreds of sessions without touching raw samples. ``from_record`` reads a stored session's
summary the way the History screen does (``storage.history.trend_point``): the LSI interval is
the session's rep-level 95 % CI, or +- the single-session measurement error when it has none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sensorapp.storage.history import local_day, trend_point
from sensorapp.storage.records import SIDES, SessionRecord


@dataclass(frozen=True)
class SessionFacts:
    """One session as the clinic rules see it."""

    session_id: int
    started_at: datetime
    ended: bool = True
    reps: dict[str, int] = field(default_factory=dict)  # per side, "unknown" included
    reps_target_met: int = 0  # holds that reached the target (all sides)
    plateau_n: dict[str, float | None] = field(default_factory=dict)  # best-3 plateau, left/right
    lsi_pct: float | None = None
    lsi_low_pct: float | None = None
    lsi_high_pct: float | None = None
    weaker_side: str | None = None
    pain_before: int | None = None
    pain_after: int | None = None
    uuid: str | None = None

    @property
    def reps_total(self) -> int:
        return sum(self.reps.values())

    @property
    def counted(self) -> bool:
        """Counts for adherence as History counts it: ended, with at least one rep."""
        return self.ended and self.reps_total > 0

    @property
    def pain_ratings(self) -> tuple[int, ...]:
        return tuple(v for v in (self.pain_before, self.pain_after) if v is not None)

    def day(self, tz: tzinfo | None = None) -> date:
        """The patient's local calendar day of the start."""
        return local_day(self.started_at, tz)


def facts_from_record(record: SessionRecord) -> SessionFacts:
    """A stored session's facts (pain is None where it was skipped or the session predates pain ratings)."""
    point = trend_point(record)
    sides = record.side_summaries()
    reps = {name: int(s.get("reps") or 0) for name, s in sides.items()}
    return SessionFacts(
        session_id=record.id,
        started_at=record.started_at,
        ended=record.ended_at is not None,
        reps=reps,
        reps_target_met=record.reps_target_met,
        plateau_n={s: point.plateau_n.get(s) for s in SIDES},
        lsi_pct=point.lsi_pct,
        lsi_low_pct=point.lsi_low_pct,
        lsi_high_pct=point.lsi_high_pct,
        weaker_side=point.weaker_side,
        pain_before=record.pain_before,
        pain_after=record.pain_after,
        uuid=record.uuid,
    )
