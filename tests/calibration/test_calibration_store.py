"""CalibrationStore: round trip, atomic writes, and every corrupt/mismatch case."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import calibration.store as store_mod
from calibration import (
    FORMAT_ID,
    CalibrationError,
    CalibrationFileError,
    CalibrationMismatchError,
    CalibrationStore,
    LinearCalibration,
    record_checksum,
)

SERIAL = "GMB-0001E240"
OTHER = "GMB-0000BEEF"
CAL = LinearCalibration(
    zero_counts=8123.25,
    newtons_per_count=0.000596,
    source="fit",
    created_at="2026-11-21T10:00:00+00:00",
    linearity_error_n=0.21,
    capacity_n=1000.0,
)
CAL2 = LinearCalibration(zero_counts=-17.0, newtons_per_count=-0.00061, source="manual")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "cal" / "calibrations.json"


@pytest.fixture
def filled(path: Path) -> CalibrationStore:
    s = CalibrationStore(path)
    s.put(SERIAL, CAL, model_id=1)
    s.put(OTHER, CAL2)
    return s


def edit(path: Path, fn) -> None:
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc, indent=2))


# ------------------------------------------------------------------ round trip


def test_missing_file_is_an_empty_store(path):
    s = CalibrationStore(path)
    assert s.get(SERIAL) is None
    assert s.serials() == []
    assert s.delete(SERIAL) is False
    assert not path.exists()


def test_round_trip(filled, path):
    assert filled.get(SERIAL) == CAL
    assert filled.get(OTHER) == CAL2  # negative gain and None metadata survive
    rec = filled.get_record(SERIAL)
    assert rec is not None and rec.model_id == 1 and rec.serial == SERIAL
    assert filled.get_record(OTHER).model_id is None
    assert filled.serials() == [OTHER, SERIAL]
    # A second store on the same file sees the same thing (nothing cached in memory).
    assert CalibrationStore(path).get(SERIAL) == CAL


def test_file_layout(filled, path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == FORMAT_ID == "sensorapp-calibrations"
    assert doc["version"] == 1
    rec = doc["records"][SERIAL]
    assert rec["serial"] == SERIAL
    assert rec["model_id"] == 1
    assert rec["zero_counts"] == 8123.25
    assert rec["newtons_per_count"] == 0.000596
    assert rec["metadata"] == {"source": "fit", "created_at": "2026-11-21T10:00:00+00:00", "linearity_error_n": 0.21, "capacity_n": 1000.0}
    assert rec["checksum"].startswith("sha256:") and len(rec["checksum"]) == 7 + 64
    assert rec["checksum"] == record_checksum(rec)
    assert list(doc["records"]) == sorted(doc["records"])


def test_put_replaces_and_keeps_other_records(filled):
    tared = CAL.with_zero(9000.0)
    filled.put(SERIAL, tared, model_id=1)
    assert filled.get(SERIAL) == tared
    assert filled.get(OTHER) == CAL2


def test_delete(filled):
    assert filled.delete(OTHER) is True
    assert filled.serials() == [SERIAL]
    assert filled.get(OTHER) is None
    assert filled.delete(OTHER) is False


@pytest.mark.parametrize("bad", ["", " GMB-1", "GMB 1", "-GMB", "x" * 65, None, 123, "GMB-1/2"])
def test_bad_serials(path, bad):
    s = CalibrationStore(path)
    with pytest.raises(CalibrationError, match="serial"):
        s.put(bad, CAL)
    with pytest.raises(CalibrationError, match="serial"):
        s.get(bad)


def test_bad_put_arguments(path):
    s = CalibrationStore(path)
    with pytest.raises(CalibrationError, match="model_id"):
        s.put(SERIAL, CAL, model_id=-1)
    with pytest.raises(CalibrationError, match="model_id"):
        s.put(SERIAL, CAL, model_id=True)
    with pytest.raises(CalibrationError, match="LinearCalibration"):
        s.put(SERIAL, {"zero_counts": 0, "newtons_per_count": 1})  # type: ignore[arg-type]
    assert not path.exists()


# ------------------------------------------------------------------ atomic writes


def test_failed_replace_leaves_old_file_intact(filled, path, monkeypatch):
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_mod.os, "replace", boom)
    with pytest.raises(CalibrationFileError, match="previous file is unchanged"):
        filled.put(SERIAL, CAL.with_zero(1.0), model_id=1)
    with pytest.raises(CalibrationFileError):
        filled.delete(OTHER)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # temp files cleaned up
    monkeypatch.undo()
    assert filled.get(SERIAL) == CAL


def test_failed_fsync_leaves_old_file_intact(filled, path, monkeypatch):
    before = path.read_bytes()

    def boom(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_mod.os, "fsync", boom)
    with pytest.raises(CalibrationFileError):
        filled.put(OTHER, CAL)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_read_only_directory(filled, path):
    before = path.read_bytes()
    path.parent.chmod(0o555)
    try:
        with pytest.raises(CalibrationFileError, match="could not be written"):
            filled.put(SERIAL, CAL.with_zero(1.0))
        assert path.read_bytes() == before
    finally:
        path.parent.chmod(0o755)


def test_write_goes_through_a_temp_file_in_the_same_directory(filled, path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        assert Path(dst).read_bytes() != Path(src).read_bytes()  # the old file is still there
        real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", spy)
    filled.put(SERIAL, CAL.with_zero(5.0))
    [(src, dst)] = seen
    assert dst == path and src.parent == path.parent and src != path


# ------------------------------------------------------------------ corrupt files


def assert_file_error_and_untouched(path: Path, match: str) -> None:
    before = path.read_bytes()
    s = CalibrationStore(path)
    for call in (lambda: s.get(SERIAL), s.serials, lambda: s.put(SERIAL, CAL), lambda: s.delete(SERIAL)):
        with pytest.raises(CalibrationFileError, match=match) as exc:
            call()
        assert str(path) in str(exc.value)
    assert path.read_bytes() == before  # never silently overwritten


def test_truncated_json(filled, path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert_file_error_and_untouched(path, "not valid JSON")


def test_empty_file(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert_file_error_and_untouched(path, "empty")


def test_binary_garbage(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_file_error_and_untouched(path, "UTF-8")


def test_wrong_format_id(filled, path):
    edit(path, lambda d: d.update(format="sensorapp-sessions"))
    assert_file_error_and_untouched(path, "not a sensorapp calibration file.*sensorapp-sessions")


def test_missing_format_and_non_object(path):
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "records": {}}')
    assert_file_error_and_untouched(path, "not a sensorapp calibration file")
    path.write_text("[1, 2, 3]")
    assert_file_error_and_untouched(path, "top level is list")


def test_future_version(filled, path):
    edit(path, lambda d: d.update(version=2))
    assert_file_error_and_untouched(path, "newer sensorapp.*version 2")


@pytest.mark.parametrize("version", [0, "1", None, True, 1.5])
def test_invalid_version(filled, path, version):
    edit(path, lambda d: d.update(version=version))
    assert_file_error_and_untouched(path, "invalid format version")


def test_records_not_an_object(filled, path):
    edit(path, lambda d: d.update(records=[1, 2]))
    assert_file_error_and_untouched(path, "records")


def test_nan_in_file(filled, path):
    path.write_text(path.read_text().replace("8123.25", "NaN"))
    assert_file_error_and_untouched(path, "NaN")


# ------------------------------------------------------------------ mismatched records


def test_tampered_value_fails_checksum(filled, path):
    edit(path, lambda d: d["records"][SERIAL].update(newtons_per_count=0.0006))
    s = CalibrationStore(path)
    with pytest.raises(CalibrationMismatchError, match=f"{SERIAL} fails its checksum") as exc:
        s.get(SERIAL)
    assert str(path) in str(exc.value)
    assert s.get(OTHER) == CAL2  # other belts unaffected


def test_tampered_metadata_and_removed_checksum(filled, path):
    edit(path, lambda d: d["records"][SERIAL]["metadata"].update(source="factory"))
    with pytest.raises(CalibrationMismatchError, match="checksum"):
        CalibrationStore(path).get(SERIAL)
    edit(path, lambda d: d["records"][SERIAL].pop("checksum"))
    with pytest.raises(CalibrationMismatchError, match="checksum"):
        CalibrationStore(path).get(SERIAL)


def test_tampered_record_is_kept_when_another_belt_is_written(filled, path):
    edit(path, lambda d: d["records"][SERIAL].update(zero_counts=0.0))
    tampered = json.loads(path.read_text())["records"][SERIAL]
    s = CalibrationStore(path)
    s.put("GMB-00000001", CAL2)
    assert json.loads(path.read_text())["records"][SERIAL] == tampered  # carried over verbatim
    with pytest.raises(CalibrationMismatchError):
        s.get(SERIAL)
    # Recalibrating that belt replaces the bad record with a good one.
    s.put(SERIAL, CAL, model_id=1)
    assert s.get(SERIAL) == CAL


def test_serial_key_mismatch(filled, path):
    def move(d):
        d["records"]["GMB-00000099"] = d["records"].pop(SERIAL)

    edit(path, move)
    s = CalibrationStore(path)
    with pytest.raises(CalibrationMismatchError, match=f"stored under 'GMB-00000099' is for serial '{SERIAL}'"):
        s.get("GMB-00000099")
    assert s.get(SERIAL) is None


def test_model_mismatch(filled):
    assert filled.get(SERIAL, model_id=1) == CAL
    with pytest.raises(CalibrationMismatchError, match="model 1.*model 2"):
        filled.get(SERIAL, model_id=2)
    # Without an expected model, or for a record stored without one, there is nothing to compare.
    assert filled.get(SERIAL) == CAL
    assert filled.get(OTHER, model_id=7) == CAL2


def test_invalid_record_with_valid_checksum_is_a_file_error(filled, path):
    def break_gain(d):
        r = d["records"][SERIAL]
        r["newtons_per_count"] = 0.0
        r["checksum"] = record_checksum(r)

    edit(path, break_gain)
    with pytest.raises(CalibrationFileError, match=f"{SERIAL} is invalid.*non-zero"):
        CalibrationStore(path).get(SERIAL)

    def drop_zero(d):
        r = d["records"][SERIAL]
        del r["zero_counts"]
        r["checksum"] = record_checksum(r)

    edit(path, drop_zero)
    with pytest.raises(CalibrationFileError, match="zero_counts"):
        CalibrationStore(path).get(SERIAL)


# ------------------------------------------------------------------ migration hook


def test_migration_hook_upgrades_old_files(filled, path):
    calls = []

    def v1_to_v2(doc):
        calls.append(doc["version"])
        for rec in doc["records"].values():
            rec["note"] = "migrated"
            rec["checksum"] = record_checksum(rec)
        return doc

    class StoreV2(CalibrationStore):
        version = 2
        migrations = {1: v1_to_v2}

    s2 = StoreV2(path)
    assert s2.get(SERIAL) == CAL
    assert calls == [1]
    assert json.loads(path.read_text())["version"] == 1  # reading does not rewrite
    s2.put("GMB-00000002", CAL2)
    doc = json.loads(path.read_text())
    assert doc["version"] == 2
    assert doc["records"][SERIAL]["note"] == "migrated"
    # And the v1 app now refuses the file instead of guessing.
    with pytest.raises(CalibrationFileError, match="newer"):
        CalibrationStore(path).get(SERIAL)


def test_missing_migration_step(filled, path):
    class StoreV3(CalibrationStore):
        version = 3
        migrations = {1: lambda d: d}

    with pytest.raises(CalibrationFileError, match="version 2 cannot be upgraded"):
        StoreV3(path).get(SERIAL)
