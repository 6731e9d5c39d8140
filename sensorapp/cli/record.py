"""`sensorapp record`: stream calibrated force to a CSV and into the session store, headless.

The CSV is written as samples arrive and fsynced by the store's rule: once
half a second of wall time has passed, or once the unsynced samples cover
half a second of the source's pace (device time / ``--speed``), so a crash or
a kill loses at most about half a second of samples even when a starved
process receives a burst. The same samples go to the session store (see
``sensorapp.storage.recorder``) under the same rule; a killed recording is
recovered as an incomplete session the next time the store is opened, and
shows in `sensorapp sessions`.

The closing line counts what was written: its packets, lost packets and gaps
are those of the samples in the CSV (notifications that arrived after
``--duration`` was reached are not counted), so it agrees with the file.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from sensorapp.acquisition.blocks import SampleBlock
from sensorapp.devices.base import (
    BatteryChanged,
    DeviceError,
    ForceSource,
    LinkLost,
    LinkRestored,
    Reconnecting,
    SamplesReceived,
    SourceEvent,
    SourceFailed,
    StreamEnded,
)
from sensorapp.storage.errors import StorageError
from sensorapp.storage.samples_csv import SamplesCsvWriter

from .sources import add_source_arguments, source_from_args


def register(sub: Any) -> None:
    from . import positive_float

    p = sub.add_parser(
        "record",
        help="record calibrated force to a CSV (time_s,force_n,side)",
        description="Stream force from a belt, a Progressor, the simulated belt or a replay into a CSV.",
    )
    add_source_arguments(p, required=True)
    p.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds of device time (default: until Ctrl-C)")
    p.add_argument("--rate", type=rate_hz, metavar="HZ", help="sample rate in Hz, 10..1000 (default: the belt's default, 100 Hz)")
    p.add_argument("--side", choices=("left", "right"), help="label every sample with this side")
    p.add_argument("--tare", action="store_true", help="zero the belt at rest before recording (1 s; keep the leg relaxed)")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="where to write the samples")
    p.add_argument("--quiet", action="store_true", help="no live display, only the summary")
    p.add_argument(
        "--patient", metavar="REF",
        help="file the session under this patient: an id, an external id or a name (a new name creates the patient);"
        " the patient's prescription sets reps, hold, rest and the first side",
    )
    p.add_argument("--pain-before", type=pain_score, metavar="N", help="pain before the session, 0-10, stored with it")
    p.add_argument("--pain-after", type=pain_score, metavar="N", help="pain after the session, 0-10, stored with it")
    p.add_argument("--no-store", action="store_true", help="write only the CSV, not a session in the store")
    p.add_argument(
        "--lsl", action="store_true",
        help="also stream to Lab Streaming Layer: a Force stream (N, device-clock timestamps) and a Markers stream (see docs/interop.md)",
    )
    p.add_argument(
        "--lsl-wait", type=positive_float, metavar="S",
        help=f"wait up to S seconds for an LSL inlet before streaming (default {LSL_WAIT_S:g} s; implies --lsl)",
    )
    from .sessions import add_data_dir_argument

    add_data_dir_argument(p)
    p.set_defaults(func=run)


def pain_score(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0 to 10") from None
    if not 0 <= value <= 10:
        raise argparse.ArgumentTypeError(f"{value} is outside the 0-10 pain scale")
    return value


def rate_hz(text: str) -> int:
    from firmware_protocol.codec import MAX_RATE_HZ, MIN_RATE_HZ

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of Hz") from None
    if not MIN_RATE_HZ <= value <= MAX_RATE_HZ:
        raise argparse.ArgumentTypeError(f"{value} Hz is outside {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz")
    return value


class LiveDisplay:
    """One status line, redrawn in place on a terminal, every few seconds otherwise."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.interval_s = 0.25 if self.tty else 5.0
        self._last = 0.0
        self._line_open = False

    def status(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.interval_s):
            return
        self._last = now
        if self.tty:
            self.stream.write("\r" + text.ljust(100)[:100])
            self._line_open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self._line_open = False


# An inlet already looking for the stream finds it within about a second; waiting this long for one
# means it gets every sample, and without one the recording starts only this much later.
LSL_WAIT_S = 2.0
SYNC_SPAN_S = 0.5  # seconds of the source's pace a crash may lose (device seconds / speed)


