"""The therapist's caseload: prescriptions, flags and progression advice (no Qt, no bleak)."""
