"""Interoperability: FHIR R4 export (``fhir``) and a Lab Streaming Layer outlet (``lsl``).

Pure Python and numpy (plus pylsl for the outlet): no Qt, no bleak. The FHIR
builder takes the session JSON document (``storage.export.session_json``), so
it needs nothing from the store itself.
"""
