"""The therapist's PDF report as plain data (no Qt): what the renderer in ``sensorapp.ui.report_pdf`` draws."""

from .model import (
    ForceTrace,
    Report,
    ReportError,
    ReportHeader,
    SessionRow,
    TraceRep,
    build_patient_report,
    build_session_report,
)

__all__ = [
    "ForceTrace",
    "Report",
    "ReportError",
    "ReportHeader",
    "SessionRow",
    "TraceRep",
    "build_patient_report",
    "build_session_report",
]