@dataclass
class WrittenStats:
    """Packet accounting of what went into the CSV (the closing line's figures)."""

    packets: int = 0
    lost_packets: int = 0
    gaps: int = 0
    gap_time_s: float = 0.0
    first_t_s: float = math.nan
    last_t_s: float = math.nan

    @property
    def span_s(self) -> float:
        return self.last_t_s - self.first_t_s if self.packets else 0.0


class Recording:
    """Writes blocks until the device-time duration is reached."""

    def __init__(
        self,
        writer: SamplesCsvWriter,
        source: ForceSource,
        duration_s: float | None,
        side: str,
        display: LiveDisplay,
        recorder: Any = None,
        sync_span_s: float = SYNC_SPAN_S,
        guide: Any = None,
    ) -> None:
        self.writer = writer
        # A two-sided recording follows the GUI's session model (sensorapp.session.guided.GuidedSession): the
        # first side from the protocol, the turn-over after that side's reps, so samples and reps get their side.
        self.guide = guide
        self.recorder = recorder  # a sensorapp.storage SessionRecorder, or None with --no-store
        self.source = source
        self.duration_s = duration_s
        self.side = side
        self.display = display
        self.done = asyncio.Event()
        self.failure: str | None = None
        self.battery: int | None = None
        self.write_error: OSError | None = None
        self.written = WrittenStats()
        self.sync_span_s = sync_span_s  # device seconds of unsynced CSV rows that force an fsync
        self._synced_t_s = -math.inf
        self.lsl: Any = None  # a sensorapp.interop.lsl.LslRecording with --lsl: gets exactly the rows written

    def on_event(self, event: SourceEvent) -> None:
        if isinstance(event, SamplesReceived):
            self._write(event.block)
        elif isinstance(event, LinkLost):
            self.display.message(f"link lost: {event.reason}; reconnecting...")
            if self.guide is not None:
                self.guide.link_lost()
            self._flush_store()
        elif isinstance(event, Reconnecting):
            self.display.status(f"reconnecting (attempt {event.attempt})...", force=True)
        elif isinstance(event, LinkRestored):
            if self.guide is not None:
                self.guide.link_restored()
            self.display.message(
                f"link restored after {event.outage_s:.1f} s ({event.attempts} attempt(s)); the missing stretch is recorded as a gap, not filled in"
            )
        elif isinstance(event, BatteryChanged):
            self.battery = event.percent
        elif isinstance(event, SourceFailed):
            self.failure = event.message
            self.done.set()
        elif isinstance(event, StreamEnded):
            self.display.message(event.reason)
            self.done.set()

    def _side_now(self) -> str:
        """The side these samples belong to: --side, else the session's side while it runs (as the GUI labels them)."""
        guide = self.guide
        if guide is None:
            return self.side
        return str(guide.side) if guide.active and not guide.paused else ""

    def _follow_guide(self, t_s: np.ndarray, force_n: np.ndarray) -> None:
        guide = self.guide
        if guide is None or guide.finished:
            return
        side_before, reps_before = guide.side, len(guide.reps[guide.side])
        guide.feed(t_s, force_n)
        if guide.side != side_before:
            self.display.message(f"{side_before} side: {reps_before + 1} reps done; turning over to the {guide.side} side")
        elif guide.finished:
            done = ", ".join(f"{len(guide.reps[s])} {s}" for s in guide.protocol.sides)
            self.display.message(f"session done: {done} reps; later samples are stored without a side")

    def _count(self, block: SampleBlock, written_t_s: np.ndarray) -> None:
        w = self.written
        if w.packets:  # a hole before the first written sample is no hole in the file
            w.lost_packets += block.lost_packets_before
            if block.gap_before_s > 0:
                w.gaps += 1
                w.gap_time_s += block.gap_before_s
        else:
            w.first_t_s = float(written_t_s[0])
        w.packets += 1
        w.last_t_s = float(written_t_s[-1])

    def _sync_csv(self) -> None:
        """fsync the CSV now: a starved process that got a burst must not hold seconds of it unsynced."""
        # SamplesCsvWriter syncs by wall time on its own; this adds the device-time rule the store uses
        self.writer.sync()
        self._synced_t_s = self.written.last_t_s

    def _flush_store(self) -> None:
        """Commit what the store has buffered now: the stream may be quiet for a while."""
        if self.recorder is not None and not self.recorder.closed:
            try:
                self.recorder.flush()
            except StorageError as exc:
                self.failure = f"session store: {exc}"
                self.done.set()

    def _write(self, block: SampleBlock) -> None:
        if self.done.is_set():
            return
        t_s, force_n = block.t_s, block.force_n
        if self.duration_s is not None and t_s.size and t_s[-1] >= self.duration_s:
            keep = t_s < self.duration_s
            t_s, force_n = t_s[keep], force_n[keep]
            self.done.set()
        if not t_s.size:
            return
        side = self._side_now()
        try:
            self.writer.write(t_s, force_n, side)
            self._count(block, t_s)
            if t_s[-1] - self._synced_t_s >= self.sync_span_s:
                self._sync_csv()
        except OSError as exc:
            self.write_error = exc
            self.failure = f"cannot write {self.writer.path}: {exc.strerror or exc}"
            self.done.set()
            return
        if self.recorder is not None:
            try:
                self.recorder.set_side(side or None)
                self.recorder.add_samples(t_s, force_n)
            except StorageError as exc:
                self.failure = f"session store: {exc}"
                self.done.set()
                return
        if self.lsl is not None:
            if side:
                self.lsl.set_side(side, float(t_s[0]))
            self.lsl.feed(t_s, force_n, block.received_at or None)
        self._follow_guide(t_s, force_n)
        st = self.source.stats
        pct = 100.0 * st.lost_packets / max(1, st.packets + st.lost_packets)
        battery = f"  battery {self.battery}%" if self.battery is not None else ""
        self.display.status(
            f"{st.last_t_s:8.2f} s  {st.last_force_n:8.1f} N  packets {st.packets}  lost {st.lost_packets} ({pct:.2f}%)"
            f"  gaps {len(st.gaps)}  {st.rate_hz:.0f} Hz{battery}"
        )


