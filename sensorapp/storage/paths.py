"""Where the session store lives: the platform data directory, or ``SENSORAPP_DATA_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "SENSORAPP_DATA_DIR"
DB_FILENAME = "sensorapp.db"
LOCKS_DIRNAME = "locks"


def default_data_dir() -> Path:
    """``$SENSORAPP_DATA_DIR`` if set and non-empty, else the per-user data dir (e.g. ~/.local/share/sensorapp)."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("sensorapp", appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by this user only: it holds health data."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
