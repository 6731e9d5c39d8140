"""LSL tests run on loopback only: point liblsl at the tests' config before it is first loaded."""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from pathlib import Path

# Before any test imports pylsl; subprocesses inherit it. A SessionID of this run's own keeps
# its streams apart from every other LSL stream on the machine (other test runs included).
_config = Path(tempfile.gettempdir()) / f"sensorapp-tests-lsl-{os.getpid()}.cfg"
_config.write_text(
    Path(__file__).with_name("lsl_api.cfg").read_text() + f"SessionID = sensorapp-tests-{uuid.uuid4().hex[:12]}\n"
)
os.environ["LSLAPICFG"] = str(_config)
atexit.register(_config.unlink, missing_ok=True)
