"""Glue between the device layer, the guided session and the screens.

Device events arrive on the asyncio loop, which qasync runs in Qt's thread, so
they are handled directly: samples go into the ring buffer (for the plot) and
the guided session (for the detector). Screens pull from both on their display
timers. Only low-rate changes (connection, battery, link state) are Qt signals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from sensorapp.acquisition.ring_buffer import MirroredRing
from sensorapp.clinic.prescription import Prescription
from sensorapp.devices.base import (
    BatteryChanged,
    DeviceDescriptor,
    DeviceError,
    ForceSource,
    LinkLost,
    LinkRestored,
    LinkStateChanged,
    Reconnecting,
    SamplesReceived,
    SourceEvent,
    SourceFailed,
    StreamEnded,
)
from sensorapp.session.guided import ExerciseProtocol, GuidedSession, Phase
from sensorapp.settings import LastBelt, Settings
from sensorapp.signal.detector import OnlineRepDetector
from sensorapp.storage import SessionRecorder, SessionStore, StorageError
from sensorapp.storage.records import Patient

log = logging.getLogger(__name__)

RING_SECONDS = 30.0
MAX_RATE_HZ = 1000


class AppController(QObject):
    connection_changed = Signal()  # connected, disconnected, or the source changed
    link_state_changed = Signal(str)
    battery_changed = Signal(int)
    message = Signal(str)  # one-line status for the user
    error = Signal(str)
    session_started = Signal()
    session_finished = Signal()
    history_changed = Signal()  # a session was saved or imported
    settings_changed = Signal()  # units, sound, large text: screens re-read self.settings
    patient_changed = Signal()  # the patient picked for the next session
    prescription_changed = Signal()  # a patient's prescription was edited

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        simulation_speed: float = 1.0,
        simulation_seed: int = 1,
        simulation_extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        # None: defaults kept in memory only (tests, probes); a loaded Settings is saved on every change.
        self.persist_settings = settings is not None
        self.settings = settings if settings is not None else Settings()
        self.simulation_speed = simulation_speed
        self.simulation_seed = simulation_seed
        self.simulation_extra = simulation_extra or {}  # more SimulationOptions fields (tests: link drops)
        self.source: ForceSource | None = None
        self.descriptor: DeviceDescriptor | None = None
        self.ring = MirroredRing(int(RING_SECONDS * MAX_RATE_HZ))
        self.session: GuidedSession | None = None
        self.protocol = ExerciseProtocol()
        self.battery_pct: int | None = None
        self.link_state = "disconnected"
        self.last_force_n = float("nan")
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._finished_emitted = False
        self.store: SessionStore | None = None
        self.store_error: str | None = None
        self.recorder: SessionRecorder | None = None
        self.patient_name = self.settings.patient_name or "Patient"
        # The picked patient's id, remembered between runs (settings.last_patient holds it as text);
        # a typed name that matches no patient creates one.
        self.patient_id: int | None = _int_or_none(self.settings.last_patient)
        # Ask 0-10 pain before and after each session; off without a settings file (tests, scripted runs) unless set.
        self.pain_prompts = self.persist_settings and self.settings.pain_prompts
        self.pain_before: int | None = None  # the answer to the prompt before the session, stored once it begins
        self.last_saved_session_id: int | None = None
        self._commit_timer = QTimer(self)
        self._commit_timer.setInterval(500)
        self._commit_timer.timeout.connect(self._commit_due)
        self.lsl_enabled = False  # the "Stream to LSL" toggle; the outlet exists while connected
        self.lsl: Any = None  # a sensorapp.interop.lsl.LslRecording

    # ------------------------------------------------------------ store

    def open_store(self, data_dir: str | None = None) -> list[int]:
        """Open the session store; returns sessions recovered from a crash.

        Without a store the app still runs: sessions can be exported to CSV.
        """
        try:
            self.store = SessionStore.open(data_dir)
        except StorageError as exc:
            self.store = None
            self.store_error = str(exc)
            return []
        return list(self.store.recovered_session_ids)

    def announce_store(self, recovered: list[int]) -> None:
        """Tell the user about the store once the window listens."""
        if self.store is None:
            self.error.emit(f"Sessions will not be saved: {self.store_error}")
        elif recovered:
            self.message.emit(f"Recovered {len(recovered)} interrupted session(s); they are in History, marked incomplete.")

    def close_store(self) -> None:
        self._finish_recording(complete=False, reason="app closed")
        if self.store is not None:
            self.store.close()
            self.store = None

    def _patient_id(self) -> int | None:
        assert self.store is not None
        name = self.patient_name.strip() or "Patient"
        if self.patient_id is not None:
            try:
                picked = self.store.patient(self.patient_id)
            except StorageError:
                picked = None
            if picked is not None and picked.name == name:
                return picked.id
        found = self.store.find_patients(name)
        patient = found[0] if found else self.store.add_patient(name)
        self._remember_patient(patient.id, patient.name)
        return patient.id

    def current_patient(self) -> Patient | None:
        """The patient picked for the next session, if it is still in the store."""
        if self.store is None or self.patient_id is None:
            return None
        try:
            patient = self.store.patient(self.patient_id)
        except StorageError:
            return None
        return patient if patient.name == self.patient_name else None

    def current_prescription(self) -> Prescription | None:
        patient = self.current_patient()
        if patient is None or self.store is None:
            return None
        return self.store.prescription(patient.id)

    def select_patient(self, patient: Patient) -> None:
        """The next session is this patient's, under their current prescription."""
        self._remember_patient(patient.id, patient.name)
        self.patient_changed.emit()

    def _remember_patient(self, patient_id: int | None, name: str) -> None:
        self.patient_id = patient_id
        self.patient_name = name
        self.settings.patient_name = name
        self.settings.last_patient = str(patient_id) if patient_id is not None else None
        self.save_settings()

    def record_pain(self, session_id: int | None, *, before: int | None = None, after: int | None = None) -> bool:
        """Store an answer to the pain prompt; False (and a one-line error) when it cannot be stored."""
        if self.store is None or session_id is None:
            return False
        try:
            if before is not None:
                self.store.set_pain(session_id, before=before)
            if after is not None:
                self.store.set_pain(session_id, after=after)
        except (StorageError, ValueError) as exc:
            self.error.emit(f"Could not save the pain rating: {exc}")
            return False
        self.history_changed.emit()
        return True

    def _begin_recording(self, session: GuidedSession) -> None:
        before, self.pain_before = self.pain_before, None  # this session's answer only, even if it is not saved
        if self.store is None or self.source is None:
            return
        source = self.source
        calibration = getattr(source, "calibration", None)
        try:
            patient_id = self._patient_id()
            self.recorder = self.store.begin_session(
                patient_id=patient_id,
                protocol=session.protocol.as_dict(),
                device=source.info,
                calibration=calibration,
                side=None,
                prescription=self.store.prescription(patient_id) if patient_id is not None else None,
            )
        except (StorageError, ValueError) as exc:
            self.recorder = None
            self.error.emit(f"This session will not be saved: {exc}")
            return
        self._commit_timer.start()
        if before is not None:
            self.record_pain(self.recorder.session_id, before=before)

    def _commit_due(self) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.flush_if_due()
        except StorageError as exc:
            self.error.emit(f"Saving samples failed ({exc}); retrying. Nothing is lost while the app runs.")

    def _finish_recording(self, *, complete: bool, reason: str) -> None:
        recorder, self.recorder = self.recorder, None
        self._commit_timer.stop()
        if recorder is None or recorder.closed:
            return
        try:
            record = recorder.finish(complete=complete, reason=reason, params=self.protocol.detector_params())
        except StorageError as exc:
            self.error.emit(f"Could not finish saving the session ({exc}); it will be recovered at the next start.")
            return
        self.last_saved_session_id = record.id
        self.history_changed.emit()

    # ------------------------------------------------------------ async helpers

    def run(self, coro: Awaitable[Any], what: str) -> asyncio.Task[Any]:
        """Run a coroutine on the loop; report a DeviceError as one line."""

        async def guarded() -> Any:
            try:
                return await coro
            except DeviceError as exc:
                self.error.emit(str(exc))
            except Exception as exc:  # a bug: log it, tell the user what failed
                log.exception("%s failed", what)
                self.error.emit(f"{what} failed: {exc}")
            return None

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------ devices

    @property
    def connected(self) -> bool:
        return self.source is not None and self.link_state in ("connected", "streaming", "reconnecting")

    def simulated_descriptor(self) -> DeviceDescriptor:
        return DeviceDescriptor("simulated", "simulated", "Simulated belt (virtual patient)", None)

    async def scan(self, timeout_s: float = 4.0) -> list[DeviceDescriptor]:
        from sensorapp.devices.scan import scan

        return await scan(timeout_s)

    async def connect_to(self, descriptor: DeviceDescriptor, rate_hz: int | None = None) -> None:
        await self.disconnect()
        from sensorapp.devices.registry import open_source

        if descriptor.kind == "simulated" and descriptor.address == "simulated":
            from sensorapp.devices.simulated import SimulationOptions, start_simulation

            descriptor = start_simulation(
                SimulationOptions(speed=self.simulation_speed, seed=self.simulation_seed, **self.simulation_extra)
            )
        source = open_source(descriptor)
        self._unsubscribe = source.subscribe(self._on_event)
        self.source = source
        self.descriptor = descriptor
        self.message.emit(f"Connecting to {descriptor.name}\u2026")
        try:
            await source.connect()
            await source.start_stream(rate_hz)
        except BaseException:
            self._detach()
            self.connection_changed.emit()
            raise
        self.ring.clear()
        if self.lsl_enabled:
            self._open_lsl()
        self._remember(descriptor)
        info = source.info
        self.message.emit(f"Connected to {info.name if info else descriptor.name}")
        self.connection_changed.emit()

    async def disconnect(self) -> None:  # type: ignore[override]  # the belt, not QObject.disconnect (a signal API never called on us)
        source = self.source
        if source is None:
            return
        try:
            await source.disconnect()
        finally:
            self._detach()
            self.link_state = "disconnected"
            self.connection_changed.emit()
            self.link_state_changed.emit(self.link_state)

    def _detach(self) -> None:
        self._close_lsl()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.source = None

    async def tare(self) -> float | None:
        if self.source is None:
            return None
        removed = await self.source.tare()
        self.message.emit(f"Zeroed: {removed:.1f} N removed")
        return removed

    def _remember(self, descriptor: DeviceDescriptor) -> None:
        if descriptor.kind != "simulated":
            self.settings.last_belt = LastBelt(descriptor.kind, descriptor.address, descriptor.name)
            self.save_settings()

    def last_device(self) -> DeviceDescriptor | None:
        belt = self.settings.last_belt
        return DeviceDescriptor(belt.kind, belt.address, belt.name) if belt is not None else None

    # ------------------------------------------------------------ settings

    def save_settings(self) -> None:
        """Write the settings file (when this controller owns one); a failure is one line in the status strip."""
        if not self.persist_settings:
            return
        problem = self.settings.save_quietly()
        if problem is not None:
            self.error.emit(problem)

    def apply_settings(self) -> None:
        """The settings dialog changed something: save, and let the screens redraw in the new units and text size."""
        self.pain_prompts = self.persist_settings and self.settings.pain_prompts
        self.save_settings()
        self.settings_changed.emit()

    # ------------------------------------------------------------ Lab Streaming Layer

    def set_lsl_enabled(self, enabled: bool) -> bool:
        """Stream force and markers to LSL while connected; returns whether it is on (False if LSL failed)."""
        self.lsl_enabled = enabled
        if not enabled:
            self._close_lsl()
        elif self.source is not None and self.lsl is None:
            self._open_lsl()
        return self.lsl_enabled

    def _open_lsl(self) -> None:
        from sensorapp.interop.lsl import LslOutlet, LslRecording, LslUnavailableError

        info = self.source.info if self.source is not None else None
        name = info.name if info else (self.descriptor.name if self.descriptor else "force")
        try:
            outlet = LslOutlet(name, info.serial if info else "", info.rate_hz if info else None, model=info.model if info else "")
        except (LslUnavailableError, RuntimeError) as exc:
            self.lsl_enabled = False
            self.error.emit(str(exc).splitlines()[0] if str(exc) else "Lab Streaming Layer could not start")
            return
        session = self.session
        side = session.side if session is not None and session.active else None
        self.lsl = LslRecording(outlet, side=side, detector=OnlineRepDetector(self.protocol.detector_params(), side=side))
        self.message.emit(f"Streaming to LSL as '{outlet.name}' (type Force) with markers")

    def _close_lsl(self) -> None:
        lsl, self.lsl = self.lsl, None
        if lsl is not None:
            lsl.close()

    # ------------------------------------------------------------ events

    def _on_event(self, event: SourceEvent) -> None:
        if isinstance(event, SamplesReceived):
            block = event.block
            self.ring.write(block.t_s, block.force_n)
            self.last_force_n = float(block.force_n[-1])
            session = self.session
            if session is not None and not session.finished:
                if self.recorder is not None:
                    # The side in effect when the samples arrive, as the session's own log labels them.
                    self.recorder.set_side(session.side if session.active and not session.paused else None)
                    try:
                        self.recorder.add_block(block)
                    except StorageError as exc:
                        self.error.emit(f"Saving samples failed ({exc}); retrying.")
                session.feed(block.t_s, block.force_n)
                if session.finished and not self._finished_emitted:
                    self._session_over()
            if self.lsl is not None:
                if session is not None and session.active:
                    self.lsl.set_side(session.side, float(block.t_s[0]))
                self.lsl.feed(block.t_s, block.force_n, block.received_at or None)
        elif isinstance(event, LinkStateChanged):
            self.link_state = event.state.value
            self.link_state_changed.emit(self.link_state)
        elif isinstance(event, LinkLost):
            if self.session is not None:
                self.session.link_lost()
            self.message.emit("Lost the belt. Reconnecting\u2026")
        elif isinstance(event, Reconnecting):
            self.message.emit(f"Reconnecting (attempt {event.attempt})\u2026")
        elif isinstance(event, LinkRestored):
            if self.session is not None:
                self.session.link_restored()
            self.message.emit(f"Belt back after {event.outage_s:.0f} s. Carry on.")
        elif isinstance(event, BatteryChanged):
            self.battery_pct = event.percent
            self.battery_changed.emit(event.percent)
        elif isinstance(event, StreamEnded):
            self.message.emit(event.reason)
        elif isinstance(event, SourceFailed):
            if self.session is not None:
                self.session.link_restored()
            self.error.emit(event.message)
            self._detach()
            self.link_state = "disconnected"
            self.connection_changed.emit()

    # ------------------------------------------------------------ session

    def new_session(self, protocol: ExerciseProtocol | None = None) -> GuidedSession:
        if protocol is not None:
            self.protocol = protocol
        self.session = GuidedSession(self.protocol)
        self._finished_emitted = False
        return self.session

    def start_session(self) -> None:
        if self.session is None or self.session.finished:
            self.new_session()
        assert self.session is not None
        self.session.start()
        self._begin_recording(self.session)
        self.session_started.emit()

    def abort_session(self) -> None:
        if self.session is not None and not self.session.finished:
            self.session.abort()
            self._session_over()

    def _session_over(self) -> None:
        self._finished_emitted = True
        done = self.session is not None and self.session.phase == Phase.DONE
        self._finish_recording(complete=done, reason="finished" if done else "stopped early")
        self.session_finished.emit()

    def set_patient(self, name: str) -> None:
        """A typed name: the picked patient if it is theirs, else the first patient so called (or a new one at the start)."""
        name = name.strip() or "Patient"
        if name == self.patient_name and self.current_patient() is not None:
            return
        match = self.store.find_patients(name) if self.store is not None else []
        self._remember_patient(match[0].id if match else None, match[0].name if match else name)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
