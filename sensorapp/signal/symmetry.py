"""Per-side summaries and the left/right symmetry score of a session.

Research section 4.3: the primary score is the LSI on the mean plateau of the
best 3 reps per side (torque when lever arms are given), weaker/stronger x 100
or involved/uninvolved x 100 when the therapist tagged the involved side.
Asymmetry % = 100 - LSI. Bands: >= 90 green, 85-90 amber, < 85 red. The score
is flagged ``uncertain`` when the asymmetry is within the single-session
measurement error of side-lying hip abduction (limits of agreement +-6.9 %,
Widler 2009) or when the rep-level 95 % CI of the ratio includes 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np

from .metrics import Rep

SIDES = ("left", "right")
UNKNOWN_SIDE = "unknown"
GREEN_MIN_LSI_PCT = 90.0
AMBER_MIN_LSI_PCT = 85.0
UNCERTAIN_ASYMMETRY_PCT = 7.0
BEST_N = 3

# Two-sided 95 % Student t quantiles for df = 1..30; beyond 30 interpolate in 1/df towards 1.96.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: float) -> float:
    """Two-sided 95 % critical value of Student's t (table + 1/df interpolation)."""
    if not df >= 1:
        return _T975[0]
    if df <= 30:
        lo = math.floor(df)
        hi = min(lo + 1, 30)
        frac = df - lo
        return _T975[lo - 1] + frac * (_T975[hi - 1] - _T975[lo - 1])
    return 1.96 + (_T975[29] - 1.96) * 30.0 / df


def lsi_band(lsi_pct: float) -> str:
    """Traffic light for an LSI: green >= 90, amber 85-90, red < 85."""
    if lsi_pct >= GREEN_MIN_LSI_PCT:
        return "green"
    if lsi_pct >= AMBER_MIN_LSI_PCT:
        return "amber"
    return "red"


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class SideSummary:
    """One side's set: counts, hold, best-3 plateau and fatigue."""

    side: str
    reps: int
    reps_target_met: int
    mean_hold_s: float | None
    plateau_n: float | None  # mean plateau of the best 3 reps
    best_rep_indices: tuple[int, ...]
    best_peak_n: float | None
    mean_plateau_n: float | None  # all reps
    hold_cv_pct: float | None  # rep-to-rep CV of hold_s
    mean_steadiness_cv_pct: float | None
    fatigue_index_pct: float | None  # 100 (best of reps 1-3 - mean of last 3) / best of reps 1-3
    fatigue_slope_pct_per_rep: float | None  # least-squares plateau slope, % of the first rep's fit
    lever_arm_m: float | None = None
    torque_nm: float | None = None  # plateau_n x lever arm
    plateau_n_per_kg: float | None = None
    torque_nm_per_kg: float | None = None

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d.pop("side")
        d["best_rep_indices"] = list(self.best_rep_indices)
        for key, value in d.items():
            if isinstance(value, float):
                d[key] = round(value, 3 if key.endswith(("_s", "_m", "_per_kg")) else 2)
        return d


@dataclass(frozen=True)
class SymmetryIndex:
    """LSI and asymmetry between left and right."""

    lsi_pct: float
    asymmetry_pct: float  # 100 - lsi_pct
    weaker_side: str
    stronger_side: str
    band: str  # "green" | "amber" | "red"
    uncertain: bool
    basis: str  # "force" or "torque"
    involved_side: str | None
    lsi_ci95_pct: tuple[float, float] | None
    robinson_si_pct: float  # 100 (R - L) / mean(R, L), signed
    symmetry_angle_pct: float  # Zifchock 2008, signed like Robinson's

    def to_dict(self) -> dict[str, object]:
        return {
            "lsi_pct": round(self.lsi_pct, 2),
            "asymmetry_pct": round(self.asymmetry_pct, 2),
            "weaker_side": self.weaker_side,
            "stronger_side": self.stronger_side,
            "band": self.band,
            "uncertain": self.uncertain,
            "basis": self.basis,
            "involved_side": self.involved_side,
            "lsi_ci95_pct": None if self.lsi_ci95_pct is None else [round(v, 2) for v in self.lsi_ci95_pct],
            "robinson_si_pct": round(self.robinson_si_pct, 2),
            "symmetry_angle_pct": round(self.symmetry_angle_pct, 2),
        }


