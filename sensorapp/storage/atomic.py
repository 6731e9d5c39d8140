"""Files written all at once or not at all, and CSV text that spreadsheets will not execute."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import StorageError, storage_error

# OWASP "CSV injection": a cell starting with one of these is a formula in Excel, LibreOffice, Sheets.
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_text(text: str) -> str:
    """A text cell that a spreadsheet shows as text: prefix a quote when it could start a formula.

    Only for free text (names, labels). Numbers are never passed through this,
    so a negative force stays a number.
    """
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


@contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "wb", *, what: str = "write") -> Iterator[IO]:
    """Write ``path`` through a temporary file next to it: fsync, rename, fsync the folder.

    Readers see the old file or the whole new one, never a part. On any error
    the temporary file is removed, the target is untouched, and the error is a
    StorageError (StorageFullError when the disk is full).
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise StorageError(f"the folder {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else ""
    try:
        with open(tmp, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        fsync_dir(target.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise storage_error(exc, f"{what} {target}") from None
    except BaseException:
        _unlink_quietly(tmp)
        raise


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
