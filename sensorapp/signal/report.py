"""Rendering a session's analysis: the JSON document and the readable table of ``analyze``."""

from __future__ import annotations

import math

import numpy as np

from .events import RepRejected
from .symmetry import SessionSummary


def recording_info(t_s: np.ndarray) -> dict[str, float | int]:
    """Samples, duration, median rate and data gaps of a recording (for the report header)."""
    n = int(t_s.size)
    if n < 2:
        return {"samples": n, "duration_s": 0.0, "rate_hz": 0.0, "gaps": 0, "longest_gap_s": 0.0}
    dt = np.diff(t_s)  # the only full-length temporary: median, count and max reuse it
    med = float(np.median(dt, overwrite_input=True))
    n_gaps = int(np.count_nonzero(dt > 1.5 * med))
    longest = float(dt.max())
    del dt
    return {
        "samples": n,
        "duration_s": round(float(t_s[-1] - t_s[0]), 3),
        "rate_hz": round(1.0 / med, 2) if med > 0 else 0.0,
        "gaps": n_gaps,
        "longest_gap_s": round(longest, 3),
    }


def analysis_document(
    summary: SessionSummary, rejections: list[RepRejected], info: dict[str, float | int] | None = None
) -> dict[str, object]:
    """The ``--json`` document: the summary's keys plus the recording and the non-reps."""
    doc = summary.to_dict()
    if info is not None:
        doc["recording"] = info
    doc["rejected"] = [
        {"onset_s": round(r.onset_s, 3), "duration_s": round(r.duration_s, 3), "reason": r.reason} for r in rejections
    ]
    return doc


def _f(value: float | None, fmt: str) -> str:
    """Format, or a right-aligned '-' of the same width for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        width = int(fmt.split(".")[0] or 0)
        return "-".rjust(width)
    return format(value, fmt)


def render_text(
    summary: SessionSummary,
    rejections: list[RepRejected],
    info: dict[str, float | int] | None = None,
    source: str = "",
) -> str:
    """A plain-text report: one line per rep, then per side, then symmetry."""
    lines: list[str] = []
    if source:
        lines.append(source)
    if info is not None:
        lines.append(
            f"{info['samples']} samples, {info['duration_s']:.1f} s at {info['rate_hz']:g} Hz"
            + (f", {info['gaps']} data gaps (longest {info['longest_gap_s']:.2f} s)" if info["gaps"] else "")
        )
    tol = summary.target_tolerance_s
    lines.append(f"Target hold {summary.target_hold_s:g} s (met at >= {summary.target_hold_s - tol:g} s)")
    lines.append("")
    if not summary.reps:
        lines.append("No reps found.")
    else:
        header = (
            f"{'side':<7}{'rep':>4}{'onset s':>9}{'release s':>10}{'hold s':>8}  {'met':<4}"
            f"{'base N':>8}{'plateau N':>10}{'peak N':>8}{'mean N':>8}{'impulse Ns':>11}{'CV %':>6}{'RFD N/s':>9}  flags"
        )
        lines.append(header)
        lines.append("-" * len(header))
        for r in summary.reps:
            flags = []
            if r.gap_bridged:
                flags.append("gap bridged")
            if r.closed_by != "release":
                flags.append(r.closed_by)
            lines.append(
                f"{(r.side or '?'):<7}{r.index:>4}{r.onset_s:>9.2f}{r.release_s:>10.2f}{r.hold_s:>8.2f}  "
                f"{'yes' if r.target_met else 'no':<4}{r.baseline_n:>8.1f}{r.plateau_n:>10.1f}{r.peak_n:>8.1f}"
                f"{r.mean_n:>8.1f}{r.impulse_ns:>11.1f}{_f(r.steadiness_cv_pct, '6.1f')}{_f(r.rfd_n_per_s, '9.0f')}"
                f"  {', '.join(flags)}".rstrip()
            )
    if rejections:
        reasons: dict[str, int] = {}
        for rej in rejections:
            reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
        lines.append("Not counted: " + ", ".join(f"{n} {reason}" for reason, n in reasons.items()))
    lines.append("")
    for name, s in summary.sides.items():
        parts = [f"{s.reps} reps, {s.reps_target_met} met the target"]
        if s.mean_hold_s is not None:
            parts.append(f"mean hold {s.mean_hold_s:.1f} s")
        if s.plateau_n is not None:
            parts.append(f"best-3 plateau {s.plateau_n:.1f} N")
        if s.torque_nm is not None:
            parts.append(f"{s.torque_nm:.1f} N m")
        if s.plateau_n_per_kg is not None:
            parts.append(f"{s.plateau_n_per_kg:.2f} N/kg")
        if s.fatigue_index_pct is not None:
            parts.append(f"fatigue {s.fatigue_index_pct:.0f} %")
        lines.append(f"{name.capitalize()}: " + ", ".join(parts))
    sym = summary.symmetry
    if sym is None:
        lines.append("Symmetry: needs reps on both sides.")
    else:
        ref = f"{sym.involved_side} (involved) / other" if sym.involved_side else "weaker / stronger"
        lines.append(
            f"Symmetry: LSI {sym.lsi_pct:.1f} % ({ref}, on {sym.basis}), {sym.weaker_side} weaker, "
            f"asymmetry {sym.asymmetry_pct:.1f} %, {sym.band}" + (" (uncertain)" if sym.uncertain else "")
        )
    return "\n".join(lines) + "\n"
