"""The C reference codec against the same golden vectors, compiled with the system C compiler."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from protocol_golden import GOLDEN_PATH, VECTORS

C_DIR = GOLDEN_PATH.parent / "c"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CC = _compiler()
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc, gcc or clang) on PATH: the C reference codec is not tested")


def _build(tmp_path: Path, *flags: str) -> Path:
    exe = tmp_path / "test_golden"
    cmd = [CC, *STRICT, *flags, "-o", str(exe), str(C_DIR / "test_golden.c")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
    return exe


@needs_cc
def test_c_codec_passes_every_golden_vector(tmp_path: Path) -> None:
    exe = _build(tmp_path, "-O2")
    res = subprocess.run([str(exe), str(GOLDEN_PATH)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"golden vectors: {len(VECTORS)} checked" in res.stdout
    assert ", 0 failed" in res.stdout


@needs_cc
def test_c_test_fails_on_a_wrong_vector(tmp_path: Path) -> None:
    """The C test really compares: one changed expectation makes it exit non-zero and name the vector."""
    exe = _build(tmp_path)
    text = GOLDEN_PATH.read_text(encoding="ascii")
    broken = text.replace("counts=12,-7,0", "counts=12,-7,1", 1).replace("error=BAD_PERIOD", "error=TOO_SHORT", 1)
    assert broken != text
    bad = tmp_path / "broken.txt"
    bad.write_text(broken, encoding="ascii")
    res = subprocess.run([str(exe), str(bad)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "stream_start_mtu23" in res.stderr and "stream_period_0" in res.stderr
    assert ", 2 failed" in res.stdout


@needs_cc
def test_c_codec_is_clean_under_address_and_undefined_sanitizers(tmp_path: Path) -> None:
    exe = tmp_path / "test_golden_san"
    cmd = [CC, *STRICT, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-o", str(exe), str(C_DIR / "test_golden.c")]
    build = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if build.returncode != 0:
        pytest.skip(f"{Path(CC).name} cannot build with -fsanitize=address,undefined here: {build.stderr.strip().splitlines()[-1:]}")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    res = subprocess.run([str(exe), str(GOLDEN_PATH)], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "runtime error" not in res.stderr and "AddressSanitizer" not in res.stderr
    assert f"golden vectors: {len(VECTORS)} checked" in res.stdout
