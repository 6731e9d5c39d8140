"""The virtual patient does every session the app starts, not only the first."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sensorapp.simulation.patient import PatientProfile, VirtualPatient


def test_a_session_started_before_the_first_press_keeps_the_schedule() -> None:
    patient = VirtualPatient(PatientProfile(seed=1))
    before = patient.force_at(np.arange(0, 60, 0.01))
    assert not patient.begin_session_at(patient.truth[0].onset_s - 0.5)
    np.testing.assert_array_equal(patient.force_at(np.arange(0, 60, 0.01)), before)
    assert patient.session_starts_s == (0.0,)


def test_a_new_session_after_the_first_is_done_again_from_its_start() -> None:
    profile = PatientProfile(seed=1)
    patient = VirtualPatient(profile)
    restart_s = patient.duration_s + 300.0  # the app sat on the summary for 5 minutes
    t_first = np.arange(0, restart_s, 0.01)
    first = patient.force_at(t_first)
    assert patient.begin_session_at(restart_s)
    # The first session is unchanged; from restart_s the patient does a fresh session.
    np.testing.assert_array_equal(patient.force_at(t_first), first)
    fresh = VirtualPatient(replace(profile, seed=profile.seed + 1000))
    t_second = restart_s + np.arange(0, fresh.duration_s, 0.01)
    np.testing.assert_allclose(patient.force_at(t_second), fresh.force_at(t_second - restart_s))
    truth = patient.truth_of_session(1)
    assert len(truth) == 14 and truth[0].onset_s == fresh.truth[0].onset_s + restart_s
    # It really presses: the force in the second session's first hold is well above rest.
    hold = (t_second > truth[0].hold_start_s) & (t_second < truth[0].hold_end_s)
    rest = t_second < truth[0].onset_s
    assert patient.force_at(t_second[hold]).mean() > patient.force_at(t_second[rest]).mean() + 40.0
    # Starting yet another session right away (before its first press) changes nothing.
    assert not patient.begin_session_at(restart_s + 1.0)
    assert patient.session_starts_s == (0.0, restart_s)
