"""LSL tests run on loopback only: point liblsl at the tests' config before it is first loaded."""

from __future__ import annotations

import os
from pathlib import Path

# Before any test imports pylsl; subprocesses inherit it. SessionID keeps these streams apart
# from any other LSL streams on the machine (other engineers' test runs included).
os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_api.cfg"))
