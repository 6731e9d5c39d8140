"""The virtual Tindeq Progressor: the bytes a real unit sends, from the patient model."""

from __future__ import annotations

import numpy as np
import pytest

from sensorapp.acquisition import progressor_protocol as pp
from sensorapp.simulation.patient import PatientProfile, VirtualPatient
from sensorapp.simulation.peripheral import BELT_PROFILE, profile_of
from sensorapp.simulation.virtual_belt import VirtualBelt, VirtualBeltConfig
from sensorapp.simulation.virtual_progressor import (
    PROGRESSOR_PROFILE,
    VirtualProgressor,
    VirtualProgressorConfig,
)

START, STOP, TARE = (bytes([op]) for op in (pp.Opcode.START_WEIGHT_MEAS, pp.Opcode.STOP_WEIGHT_MEAS, pp.Opcode.TARE_SCALE))


def unit(**config: object) -> tuple[VirtualProgressor, VirtualPatient]:
    patient = VirtualPatient(PatientProfile(seed=4))
    vp = VirtualProgressor(VirtualProgressorConfig(**config), force_fn=patient.force_at)  # type: ignore[arg-type]
    vp.connect(0)
    return vp, patient


def weights(notifications: list[tuple[str, bytes]]) -> list[pp.Weights]:
    out = []
    for uuid, value in notifications:
        assert uuid == pp.DATA_CHAR_UUID
        frame = pp.parse_frame(value)
        if frame.tag == pp.Tag.WEIGHT_MEASUREMENT:
            out.append(pp.decode_weights(frame.payload))
    return out


def test_frames_look_like_the_real_capture() -> None:
    vp, _ = unit()
    vp.write_control(START, 1_000_000)
    frames = weights(vp.advance(3_000_000))
    assert all(len(w.us) == 15 for w in frames) and len(frames) == 10  # one every 183.5 ms
    us = np.concatenate([w.us for w in frames])
    assert us[0] == 54_636  # the device clock restarted at START
    steps = np.diff(us)
    assert set(steps[np.arange(steps.size) % 15 != 14]) == {11_467}
    assert set(steps[np.arange(steps.size) % 15 == 14]) == {2 * 11_467}  # one empty slot between notifications
    assert 80 < (us.size - 1) / ((us[-1] - us[0]) / 1e6) < 83  # the real capture: 81.3 Hz


def test_weights_follow_the_patient_in_kg() -> None:
    vp, patient = unit(noise_kg=0.0)
    vp.write_control(START, 2_000_000)
    ws = weights(vp.advance(20_000_000))
    us = np.concatenate([w.us for w in ws])
    kg = np.concatenate([w.kg for w in ws])
    truth_n = patient.force_at((2_000_000 + us) / 1e6)
    np.testing.assert_allclose(kg * pp.STANDARD_GRAVITY, truth_n, rtol=1e-6, atol=1e-4)  # float32 on the wire
    assert kg.max() > 5  # the patient pressed during these 18 s


def test_notifications_do_not_depend_on_how_time_is_chopped() -> None:
    a, _ = unit(seed=7)
    b, _ = unit(seed=7)
    a.write_control(START, 0)
    b.write_control(START, 0)
    one = a.advance(5_000_000)
    many = [n for t in range(0, 5_000_001, 7_919) for n in b.advance(t)] + b.advance(5_000_000)
    assert one == many


def test_each_start_restarts_the_clock_and_stop_stops() -> None:
    vp, _ = unit()
    vp.write_control(START, 0)
    assert weights(vp.advance(1_000_000))
    vp.write_control(STOP, 1_000_000)
    assert vp.advance(2_000_000) == []
    vp.write_control(START, 2_000_000)
    assert weights(vp.advance(2_500_000))[0].us[0] == 54_636


def test_clock_wraps_at_2_32() -> None:
    vp, _ = unit(clock_start_us=2**32 - 100_000)
    vp.write_control(START, 0)
    us = np.concatenate([w.us for w in weights(vp.advance(1_000_000))])
    assert us.max() < 2**32 and np.any(np.diff(us) < 0)  # it wrapped inside the stream


def test_tare_only_while_streaming() -> None:
    vp, _ = unit(noise_kg=0.0, zero_offset_kg=1.5)
    vp.write_control(TARE, 100_000)  # not streaming: ignored
    assert vp.tare_offset_kg == 0.0
    vp.write_control(START, 200_000)
    vp.advance(1_500_000)
    vp.write_control(TARE, 1_500_000)  # the patient rests for the first 4 s
    kg = np.concatenate([w.kg for w in weights(vp.advance(3_000_000))])
    assert abs(float(np.median(kg))) < 0.05
    assert 1.5 < vp.tare_offset_kg < 1.5 + 1.0  # the zero offset plus the strap's pre-tension


def test_replies_and_silence() -> None:
    vp, _ = unit(battery_mv=3812, firmware="1.2.4", device_id=0x0123_4567_89AB)
    (battery,) = vp.write_control(bytes([pp.Opcode.GET_BATTERY_VOLTAGE]), 0)
    assert battery == (pp.DATA_CHAR_UUID, bytes([0, 4]) + (3812).to_bytes(4, "little"))
    (version,) = vp.write_control(bytes([pp.Opcode.GET_APP_VERSION]), 0)
    assert pp.parse_reply(pp.Opcode.GET_APP_VERSION, pp.parse_frame(version[1]).payload) == "1.2.4"
    (ident,) = vp.write_control(bytes([pp.Opcode.GET_PROGRESSOR_ID]), 0)
    assert pp.parse_frame(ident[1]).declared_len == 6  # trailing zero bytes omitted
    assert pp.parse_reply(pp.Opcode.GET_PROGRESSOR_ID, pp.parse_frame(ident[1]).payload) == 0x0123_4567_89AB
    assert vp.write_control(b"\x99", 0) == []  # unknown opcode: no answer
    assert vp.write_control(b"", 0) == []
    assert vp.name == "Progressor_89AB"
    with pytest.raises(KeyError):
        vp.read(pp.DATA_CHAR_UUID)


def test_low_battery_warns_then_switches_off() -> None:
    vp, _ = unit(low_battery_after_s=1.0)
    vp.write_control(START, 0)
    out = vp.advance(3_000_000)
    assert pp.parse_frame(out[-1][1]).tag == pp.Tag.LOW_BATTERY
    assert all(pp.parse_frame(v).tag == pp.Tag.WEIGHT_MEASUREMENT for _, v in out[:-1])
    assert vp.asleep and not vp.streaming
    assert vp.advance(4_000_000) == []


def test_disconnect_stops_measuring_and_packet_loss_is_seeded() -> None:
    vp, _ = unit(packet_loss=0.3, seed=2)
    vp.write_control(START, 0)
    n = len(vp.advance(10_000_000))
    assert 30 < n < 45  # of 54 notifications
    vp.disconnect(10_000_000)
    vp.connect(11_000_000)
    assert vp.advance(12_000_000) == []
    again, _ = unit(packet_loss=0.3, seed=2)
    again.write_control(START, 0)
    assert len(again.advance(10_000_000)) == n


def test_transports_read_the_gatt_profile() -> None:
    vp, _ = unit()
    belt = VirtualBelt(VirtualBeltConfig(), force_fn=lambda t: np.zeros_like(t))
    assert profile_of(vp) is PROGRESSOR_PROFILE and profile_of(belt) is BELT_PROFILE
    assert PROGRESSOR_PROFILE.advertised_uuids == ()  # like the real advertisement
    assert PROGRESSOR_PROFILE.control_uuid == pp.CONTROL_CHAR_UUID