async def _record(args: argparse.Namespace) -> int:
    from . import fail

    out = Path(args.out)
    if out.parent and not out.parent.exists():
        fail(f"the folder {out.parent} does not exist")
    if args.no_store and (args.pain_before is not None or args.pain_after is not None):
        fail("--pain-before and --pain-after are stored with the session: drop --no-store", 2)
    display = LiveDisplay(sys.stderr, args.quiet)
    store = None
    patient_id: int | None = None
    prescription = None
    if not args.no_store:
        from .sessions import open_store_from_args

        store = open_store_from_args(args)
        try:
            known = _known_patient(store, args.patient)
            prescription = store.prescription(known.id) if known is not None else None
        except StorageError as exc:
            store.close()
            fail(str(exc))
    try:
        # Checked before anything is written: a prescription the session model cannot run is refused up front.
        guide = None if args.side else _guided_session(prescription)
    except ValueError as exc:
        if store is not None:
            store.close()
        fail(f"the patient's prescription cannot run a guided session here ({exc}); change it with sensorapp prescribe")
    try:
        source = await source_from_args(args, patient_profile=_virtual_patient(args, prescription))
    except (DeviceError, ValueError) as exc:
        if store is not None:
            store.close()
        fail(str(exc), 2 if isinstance(exc, ValueError) else 1)
    if store is not None:
        try:
            patient_id = known.id if known is not None else _new_patient_id(store, args.patient)
        except StorageError as exc:
            store.close()
            fail(str(exc))
        if prescription is not None:
            display.message(f"prescription: {prescription.describe()}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows
            pass
    writer: SamplesCsvWriter | None = None
    recorder = None
    try:
        display.message(f"connecting to {getattr(source, 'name', 'the source')}...")
        await source.connect()
        info = source.info
        if info is not None:
            display.message(f"connected: {info.name} {info.model} {info.serial} firmware {info.firmware or '-'}; calibration {info.calibration}")
        if args.tare:
            removed = await source.tare()
            display.message(f"tared: {removed:.2f} N removed")
        # at --speed X, half a second of the source's pace is X/2 s of device time
        pace_span_s = SYNC_SPAN_S * (args.speed if args.simulate or args.replay else 1.0)
        try:
            writer = SamplesCsvWriter(out).open()
        except OSError as exc:
            fail(str(exc))
        if store is not None:
            try:
                recorder = store.begin_session(
                    commit_span_s=pace_span_s,
                    patient_id=patient_id,
                    prescription=prescription,
                    device=info,
                    calibration={"note": info.calibration if info else "", **_calibration_fields(source)},
                    side=args.side,
                )
                if args.pain_before is not None:  # asked before the session: kept even if it is interrupted
                    store.set_pain(recorder.session_id, before=args.pain_before)
            except StorageError as exc:
                fail(f"session store: {exc}")
        rec = Recording(writer, source, args.duration, args.side or "", display, recorder, sync_span_s=pace_span_s, guide=guide)
        source.subscribe(rec.on_event)
        if args.lsl or args.lsl_wait:
            rec.lsl = await _open_lsl(args, source, display)
        started = time.monotonic()
        await source.start_stream(args.rate)
        waiter = asyncio.ensure_future(rec.done.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        elapsed = time.monotonic() - started
    except DeviceError as exc:
        await _safe_disconnect(source)
        _discard_if_empty(writer)
        _end_session(recorder, complete=False, reason=f"device error: {exc}")
        fail(str(exc))
    try:
        await asyncio.wait_for(source.disconnect(), 10.0)
    except (TimeoutError, DeviceError):
        pass
    if rec.lsl is not None:
        await _close_lsl(rec.lsl, display)
    try:
        writer.close()
    except OSError as exc:
        fail(f"cannot finish {out}: {exc.strerror or exc}")
    display.close()
    stored, store_ok = _end_session(
        recorder,
        complete=rec.failure is None,
        reason="finished" if rec.failure is None else rec.failure,
    )
    if store is not None:
        if recorder is not None and store_ok and stored and args.pain_after is not None:
            try:
                store.set_pain(recorder.session_id, after=args.pain_after)
            except StorageError as exc:
                stored, store_ok = f"session store: the pain after the session was not saved: {exc}", False
        store.close()
    st = source.stats
    w = rec.written
    rows = writer.rows_written
    lost_pct = 100.0 * w.lost_packets / max(1, w.packets + w.lost_packets)
    print(
        f"recorded {rows} samples ({w.span_s:.1f} s of device time in {elapsed:.1f} s) to {out}; "
        f"packets {w.packets}, lost {w.lost_packets} ({lost_pct:.2f}%), gaps {w.gaps} ({w.gap_time_s:.2f} s), "
        f"malformed {st.malformed_packets}, reconnects {st.reconnects}",
        file=sys.stderr,
    )
    if stored and store_ok:
        print(stored, file=sys.stderr)
    if rec.failure:
        fail(f"{rec.failure}; {rows} samples were saved to {out}")
    if not store_ok:
        fail(f"{stored}; the {rows} samples are in {out}")
    return 0


async def _open_lsl(args: argparse.Namespace, source: ForceSource, display: LiveDisplay) -> Any:
    """The LSL outlets for this source (named after it, source_id = its serial), after an optional wait for an inlet."""
    from sensorapp.interop.lsl import LslOutlet, LslRecording, LslUnavailableError

    from . import fail

    info = source.info
    capabilities = getattr(source, "capabilities", None)
    rate = args.rate or (info.rate_hz if info else None) or getattr(capabilities, "default_rate_hz", None)
    name = info.name if info else getattr(source, "name", "force")
    try:
        outlet = LslOutlet(name, info.serial if info else "", rate, model=info.model if info else "")
    except (LslUnavailableError, RuntimeError) as exc:
        fail(str(exc).splitlines()[0] if str(exc) else "Lab Streaming Layer could not open its outlet")
    display.message(f"LSL: streaming {outlet.name!r} (type Force, {rate or 'irregular'} Hz) and {outlet.name + ' markers'!r} (type Markers)")
    wait_s = args.lsl_wait or LSL_WAIT_S
    deadline = time.monotonic() + wait_s
    while not outlet.have_consumers() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    display.message("LSL: an inlet is connected" if outlet.have_consumers() else f"LSL: no inlet after {wait_s:g} s; streaming anyway")
    return LslRecording(outlet, side=args.side)


async def _close_lsl(lsl: Any, display: LiveDisplay) -> None:
    """Last markers, then give connected inlets time to pull what they have before the outlets go."""
    from sensorapp.interop.lsl import CLOSE_LINGER_S

    lsl.finish()
    if lsl.outlet.have_consumers():
        await asyncio.sleep(CLOSE_LINGER_S)
    lsl.outlet.close()
    display.message(f"LSL: {lsl.outlet.samples_pushed} samples and {lsl.outlet.markers_pushed} markers sent")


def _known_patient(store: Any, ref: str | None) -> Any:
    """The patient ``ref`` names (an id, an external id or a unique name); None without it or for a name nobody has."""
    from sensorapp.storage.errors import PatientNotFoundError

    if ref is None:
        return None
    try:
        return store.resolve_patient(ref)
    except PatientNotFoundError as exc:
        # Only a name nobody has is new; a number, or a name several patients share, is an error.
        if store.find_patients(ref) or ref.strip().isdigit():
            raise StorageError(f"--patient: {exc}") from None
    return None


def _new_patient_id(store: Any, name: str | None) -> int | None:
    """A new patient called ``name`` (a name nobody has: see _known_patient), or None without a name."""
    if name is None:
        return None
    try:
        return int(store.add_patient(name).id)
    except ValueError as exc:
        raise StorageError(f"--patient: {exc}") from None


def _virtual_patient(args: argparse.Namespace, prescription: Any) -> Any:
    """With --simulate and a prescription, a virtual patient who does what it prescribes (else None: the default one)."""
    if not args.simulate or prescription is None:
        return None
    from sensorapp.simulation.patient import PatientProfile

    default = PatientProfile()
    return PatientProfile(
        seed=args.seed,
        first_side=prescription.first_side,
        reps_per_side=prescription.reps_per_side,
        # As the default patient does against the default protocol: hold a little past the cue, wait for the rest cue.
        hold_s=prescription.hold_s + (default.hold_s - 6.0),
        rest_s=prescription.rest_s + (default.rest_s - 8.0),
    )


def _guided_session(prescription: Any) -> Any:
    """The GUI's session model for a two-sided recording: reps, hold, rest and first side from the prescription."""
    from sensorapp.session.guided import ExerciseProtocol, GuidedSession, protocol_from_prescription

    protocol = ExerciseProtocol(rest_s=10.0)  # SessionProtocol's default rest, what the store records without a prescription
    if prescription is not None:
        # ValueError for what the session model cannot run (e.g. more than 30 reps)
        protocol = protocol_from_prescription(prescription, protocol)
    session = GuidedSession(protocol)
    session.start()  # headless: the patient starts when the recording does
    return session


def _calibration_fields(source: ForceSource) -> dict[str, Any]:
    """The calibration the source applied (a LinearCalibration on belts), as plain fields."""
    import dataclasses

    cal = getattr(source, "calibration", None)
    if cal is not None and dataclasses.is_dataclass(cal) and not isinstance(cal, type):
        return dataclasses.asdict(cal)
    return {}


def _end_session(recorder: Any, *, complete: bool, reason: str) -> tuple[str, bool]:
    """Close the store's session: (a line for the summary, whether the store took it). An empty session is not kept."""
    if recorder is None or recorder.closed:
        return "", True
    try:
        if recorder.samples_committed + recorder.samples_pending == 0:
            recorder.discard()
            return "", True
        record = recorder.finish(complete=complete, reason=reason)
    except StorageError as exc:
        return f"session store: {exc}; the session will be recovered as incomplete the next time the store is opened", False
    state = "complete" if record.complete else "incomplete"
    return f"saved as session {record.id} ({state}, {record.rep_count} reps) in {recorder.store_path}", True


def _discard_if_empty(writer: SamplesCsvWriter | None) -> None:
    """An output file that got no samples is noise: remove it."""
    if writer is None:
        return
    writer.close()
    if writer.rows_written == 0:
        writer.path.unlink(missing_ok=True)


async def _safe_disconnect(source: ForceSource) -> None:
    try:
        await asyncio.wait_for(source.disconnect(), 5.0)
    except (TimeoutError, DeviceError):
        pass


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_record(args))
