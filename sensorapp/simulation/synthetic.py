"""Synthetic belt sessions with ground truth: the test data of the signal layer.

Pure numpy, deterministic by seed. Two layers, so a streaming simulator can
reuse the first one at any rate:

1. **The session script** (what the patient and the belt do, continuous time).
   ``SessionScript.generate(seed, patient, belt, sets=1)`` draws a rep
   schedule (per set: 7 presses on one side, a turn-over, 7 on the other;
   rise, hold, release, fatigue, short re-push dips and failed short holds,
   plus twitches < 1 s that are not reps) and a belt offset (pre-tension
   redrawn at each turn-over, drift, repositioning steps, slow sway). It is a
   frozen dataclass; nothing in it is random any more. ``PatientProfile`` and
   ``BeltProfile`` hold the ranges the draws come from.

   * ``script.force_at(t_s)`` -> force in N at any device times, in any
     chunks: the same t always gives the same value (the patient's tremor
     8-12 Hz and force fluctuation < 3 Hz are sums of sinusoids with seeded
     phases, not random draws). Usable directly as the virtual belt's
     ``ForceFunction``.
   * ``script.true_force_at(t_s)``: the patient's force alone (net of belt
     offset); ``script.offset_at(t_s)``: the belt's rest level;
     ``script.side_at(t_s)``: "left"/"right" per time.
   * ``script.truth``: one ``RepTruth`` per real rep (onset, release,
     hold_s, plateau_n, baseline_n, side, index), computed with the contract
     definitions of ``sensorapp.signal.metrics`` on the noise-free force at
     2 kHz. ``script.twitches`` lists the contractions that must not count.

2. **A recording** of that script (what the app receives).
   ``record(script, rate_hz, seed, ...)`` samples it at 10-1000 Hz with
   optional timestamp jitter, adds white sensor noise (``white_noise`` takes
   an RNG: this part is not chunk-independent) and optional single-sample
   glitches, cuts packets and drops some (Bernoulli or bursty), and returns a
   ``SyntheticRecording`` (t_s, force_n, side, packet_bounds, truth).

``random_scenario(seed)`` draws one of the benchmark's sessions (rate, patient
strength 20-250 N, asymmetry, noise, drift, steps, loss, glitches).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from sensorapp.signal.metrics import longest_hold, plateau_of
from sensorapp.signal.params import DetectorParams

SIDES = ("left", "right")
TRUTH_RATE_HZ = 2000.0

Range = tuple[float, float]


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


@dataclass(frozen=True)
class PatientProfile:
    """How one patient presses: strength per side and behaviour (ranges are uniform draws)."""

    left_plateau_n: float = 100.0
    right_plateau_n: float = 90.0
    reps_per_side: int = 7
    first_side: str | None = None  # None: drawn at random
    fatigue_per_rep: Range = (0.0, 0.03)  # plateau lost per rep (fraction)
    rep_scatter: float = 0.05  # plateau x U(1 - s, 1 + s) per rep
    hold_mean_s: float = 6.3
    hold_sd_s: float = 0.4
    failed_hold_prob: float = 0.1  # a failed short hold (still a rep, target not met)
    failed_hold_s: Range = (1.5, 4.5)
    dip_prob: float = 0.05  # a re-push dip during the hold
    dip_depth: Range = (0.25, 0.5)
    dip_width_s: Range = (0.2, 0.8)
    rise_s: Range = (0.3, 1.2)
    jerky_rise_prob: float = 0.1
    jerky_rise_s: Range = (0.1, 0.2)
    release_s: Range = (0.2, 0.6)
    decay_frac: Range = (0.0, 0.10)  # within-rep fatigue over the hold
    fluctuation_frac: Range = (0.01, 0.03)  # SD of the < 3 Hz force fluctuation
    tremor_frac: Range = (0.005, 0.01)  # SD of the 8-12 Hz physiological tremor
    rest_s: Range = (4.0, 10.0)
    side_switch_s: Range = (15.0, 30.0)
    lead_in_s: Range = (3.0, 6.0)
    tail_s: Range = (3.0, 5.0)
    twitch_prob: float = 0.4  # per rest period
    twitch_n: Range = (5.0, 25.0)
    twitch_s: Range = (0.1, 0.8)

    @classmethod
    def weak(cls, plateau_n: float = 20.0, lsi: float = 0.85, **kw: object) -> PatientProfile:
        """A weak patient (~20 N): twitches scaled down to what such a patient makes."""
        kw.setdefault("twitch_n", (3.0, max(5.0, plateau_n)))
        return cls(left_plateau_n=plateau_n, right_plateau_n=plateau_n * lsi, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BeltProfile:
    """What the belt adds: offset, drift, repositioning steps, sway, sensor noise."""

    pretension_n: Range = (0.0, 10.0)  # per side (re-drawn when the patient turns over)
    drift_n_per_min: Range = (0.0, 10.0)  # magnitude; sign drawn
    step_prob: float = 0.25  # per rest period, a repositioning step ...
    step_n: Range = (3.0, 10.0)  # ... of this size, up or down
    step_max_rel_plateau: float = 0.3  # ... capped at this fraction of that side's plateau
    sway_n: Range = (0.05, 0.2)  # slow (0.1-0.5 Hz) belt fluctuation: breathing, strap (our guess)
    noise_n: Range = (0.3, 1.0)  # white: strap/mechanical + electronics (used by record())
    glitch_prob: float = 0.0  # single-sample spikes per sample
    glitch_n: Range = (200.0, 2000.0)


@dataclass(frozen=True)
class Contraction:
    """One press (or twitch): a raised-cosine rise, a decaying hold, a raised-cosine release."""

    kind: str  # "rep" or "twitch"
    side: str
    index: int  # 1-based within the side for reps, 0 for twitches
    start_s: float
    rise_s: float
    hold_s: float  # time at the plateau envelope (not the contract hold)
    release_s: float
    level_n: float  # envelope level at the start of the hold
    decay_frac: float = 0.0
    dip_at_s: float = 0.0  # dip centre, relative to start (0: none)
    dip_depth: float = 0.0
    dip_width_s: float = 0.0
    mod_hz: tuple[float, ...] = ()
    mod_frac: tuple[float, ...] = ()
    mod_phase: tuple[float, ...] = ()

    @property
    def end_s(self) -> float:
        return self.start_s + self.rise_s + self.hold_s + self.release_s

    def envelope(self, t_s: np.ndarray) -> np.ndarray:
        """Noise-free force (N) at times t_s; zero outside the contraction."""
        u = np.asarray(t_s, dtype=np.float64) - self.start_s
        env = np.zeros(u.shape)
        r, h, rl = self.rise_s, self.hold_s, self.release_s
        p = self.level_n
        end_level = p * (1.0 - self.decay_frac)
        m = (u >= 0) & (u < r)
        env[m] = p * 0.5 * (1.0 - np.cos(np.pi * u[m] / r))
        m = (u >= r) & (u < r + h)
        env[m] = p * (1.0 - self.decay_frac * (u[m] - r) / h) if h > 0 else 0.0
        m = (u >= r + h) & (u < r + h + rl)
        env[m] = end_level * 0.5 * (1.0 + np.cos(np.pi * (u[m] - r - h) / rl))
        if self.dip_width_s > 0:
            m = np.abs(u - self.dip_at_s) < self.dip_width_s / 2
            env[m] *= 1.0 - self.dip_depth * 0.5 * (1.0 + np.cos(2 * np.pi * (u[m] - self.dip_at_s) / self.dip_width_s))
        return env

    def force(self, t_s: np.ndarray) -> np.ndarray:
        """Envelope x (1 + fluctuation + tremor): the patient's real force."""
        t_s = np.asarray(t_s, dtype=np.float64)
        env = self.envelope(t_s)
        if self.mod_hz:
            u = t_s - self.start_s
            mod = np.zeros(u.shape)
            for f, a, ph in zip(self.mod_hz, self.mod_frac, self.mod_phase, strict=True):
                mod += a * np.sin(2 * np.pi * f * u + ph)
            env = env * (1.0 + mod)
        return env