@dataclass(frozen=True)
class SessionSummary:
    """Everything ``analyze --json`` prints: reps, per-side summaries, symmetry."""

    target_hold_s: float
    target_tolerance_s: float
    reps: tuple[Rep, ...]
    sides: dict[str, SideSummary]
    symmetry: SymmetryIndex | None
    body_mass_kg: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "target_hold_s": self.target_hold_s,
            "target_tolerance_s": self.target_tolerance_s,
            "reps": [r.to_dict() for r in self.reps],
            "sides": {name: s.to_dict() for name, s in self.sides.items()},
            "symmetry": None if self.symmetry is None else self.symmetry.to_dict(),
            "body_mass_kg": self.body_mass_kg,
        }


def _side_key(rep: Rep) -> str:
    return rep.side if rep.side else UNKNOWN_SIDE


def _lever_for(side: str, lever_arm_m: float | Mapping[str, float] | None) -> float | None:
    if lever_arm_m is None:
        return None
    if isinstance(lever_arm_m, Mapping):
        value = lever_arm_m.get(side)
        return None if value is None else float(value)
    return float(lever_arm_m)


def summarize_side(
    side: str,
    reps: list[Rep],
    target_hold_s: float = 6.0,
    target_tolerance_s: float = 0.5,
    body_mass_kg: float | None = None,
    lever_arm_m: float | None = None,
) -> SideSummary:
    """Summary of one side's reps (in rep order)."""
    reps = sorted(reps, key=lambda r: r.index)
    n = len(reps)
    holds = np.array([r.hold_s for r in reps], dtype=float)
    plateaus = np.array([r.plateau_n for r in reps], dtype=float)
    met = int(np.sum(holds >= target_hold_s - target_tolerance_s)) if n else 0
    mean_hold = float(holds.mean()) if n else None
    hold_cv = float(100 * holds.std(ddof=1) / holds.mean()) if n >= 2 and holds.mean() > 0 else None
    best_order = sorted(range(n), key=lambda k: -plateaus[k])[:BEST_N]
    plateau = float(plateaus[best_order].mean()) if n else None
    cvs = [r.steadiness_cv_pct for r in reps if r.steadiness_cv_pct is not None]
    fatigue = None
    if n >= 4:
        first = float(plateaus[:3].max())
        if first > 0:
            fatigue = float(100 * (first - plateaus[-3:].mean()) / first)
    slope = None
    if n >= 3:
        idx = np.array([r.index for r in reps], dtype=float)
        b, a = np.polyfit(idx, plateaus, 1)
        ref = a + b * idx[0]
        if ref > 0:
            slope = float(100 * b / ref)
    torque = plateau * lever_arm_m if plateau is not None and lever_arm_m is not None else None
    per_kg = plateau / body_mass_kg if plateau is not None and body_mass_kg else None
    torque_per_kg = torque / body_mass_kg if torque is not None and body_mass_kg else None
    return SideSummary(
        side=side,
        reps=n,
        reps_target_met=met,
        mean_hold_s=mean_hold,
        plateau_n=plateau,
        best_rep_indices=tuple(reps[k].index for k in best_order),
        best_peak_n=float(max(r.peak_n for r in reps)) if n else None,
        mean_plateau_n=float(plateaus.mean()) if n else None,
        hold_cv_pct=hold_cv,
        mean_steadiness_cv_pct=float(np.mean(cvs)) if cvs else None,
        fatigue_index_pct=fatigue,
        fatigue_slope_pct_per_rep=slope,
        lever_arm_m=lever_arm_m,
        torque_nm=torque,
        plateau_n_per_kg=per_kg,
        torque_nm_per_kg=torque_per_kg,
    )


