"""The therapist's caseload: patients' prescriptions, flags and progression advice (no Qt, no bleak)."""
