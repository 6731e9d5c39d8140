"""A virtual patient doing the isometric gluteus medius exercise in the belt.

``force_at(t_s)`` is a pure function of device time: the same t always gives
the same newtons, whatever the sample rate or how time is chunked, so a
streaming simulator can pull samples at any rate and tests can compare
against ``truth``. Every random choice is drawn once, from ``seed``, when the
schedule is built; noise that must look random per sample is a hash of time.

Per side: a rest, then ``reps_per_side`` times (raised-cosine press, a hold
of about 6 s with fluctuation and 8-12 Hz tremor and slow within-hold fatigue,
a slow raised-cosine release, a rest). Between sides a pause to turn over,
with a bump while repositioning and a new belt pre-tension. Plateaus fall
across reps (fatigue), one side is weaker (asymmetry), the rest level drifts
and steps, and rest periods have small twitches that are not reps.
Defaults follow shared/research/signal.md §6.2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

SIDES = ("left", "right")


@dataclass(frozen=True)
class PatientProfile:
    seed: int = 1
    strong_plateau_n: float = 90.0  # the stronger side's first-rep plateau, net of pre-tension
    asymmetry_pct: float = 12.0  # the weaker side is this much weaker
    weaker_side: str = "left"
    first_side: str = "left"
    reps_per_side: int = 7
    hold_s: float = 6.4  # patients aim a little past the 6 s cue
    hold_jitter_s: float = 0.3
    short_hold_prob: float = 0.0  # chance of letting go early (2-4.5 s)
    rise_s: tuple[float, float] = (0.4, 1.0)
    release_s: tuple[float, float] = (0.6, 1.4)  # the exercise asks for a slow release
    rest_s: float = 9.5  # the app's default rest is 8 s: the virtual patient waits for the cue
    rest_jitter_s: float = 1.0
    start_rest_s: float = 4.0
    turnover_s: float = 15.0
    fatigue_per_rep: float = 0.015
    within_hold_decay: float = 0.04
    pretension_n: tuple[float, float] = (3.0, 9.0)
    pretension_step_n: float = 1.5  # posture shifts between reps
    drift_n_per_min: float = 0.8
    fluctuation_pct: float = 1.5  # < 3 Hz, % of the level
    tremor_pct: float = 0.7  # 8-12 Hz, % of the level
    strap_noise_n: float = 0.3  # white, strap and leg
    twitch_prob: float = 0.3  # per rest: a bump that is not a rep
    twitch_n: tuple[float, float] = (4.0, 12.0)
    twitch_s: tuple[float, float] = (0.15, 0.45)

    def __post_init__(self) -> None:
        for name in ("weaker_side", "first_side"):
            if getattr(self, name) not in SIDES:
                raise ValueError(f"{name} must be 'left' or 'right'")
        if self.reps_per_side < 1:
            raise ValueError("reps_per_side must be at least 1")
        if not 0 <= self.asymmetry_pct < 100:
            raise ValueError("asymmetry_pct must be in [0, 100)")
        if self.strong_plateau_n <= 0:
            raise ValueError("strong_plateau_n must be positive")

    def plateau_for(self, side: str) -> float:
        scale = 1.0 - self.asymmetry_pct / 100.0 if side == self.weaker_side else 1.0
        return self.strong_plateau_n * scale


@dataclass(frozen=True)
class TruthRep:
    """What the virtual patient really did, from the noiseless envelope."""

    side: str
    index: int
    onset_s: float  # the press starts
    hold_start_s: float  # envelope reaches the plateau
    hold_end_s: float  # release starts
    release_end_s: float  # back at rest
    plateau_n: float  # net of the baseline, at the start of the hold
    baseline_n: float  # pre-tension (rest level) just before the press

    @property
    def duration_s(self) -> float:
        return self.release_end_s - self.onset_s


@dataclass(frozen=True)
class _Bump:
    t_s: float
    width_s: float
    height_n: float


@dataclass
class VirtualPatient:
    profile: PatientProfile = field(default_factory=PatientProfile)

    def __post_init__(self) -> None:
        p = self.profile
        rng = np.random.default_rng(p.seed)
        self._hash_key = np.uint64(rng.integers(1, 2**62))
        reps: list[TruthRep] = []
        bumps: list[_Bump] = []
        # Baseline: piecewise constant pre-tension (changes at rest moments) plus linear drift.
        step_times: list[float] = [0.0]
        step_levels: list[float] = [float(rng.uniform(*p.pretension_n))]
        t = p.start_rest_s
        sides = [p.first_side, SIDES[1 - SIDES.index(p.first_side)]]
        for s_i, side in enumerate(sides):
            if s_i == 1:
                # Turning over: a big bump while repositioning, then new pre-tension.
                bumps.append(_Bump(t + 2.0, 0.8, float(rng.uniform(15, 30))))
                step_times.append(t + 4.0)
                step_levels.append(float(rng.uniform(*p.pretension_n)))
                t += p.turnover_s
            for k in range(p.reps_per_side):
                if k > 0 and p.pretension_step_n > 0:
                    step_times.append(t - 1.5)
                    step_levels.append(max(0.5, step_levels[-1] + float(rng.normal(0, p.pretension_step_n))))
                level = p.plateau_for(side) * (1 - p.fatigue_per_rep * k) * float(rng.uniform(0.95, 1.05))
                rise = float(rng.uniform(*p.rise_s))
                hold = p.hold_s + float(rng.normal(0, p.hold_jitter_s))
                if rng.random() < p.short_hold_prob:
                    hold = float(rng.uniform(2.0, 4.5))
                release = float(rng.uniform(*p.release_s))
                onset = t
                baseline = step_levels[-1] + p.drift_n_per_min * onset / 60.0
                reps.append(TruthRep(side, k + 1, onset, onset + rise, onset + rise + hold, onset + rise + hold + release, level, baseline))
                t = onset + rise + hold + release
                rest = max(2.5, p.rest_s + float(rng.normal(0, p.rest_jitter_s)))
                if rng.random() < p.twitch_prob:
                    bumps.append(
                        _Bump(t + float(rng.uniform(1.0, rest - 1.0)), float(rng.uniform(*p.twitch_s)), float(rng.uniform(*p.twitch_n)))
                    )
                t += rest
        self.truth: tuple[TruthRep, ...] = tuple(reps)
        self.duration_s = t
        self._bumps = tuple(bumps)
        self._step_t = np.asarray(step_times)
        self._step_level = np.asarray(step_levels)
        # Fluctuation (< 3 Hz) and tremor (8-12 Hz) as sums of seeded sinusoids.
        self._fluct = (rng.uniform(0.2, 3.0, 6), rng.uniform(0, 2 * np.pi, 6))
        self._tremor = (rng.uniform(8.0, 12.0, 5), rng.uniform(0, 2 * np.pi, 5))
        # Later sessions: (device time it began, the patient's schedule for it, from t = 0).
        self._later_sessions: list[tuple[float, VirtualPatient]] = []

    # ------------------------------------------------------------ sessions

    def begin_session_at(self, t_s: float) -> bool:
        """The app starts a session at device time ``t_s``: do the exercise (again)
        from there, with fresh random choices. A session started before the current
        schedule's first press keeps that schedule. Returns whether a new one began."""
        start_s = self._later_sessions[-1][0] if self._later_sessions else 0.0
        if t_s < start_s + self.truth[0].onset_s:
            return False
        k = len(self._later_sessions) + 1
        self._later_sessions.append((float(t_s), VirtualPatient(replace(self.profile, seed=self.profile.seed + 1000 * k))))
        return True

    @property
    def session_starts_s(self) -> tuple[float, ...]:
        """Device times at which each session's schedule begins (the first at 0)."""
        return (0.0, *(start for start, _ in self._later_sessions))

    def truth_of_session(self, index: int) -> tuple[TruthRep, ...]:
        """What the patient really did in session ``index`` (0 = the first), in device time."""
        if index == 0:
            return self.truth
        start_s, patient = self._later_sessions[index - 1]
        return tuple(replace(r, onset_s=r.onset_s + start_s, hold_start_s=r.hold_start_s + start_s, hold_end_s=r.hold_end_s + start_s,
                             release_end_s=r.release_end_s + start_s) for r in patient.truth)  # fmt: skip

    # ------------------------------------------------------------ evaluation

    def baseline_at(self, t_s: np.ndarray) -> np.ndarray:
        t = np.asarray(t_s, dtype=np.float64)
        idx = np.searchsorted(self._step_t, t, side="right") - 1
        return self._step_level[np.clip(idx, 0, None)] + self.profile.drift_n_per_min * t / 60.0

    def envelope_at(self, t_s: np.ndarray) -> np.ndarray:
        """Net active force of the reps, without noise (newtons above baseline)."""
        t = np.asarray(t_s, dtype=np.float64)
        out = np.zeros_like(t)
        p = self.profile
        for r in self.truth:
            lo, hi = np.searchsorted(t, [r.onset_s, r.release_end_s])
            if hi <= lo:
                continue
            tt = t[lo:hi]
            rise = 0.5 - 0.5 * np.cos(np.pi * np.clip((tt - r.onset_s) / (r.hold_start_s - r.onset_s), 0, 1))
            hold_frac = np.clip((tt - r.hold_start_s) / max(r.hold_end_s - r.hold_start_s, 1e-9), 0, 1)
            level = r.plateau_n * (1 - p.within_hold_decay * hold_frac)
            fall = 0.5 + 0.5 * np.cos(np.pi * np.clip((tt - r.hold_end_s) / (r.release_end_s - r.hold_end_s), 0, 1))
            out[lo:hi] = level * np.where(tt < r.hold_start_s, rise, np.where(tt <= r.hold_end_s, 1.0, fall))
        return out

    def force_at(self, t_s: np.ndarray) -> np.ndarray:
        """Force on the belt in newtons at device times ``t_s`` (seconds, sorted)."""
        t = np.asarray(t_s, dtype=np.float64)
        if not self._later_sessions:
            return self._force_of_one_session(t)
        starts = np.asarray([start for start, _ in self._later_sessions])
        which = np.searchsorted(starts, t, side="right")  # 0: the first session's schedule
        out = np.empty_like(t)
        for k in np.unique(which):
            sel = which == k
            if k == 0:
                out[sel] = self._force_of_one_session(t[sel])
            else:
                start_s, patient = self._later_sessions[k - 1]
                out[sel] = patient._force_of_one_session(t[sel] - start_s)
        return out

    def _force_of_one_session(self, t: np.ndarray) -> np.ndarray:
        p = self.profile
        active = self.envelope_at(t)
        wobble = np.zeros_like(t)
        for (freqs, phases), pct in ((self._fluct, p.fluctuation_pct), (self._tremor, p.tremor_pct)):
            comp = np.zeros_like(t)
            for f, ph in zip(freqs, phases, strict=True):
                comp += np.sin(2 * np.pi * f * t + ph)
            wobble += comp * (pct / 100.0) * math.sqrt(2.0 / len(freqs))
        bumps = np.zeros_like(t)
        for b in self._bumps:
            lo, hi = np.searchsorted(t, [b.t_s, b.t_s + b.width_s])
            if hi > lo:
                bumps[lo:hi] = b.height_n * np.sin(np.pi * (t[lo:hi] - b.t_s) / b.width_s)
        return self.baseline_at(t) + active * (1.0 + wobble) + bumps + p.strap_noise_n * _hash_normal(t, self._hash_key)


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _hash_normal(t_s: np.ndarray, key: np.uint64) -> np.ndarray:
    """Standard normal noise that is a pure function of time (to the microsecond)."""
    with np.errstate(over="ignore"):
        k = np.rint(np.asarray(t_s) * 1e6).astype(np.int64).view(np.uint64) + key
        a = _splitmix(k)
        b = _splitmix(a + np.uint64(0x9E3779B97F4A7C15))
    u1 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    u2 = (b >> np.uint64(11)).astype(np.float64) / 2.0**53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2 * np.pi * u2)