def symmetry_index(
    left: SideSummary,
    right: SideSummary,
    left_values: np.ndarray,
    right_values: np.ndarray,
    involved_side: str | None = None,
    uncertain_asymmetry_pct: float = UNCERTAIN_ASYMMETRY_PCT,
) -> SymmetryIndex | None:
    """LSI of the best-3 values (torque if both sides have a lever arm, else force).

    ``left_values``/``right_values`` are the per-rep values on the same basis,
    used only for the confidence interval.
    """
    torque = left.torque_nm is not None and right.torque_nm is not None
    lv = left.torque_nm if torque else left.plateau_n
    rv = right.torque_nm if torque else right.plateau_n
    if lv is None or rv is None or not (lv > 0 and rv > 0):
        return None
    weaker, stronger = ("left", "right") if lv < rv else ("right", "left")
    by_side = {"left": lv, "right": rv}
    if involved_side in SIDES:
        other = "right" if involved_side == "left" else "left"
        lsi = 100.0 * by_side[involved_side] / by_side[other]
        num_vals = left_values if involved_side == "left" else right_values
        den_vals = right_values if involved_side == "left" else left_values
    else:
        involved_side = None
        lsi = 100.0 * by_side[weaker] / by_side[stronger]
        num_vals = left_values if weaker == "left" else right_values
        den_vals = right_values if weaker == "left" else left_values
    asym = 100.0 - lsi
    ci = None
    if num_vals.size >= 2 and den_vals.size >= 2:
        # Delta-method CI of a ratio of means, Welch-Satterthwaite degrees of freedom.
        m1, m2 = float(num_vals.mean()), float(den_vals.mean())
        v1 = float(num_vals.var(ddof=1)) / (num_vals.size * m1 * m1)
        v2 = float(den_vals.var(ddof=1)) / (den_vals.size * m2 * m2)
        se_rel = math.sqrt(v1 + v2)
        if se_rel > 0:
            df = (v1 + v2) ** 2 / (v1 * v1 / (num_vals.size - 1) + v2 * v2 / (den_vals.size - 1))
        else:
            df = math.inf
        half = t_quantile_975(df) * se_rel * lsi
        ci = (lsi - half, lsi + half)
    uncertain = abs(asym) < uncertain_asymmetry_pct or (ci is not None and ci[0] <= 100.0 <= ci[1])
    si = 100.0 * (rv - lv) / (0.5 * (rv + lv))
    sa = (45.0 - math.degrees(math.atan(lv / rv))) / 90.0 * 100.0
    return SymmetryIndex(
        lsi_pct=lsi,
        asymmetry_pct=asym,
        weaker_side=weaker,
        stronger_side=stronger,
        band=lsi_band(lsi),
        uncertain=bool(uncertain),
        basis="torque" if torque else "force",
        involved_side=involved_side,
        lsi_ci95_pct=ci,
        robinson_si_pct=si,
        symmetry_angle_pct=sa,
    )


def summarize(
    reps: list[Rep],
    target_hold_s: float = 6.0,
    involved_side: str | None = None,
    body_mass_kg: float | None = None,
    lever_arm_m: float | Mapping[str, float] | None = None,
    *,
    target_tolerance_s: float = 0.5,
    uncertain_asymmetry_pct: float = UNCERTAIN_ASYMMETRY_PCT,
) -> SessionSummary:
    """Per-side summaries and symmetry (None unless both left and right have reps).

    ``target_met`` is re-evaluated against ``target_hold_s`` here, so a summary
    can be redone with another target without re-detecting. ``lever_arm_m`` is
    one lever for both sides or a {side: metres} mapping; with it the symmetry
    is computed on torque.
    """
    if involved_side is not None and involved_side not in SIDES:
        raise ValueError(f"involved_side must be 'left', 'right' or None, got {involved_side!r}")
    if body_mass_kg is not None and not body_mass_kg > 0:
        raise ValueError(f"body_mass_kg must be > 0, got {body_mass_kg!r}")
    threshold = target_hold_s - target_tolerance_s
    reps_out = tuple(
        r if r.target_met == (r.hold_s >= threshold) and r.target_hold_s == target_hold_s
        else replace(r, target_met=bool(r.hold_s >= threshold), target_hold_s=float(target_hold_s))
        for r in reps
    )
    groups: dict[str, list[Rep]] = {}
    for r in reps_out:
        groups.setdefault(_side_key(r), []).append(r)
    order = [s for s in (*SIDES, UNKNOWN_SIDE) if s in groups] + sorted(
        s for s in groups if s not in (*SIDES, UNKNOWN_SIDE)
    )
    sides = {
        s: summarize_side(
            s, groups[s], target_hold_s, target_tolerance_s, body_mass_kg, _lever_for(s, lever_arm_m)
        )
        for s in order
    }
    symmetry = None
    if "left" in sides and "right" in sides:
        def values(side: str) -> np.ndarray:
            lever = sides[side].lever_arm_m
            both = sides["left"].torque_nm is not None and sides["right"].torque_nm is not None
            scale = lever if both and lever is not None else 1.0
            return np.array([r.plateau_n * scale for r in groups[side]], dtype=float)

        symmetry = symmetry_index(
            sides["left"], sides["right"], values("left"), values("right"), involved_side, uncertain_asymmetry_pct
        )
    return SessionSummary(
        target_hold_s=float(target_hold_s),
        target_tolerance_s=float(target_tolerance_s),
        reps=reps_out,
        sides=sides,
        symmetry=symmetry,
        body_mass_kg=body_mass_kg,
    )