@dataclass(frozen=True)
class RepTruth:
    """What really happened in one rep (contract definitions on the noise-free force)."""

    side: str
    index: int
    onset_s: float
    release_s: float
    hold_s: float
    hold_start_s: float
    hold_end_s: float
    plateau_n: float
    peak_n: float
    baseline_n: float
    target_met: bool


def _sinusoids(rng: np.random.Generator, n: int, f_range: Range, sd: float) -> tuple[tuple[float, ...], ...]:
    """n sinusoids in f_range whose sum has standard deviation sd."""
    freqs = tuple(float(f) for f in rng.uniform(f_range[0], f_range[1], n))
    amps = tuple(float(sd * math.sqrt(2.0 / n)) for _ in range(n))
    phases = tuple(float(p) for p in rng.uniform(0, 2 * np.pi, n))
    return freqs, amps, phases


@dataclass(frozen=True)
class SessionScript:
    """A whole session in continuous time; see the module docstring."""

    seed: int
    patient: PatientProfile
    belt: BeltProfile
    contractions: tuple[Contraction, ...]
    side_changes: tuple[tuple[float, str], ...]  # (from time, side), sorted
    offset0_n: float
    drift_n_per_s: float
    step_times_s: tuple[float, ...]
    step_n: tuple[float, ...]
    sway_hz: tuple[float, ...]
    sway_amp_n: tuple[float, ...]
    sway_phase: tuple[float, ...]
    duration_s: float
    _starts: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", np.array([c.start_s for c in self.contractions]))

    # -------------------------------------------------------------- generation

    @classmethod
    def generate(
        cls,
        seed: int,
        patient: PatientProfile = PatientProfile(),
        belt: BeltProfile = BeltProfile(),
        sets: int = 1,
    ) -> SessionScript:
        """Draw a session: ``sets`` x (one side's reps, turn over, the other side's).

        Same seed and profiles, same script. Fatigue builds within a side's set and
        recovers between sets (a long session for the speed benchmark is many sets).
        """
        rng = np.random.default_rng([int(seed), 0x5E55])
        first = patient.first_side or ("left" if rng.random() < 0.5 else "right")
        order = (first, "right" if first == "left" else "left") * max(1, int(sets))
        plateau = {"left": patient.left_plateau_n, "right": patient.right_plateau_n}
        contractions: list[Contraction] = []
        side_changes: list[tuple[float, str]] = [(-math.inf, order[0])]
        rests: list[tuple[float, float, str]] = []  # (from, to, side after)
        offset0 = _u(rng, belt.pretension_n)
        step_t: list[float] = []
        step_v: list[float] = []
        t = _u(rng, patient.lead_in_s)
        rests.append((0.0, t, order[0]))
        for s_i, side in enumerate(order):
            fatigue = _u(rng, patient.fatigue_per_rep)
            if s_i > 0:
                gap = _u(rng, patient.side_switch_s)
                mid = t + gap / 2
                side_changes.append((mid, side))
                # turning over: a new pre-tension for the new side
                step_t.append(mid)
                step_v.append(_u(rng, belt.pretension_n) - offset0)
                rests.append((t, t + gap, side))
                t += gap
            for k in range(patient.reps_per_side):
                if k > 0:
                    gap = _u(rng, patient.rest_s)
                    rests.append((t, t + gap, side))
                    t += gap
                index = (s_i // 2) * patient.reps_per_side + k + 1
                c = cls._draw_rep(rng, patient, side, index, t, plateau[side] * (1 - fatigue * k))
                contractions.append(c)
                t = c.end_s
        tail = _u(rng, patient.tail_s)
        rests.append((t, t + tail, order[-1]))
        duration = t + tail
        # Twitches and repositioning steps inside rest periods (clear of the reps).
        for a, b, side in rests:
            lo, hi = a + 1.0, b - 1.5
            if hi - lo > 1.0 and rng.random() < patient.twitch_prob:
                w = _u(rng, patient.twitch_s)
                start = _u(rng, (lo, hi - w))
                amp = _u(rng, patient.twitch_n)
                contractions.append(Contraction("twitch", side, 0, start, w / 2, 0.0, w / 2, amp))
            turnover = any(abs(sc - 0.5 * (a + b)) < 1e-9 for sc, _ in side_changes[1:])
            if hi - lo > 1.0 and a > 0 and rng.random() < belt.step_prob and not turnover:
                # (turning over already re-tensions the belt: one change per rest)
                size = min(_u(rng, belt.step_n), belt.step_max_rel_plateau * plateau[side])
                step_t.append(_u(rng, (a + 0.5, b - 0.5)))
                step_v.append(size if rng.random() < 0.5 else -size)
        order_idx = np.argsort(step_t)
        step_t = [step_t[i] for i in order_idx]
        step_v = [step_v[i] for i in order_idx]
        contractions.sort(key=lambda c: c.start_s)
        drift = _u(rng, belt.drift_n_per_min) / 60.0 * (1 if rng.random() < 0.5 else -1)
        sway = _sinusoids(rng, 3, (0.1, 0.5), _u(rng, belt.sway_n) / math.sqrt(2))
        return cls(
            seed=int(seed),
            patient=patient,
            belt=belt,
            contractions=tuple(contractions),
            side_changes=tuple(side_changes),
            offset0_n=offset0,
            drift_n_per_s=drift,
            step_times_s=tuple(step_t),
            step_n=tuple(step_v),
            sway_hz=sway[0],
            sway_amp_n=sway[1],
            sway_phase=sway[2],
            duration_s=duration,
        )

    @staticmethod
    def _draw_rep(
        rng: np.random.Generator, pat: PatientProfile, side: str, index: int, start: float, level: float
    ) -> Contraction:
        level *= _u(rng, (1 - pat.rep_scatter, 1 + pat.rep_scatter))
        rise = _u(rng, pat.jerky_rise_s) if rng.random() < pat.jerky_rise_prob else _u(rng, pat.rise_s)
        if rng.random() < pat.failed_hold_prob:
            hold = _u(rng, pat.failed_hold_s)
        else:
            hold = max(pat.failed_hold_s[1], float(rng.normal(pat.hold_mean_s, pat.hold_sd_s)))
        release = _u(rng, pat.release_s)
        decay = _u(rng, pat.decay_frac)
        dip_at = dip_depth = dip_w = 0.0
        if hold > 3.0 and rng.random() < pat.dip_prob:
            dip_w = _u(rng, pat.dip_width_s)
            dip_depth = _u(rng, pat.dip_depth)
            dip_at = rise + _u(rng, (1.0, hold - 1.0))
        fl = _sinusoids(rng, 4, (0.3, 3.0), _u(rng, pat.fluctuation_frac))
        tr = _sinusoids(rng, 3, (8.0, 12.0), _u(rng, pat.tremor_frac))
        return Contraction(
            "rep", side, index, start, rise, hold, release, level, decay, dip_at, dip_depth, dip_w,
            fl[0] + tr[0], fl[1] + tr[1], fl[2] + tr[2],
        )  # fmt: skip

    # -------------------------------------------------------------- evaluation

    def true_force_at(self, t_s: np.ndarray) -> np.ndarray:
        """The patient's force (N, net of the belt offset) at any times."""
        t = np.asarray(t_s, dtype=np.float64)
        out = np.zeros(t.shape)
        flat = t.ravel()
        ordered = flat.size < 2 or bool(np.all(flat[1:] >= flat[:-1]))
        res = out.ravel()
        for c in self.contractions:
            if ordered:
                a = int(np.searchsorted(flat, c.start_s, "left"))
                b = int(np.searchsorted(flat, c.end_s, "left"))
                if b > a:
                    res[a:b] += c.force(flat[a:b])
            else:
                m = (flat >= c.start_s) & (flat < c.end_s)
                if m.any():
                    res[m] += c.force(flat[m])
        return res.reshape(t.shape)

    def offset_at(self, t_s: np.ndarray) -> np.ndarray:
        """The belt's rest level (N): pre-tension + drift + steps + slow sway."""
        t = np.asarray(t_s, dtype=np.float64)
        out = self.offset0_n + self.drift_n_per_s * t
        if self.step_times_s:
            cum = np.concatenate(([0.0], np.cumsum(self.step_n)))
            out = out + cum[np.searchsorted(np.asarray(self.step_times_s), t, "right")]
        for f, a, ph in zip(self.sway_hz, self.sway_amp_n, self.sway_phase, strict=True):
            out = out + a * np.sin(2 * np.pi * f * t + ph)
        return out

    def force_at(self, t_s: np.ndarray) -> np.ndarray:
        """What a noise-free belt reads (N) at any device times; chunk-independent."""
        return self.offset_at(t_s) + self.true_force_at(t_s)

    def side_at(self, t_s: np.ndarray) -> np.ndarray:
        """'left'/'right' per time (the side being exercised)."""
        t = np.asarray(t_s, dtype=np.float64)
        times = np.array([c[0] for c in self.side_changes])
        names = np.array([c[1] for c in self.side_changes], dtype=object)
        return names[np.searchsorted(times, t, "right") - 1]

    @property
    def reps(self) -> tuple[Contraction, ...]:
        return tuple(c for c in self.contractions if c.kind == "rep")

    @property
    def twitches(self) -> tuple[Contraction, ...]:
        return tuple(c for c in self.contractions if c.kind == "twitch")

    @cached_property
    def truth(self) -> tuple[RepTruth, ...]:
        """Ground truth per rep, by the contract definitions on the noise-free force."""
        params = DetectorParams()
        out = []
        for c in self.reps:
            n = max(2, math.ceil((c.end_s - c.start_s) * TRUTH_RATE_HZ) + 1)
            tg = np.linspace(c.start_s, c.end_s, n)
            y = c.force(tg)
            plateau = plateau_of(y, params)
            hold, h0, h1 = longest_hold(tg, y, plateau, params)
            out.append(
                RepTruth(
                    side=c.side,
                    index=c.index,
                    onset_s=c.start_s,
                    release_s=c.end_s,
                    hold_s=hold,
                    hold_start_s=h0,
                    hold_end_s=h1,
                    plateau_n=plateau,
                    peak_n=float(y.max()),
                    baseline_n=float(self.offset_at(np.array([c.start_s]))[0]),
                    target_met=hold >= params.target_hold_s - params.target_tolerance_s,
                )
            )
        return tuple(out)

    def truth_lsi_pct(self) -> float | None:
        """Weaker/stronger x 100 on the best-3 mean true plateau (None with one side)."""
        best = {}
        for side in SIDES:
            p = sorted((r.plateau_n for r in self.truth if r.side == side), reverse=True)[:3]
            if not p:
                return None
            best[side] = float(np.mean(p))
        return 100.0 * min(best.values()) / max(best.values())


# ---------------------------------------------------------------------- recording


def white_noise(n: int, rng: np.random.Generator, sigma_n: float) -> np.ndarray:
    """Gaussian sensor noise (N); depends on the RNG's state, so draw it in sample order."""
    return rng.normal(0.0, sigma_n, n) if sigma_n > 0 else np.zeros(n)


def glitches(n: int, rng: np.random.Generator, prob: float, size_n: Range) -> np.ndarray:
    """Single-sample spikes (HX711 rail codes): mostly positive, some to zero-ish."""
    out = np.zeros(n)
    if prob <= 0:
        return out
    hit = np.flatnonzero(rng.random(n) < prob)
    out[hit] = rng.uniform(size_n[0], size_n[1], hit.size) * np.where(rng.random(hit.size) < 0.8, 1.0, -0.05)
    return out


def sample_times(duration_s: float, rate_hz: float, rng: np.random.Generator, jitter_frac: float = 0.0) -> np.ndarray:
    """Device timestamps at rate_hz from 0, each jittered by up to +-jitter_frac/2 periods."""
    n = math.floor(duration_s * rate_hz) + 1
    k = np.arange(n, dtype=np.float64)
    if jitter_frac > 0:
        k = k + rng.uniform(-jitter_frac / 2, jitter_frac / 2, n)
        k[0] = 0.0
    return k / rate_hz


def lost_packets(n_packets: int, rng: np.random.Generator, loss_prob: float, burst_len: float = 1.0) -> np.ndarray:
    """Boolean mask of lost packets: Bernoulli, or Gilbert-Elliott bursts of mean burst_len."""
    if loss_prob <= 0 or n_packets == 0:
        return np.zeros(n_packets, dtype=bool)
    if burst_len <= 1.0:
        return rng.random(n_packets) < loss_prob
    p_stay = 1.0 - 1.0 / burst_len
    p_enter = loss_prob / (burst_len * (1.0 - loss_prob))
    draws = rng.random(n_packets)
    lost = np.zeros(n_packets, dtype=bool)
    state = False
    for i in range(n_packets):
        state = draws[i] < (p_stay if state else p_enter)
        lost[i] = state
    return lost


@dataclass(frozen=True)
class SyntheticRecording:
    """Samples as the app receives them, with the script (and so the truth) behind them."""

    t_s: np.ndarray
    force_n: np.ndarray
    side: np.ndarray  # per-sample "left"/"right"
    packet_bounds: np.ndarray  # start index of each received packet, then len(t_s)
    rate_hz: float
    noise_n: float
    loss_prob: float
    script: SessionScript

    @property
    def truth(self) -> tuple[RepTruth, ...]:
        return self.script.truth

    def packets(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(t_s, force_n) per received packet, in order."""
        b = self.packet_bounds
        for i in range(b.size - 1):
            yield self.t_s[b[i] : b[i + 1]], self.force_n[b[i] : b[i + 1]]


def record(
    script: SessionScript,
    rate_hz: float,
    seed: int = 0,
    *,
    packet_samples: int | None = None,
    loss_prob: float = 0.0,
    burst_len: float = 1.0,
    jitter_frac: float = 0.0,
    noise_n: float | None = None,
    glitch_prob: float | None = None,
) -> SyntheticRecording:
    """Sample a script as the belt would: noise, glitches, packets, packet loss."""
    rng = np.random.default_rng([int(seed), int(script.seed), 0x5A3])
    t = sample_times(script.duration_s, rate_hz, rng, jitter_frac)
    n = t.size
    sigma = _u(rng, script.belt.noise_n) if noise_n is None else float(noise_n)
    f = script.force_at(t) + white_noise(n, rng, sigma)
    gp = script.belt.glitch_prob if glitch_prob is None else glitch_prob
    f = f + glitches(n, rng, gp, script.belt.glitch_n)
    per = packet_samples if packet_samples is not None else max(1, round(rate_hz * 0.02))
    starts = np.arange(0, n, per)
    lost = lost_packets(starts.size, rng, loss_prob, burst_len)
    lost[0] = False
    keep = np.ones(n, dtype=bool)
    for s in starts[lost]:
        keep[s : s + per] = False
    new_index = np.cumsum(keep) - 1
    kept_starts = new_index[starts[~lost]]
    bounds = np.concatenate((kept_starts, [int(keep.sum())])).astype(np.int64)
    return SyntheticRecording(
        t_s=t[keep],
        force_n=f[keep],
        side=script.side_at(t[keep]),
        packet_bounds=bounds,
        rate_hz=float(rate_hz),
        noise_n=sigma,
        loss_prob=float(loss_prob),
        script=script,
    )


RATES_HZ = (10.0, 25.0, 50.0, 80.0, 200.0, 1000.0)


def random_scenario(seed: int, rate_hz: float | None = None) -> SyntheticRecording:
    """One benchmark session: everything the issue lists, drawn from the seed.

    A third of the patients are weak (stronger side 18-28 N), the rest 40-250 N;
    LSI 60-100 % (so a weak patient's weaker side can be ~11 N);
    packets of 1-4 samples up to 80 Hz (20 ms of samples above), 0-10 % of them
    lost (some in bursts), timestamp jitter in a quarter, glitches in a fifth.
    """
    rng = np.random.default_rng([int(seed), 0xBE4C])
    rate = float(rng.choice(RATES_HZ)) if rate_hz is None else float(rate_hz)
    lsi = _u(rng, (0.6, 1.0))
    weak = rng.random() < 1 / 3
    strong = _u(rng, (18.0, 28.0)) if weak else _u(rng, (40.0, 250.0))
    left, right = (strong, strong * lsi) if rng.random() < 0.5 else (strong * lsi, strong)
    patient = PatientProfile(left_plateau_n=left, right_plateau_n=right)
    if weak:
        patient = replace(patient, twitch_n=(3.0, max(5.0, strong)))
    belt = BeltProfile(glitch_prob=float(rng.uniform(1e-4, 3e-3)) if rng.random() < 0.2 else 0.0)
    script = SessionScript.generate(int(rng.integers(1 << 31)), patient, belt)
    loss = _u(rng, (0.0, 0.10))
    burst = 1.0 if rng.random() < 0.7 else _u(rng, (1.5, 3.0))
    jitter = _u(rng, (0.0, 0.3)) if rng.random() < 0.25 else 0.0
    per = int(rng.integers(1, 5)) if rate <= 80 else max(1, round(rate * 0.02))
    return record(
        script, rate, int(rng.integers(1 << 31)), packet_samples=per, loss_prob=loss, burst_len=burst, jitter_frac=jitter
    )
