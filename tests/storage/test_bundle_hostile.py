"""Hostile bundles: validated as untrusted input, refused whole with one line, memory bounded by declared sizes.

The checksums are not secret, so every crafted bundle here has its hashes and
checksum recomputed after the edit: what stops it is validation, not hashing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hostile_bundles import (
    ARRAY_MEMBERS,
    CASES,
    BundleParts,
    Case,
    add_caseload_patient,
    cli_output,
    craft,
    fix_sample_fields,
    outcome,
    peak_rss_of_import,
    reads_after_import,
    store_dump,
    write_bundle,
    zero_bomb,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from storage_helpers import record_session, sensorapp

from sensorapp.signal import DetectorParams, Rep
from sensorapp.storage import bundle_schema
from sensorapp.storage.bundle import BUNDLE_FORMAT_VERSION, export_bundle, import_bundle, read_bundle
from sensorapp.storage.errors import BundleError
from sensorapp.storage.store import SessionStore, rep_to_json

DATA = Path(__file__).parent / "data"
FORMAT1_BUNDLE = DATA / "format1-session.sensorapp.zip"


@dataclasses.dataclass(frozen=True)
class Source:
    parts: BundleParts  # the valid bundle, taken apart
    template: Path  # a data dir holding the bundle's patient and another of her sessions


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    folder = tmp_path_factory.mktemp("hostile")
    store = SessionStore.open(folder / "template")
    patient = add_caseload_patient(store)
    record_session(store, patient_id=patient.id, seed=2, reps_per_side=1)
    exported = record_session(store, patient_id=patient.id, seed=3, reps_per_side=2, prescription=store.prescription(patient.id))
    store.set_pain(exported.id, before=2, after=3)
    path = export_bundle(store, exported.id, folder / "valid.sensorapp.zip")
    store.delete_session(exported.id)
    store.close()
    return Source(BundleParts.read(path), folder / "template")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path


def test_the_schema_declares_exactly_the_fields_of_rep() -> None:
    fields = dataclasses.fields(Rep)
    assert set(bundle_schema.REP_FIELDS) == {f.name for f in fields}
    with_defaults = {f.name for f in fields if f.default is not dataclasses.MISSING}
    assert with_defaults == bundle_schema.REP_FIELDS_WITH_DEFAULTS


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_crafted_hostile_bundle_is_refused_with_one_line(case: Case, source: Source, tmp_path: Path) -> None:
    """Every kind measured on 21451e3 (tracebacks, accepted-then-broken) and the refusals already in place."""
    result, message = outcome(craft(case, source.parts, tmp_path / "bundle.zip"), tmp_path)
    assert result == "refused", message
    assert message.startswith("sensorapp: error: bundle.zip") and "\n" not in message and "Traceback" not in message


def test_the_valid_bundle_of_the_crafted_cases_imports_and_reads(source: Source, tmp_path: Path) -> None:
    assert outcome(write_bundle(source.parts.copy(), tmp_path / "ok.zip"), tmp_path) == ("accepted-fine", "")


# ---------------------------------------------------------------------- any field mutated (hypothesis)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):  # the first reps stand for the others
            yield from _paths(v, (*prefix, i))


_LONG = "x" * 100_001
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "", _LONG, "\x1b[2J", "\ud800", "left", "right", "unknown", "green", "0" * 64,
            "2026-03-01T09:00:00+00:00", "2026-03-01T09:00:00", "1999-12-31T23:59:59+00:00", "2100-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "00000000-0000-0000-0000-000000000000",
        ]
    ),
)  # fmt: skip
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), _SCALARS, max_size=3),
    st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=2), max_leaves=40),
)
_ARRAY_EDITS = {
    "nan": lambda a: np.where(np.arange(a.size) == a.size // 2, np.nan, a) if a.dtype.kind == "f" else a,
    "reverse": lambda a: a[::-1].copy(),
    "drop last": lambda a: a[:-1].copy(),
    "empty": lambda a: a[:0].copy(),
    "float32": lambda a: a.astype(np.float32),
    "int64": lambda a: a.astype(np.int64),
    "scale 1e300": lambda a: a * 1e300 if a.dtype.kind == "f" else a,
    "shift 1e9": lambda a: a + 1e9 if a.dtype.kind == "f" else a,
    "code 3": lambda a: np.full_like(a, 3),
    "zeros": lambda a: np.zeros_like(a),
}


def _mutate(parts: BundleParts, member: str, path: tuple[Any, ...], action: str, value: Any) -> None:
    if not path:
        parts.docs[member] = value
        return
    target = parts.docs[member]
    for key in path[:-1]:
        target = target[key]
    last = path[-1]
    if action == "delete":
        del target[last]
    elif action == "add" and isinstance(target[last], dict):
        target[last]["zz_" + str(value)[:8]] = value
    else:
        target[last] = value


def _dump_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (ValueError, TypeError):
        return False
    return True


def _check_one_import(parts: BundleParts, template: Path) -> str:
    """Import; on refusal the store must be unchanged, on acceptance every later read must work."""
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        data_dir = work / "store"
        shutil.copytree(template, data_dir)
        bundle = write_bundle(parts, work / "b.zip")
        before = store_dump(data_dir)
        store = SessionStore.open(data_dir)
        try:
            import_bundle(store, bundle)  # anything but BundleError fails the test
        except BundleError as exc:
            message = str(exc)
            assert message and "\n" not in message
            assert store_dump(data_dir) == before
            return "refused"
        finally:
            store.close()
        assert store_dump(data_dir) != before
        with SessionStore.open(data_dir) as reopened:
            newest = max(r.id for r in reopened.sessions())
        assert reads_after_import(data_dir, work / "reads", str(newest)) == []
        return "accepted"


_JSON_TARGETS = ("session.json", "protocol.json", "calibration.json", "reps.json", "manifest.json")


@settings(
    max_examples=90, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)  # fmt: skip
@given(data=st.data())
def test_any_json_field_mutated_is_refused_or_imported_whole_and_readable(source: Source, data: st.DataObject) -> None:
    parts = source.parts.copy()
    member = data.draw(st.sampled_from(_JSON_TARGETS), label="member")
    paths = list(_paths(parts.docs[member]))
    path = data.draw(st.sampled_from(paths), label="path")
    action = data.draw(st.sampled_from(["replace", "delete", "add"]) if path else st.just("replace"), label="action")
    value = data.draw(_VALUES, label="value")
    if not _dump_json(value):
        value = str(value)[:20]
    _mutate(parts, member, path, action, value)
    event(_check_one_import(parts, source.template))


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sample_array_mutated_is_refused_or_imported_whole_and_readable(source: Source, data: st.DataObject) -> None:
    parts = source.parts.copy()
    for member in data.draw(st.lists(st.sampled_from(ARRAY_MEMBERS), min_size=1, max_size=3, unique=True), label="arrays"):
        edit = data.draw(st.sampled_from(sorted(_ARRAY_EDITS)), label=f"edit {member}")
        parts.arrays[member] = _ARRAY_EDITS[edit](parts.arrays[member])
    if data.draw(st.booleans(), label="hashes fixed"):
        fix_sample_fields(parts)
    event(_check_one_import(parts, source.template))


_FORMAT2_KEYS = ("patient", "prescription", "pain_before", "pain_after")


@pytest.fixture(scope="module")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that does not know the bundle's patient: import creates her from the bundle's details."""
    folder = tmp_path_factory.mktemp("empty") / "store"
    SessionStore.open(folder).close()
    return folder


@settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)  # fmt: skip
@given(data=st.data())
def test_format2_fields_mutated_into_a_new_patient_are_refused_or_imported_whole_and_readable(
    source: Source, empty_template: Path, data: st.DataObject
) -> None:
    parts = source.parts.copy()
    paths = [p for p in _paths(parts.docs["session.json"]) if p and p[0] in _FORMAT2_KEYS]
    path = data.draw(st.sampled_from(paths), label="path")
    action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
    value = data.draw(_VALUES, label="value")
    if not _dump_json(value):
        value = str(value)[:20]
    _mutate(parts, "session.json", path, action, value)
    event(_check_one_import(parts, empty_template))


def test_a_valid_mutation_example_is_accepted_so_the_property_test_sees_both_outcomes(source: Source) -> None:
    parts = source.parts.copy()
    parts.docs["session.json"]["notes"] = "walked 2 km before"
    parts.docs["protocol.json"]["gui_cue"] = {"tone_hz": 880}  # a newer app's extra key: kept
    assert _check_one_import(parts, source.template) == "accepted"


# ---------------------------------------------------------------------- memory


@pytest.mark.parametrize("lie", [False, True], ids=["honest zip header", "zip header and manifest lie about the size"])
def test_a_4_gib_zero_filled_array_is_refused_with_bounded_memory(source: Source, tmp_path: Path, lie: bool) -> None:
    bomb = zero_bomb(source.parts, tmp_path / "bomb.zip", exact=False, lie=lie)
    assert bomb.stat().st_size < 8_000_000
    peak, _, result = peak_rss_of_import(bomb, tmp_path / "store")
    assert result.startswith("BundleError: bomb.zip"), result
    assert ("declares 536870912 samples" if lie else "implausibly large") in result
    assert 0 < peak < 200_000_000, f"peak RSS {peak / 1e6:.0f} MB"


def test_max_samples_is_a_day_at_1_khz() -> None:
    assert bundle_schema.MAX_SAMPLES == 24 * 3600 * 1000


# ---------------------------------------------------------------------- formats


def test_a_format_1_bundle_from_the_fixture_imports_and_reproduces_its_analysis(tmp_path: Path) -> None:
    store = SessionStore.open(tmp_path / "clinic")
    result = import_bundle(store, FORMAT1_BUNDLE)
    assert result.created and result.session_uuid == "45c65382-c1f1-465b-beb6-c9a01022481f"
    record = store.session(result.session_id)
    assert record.sample_count == 10185 and record.patient_name == "Fixture Patient" and record.rep_count == 6
    stored_reps = [rep_to_json(r) for r in store.reps(result.session_id)]
    again = store.reanalyse(result.session_id, DetectorParams())
    assert json.loads(json.dumps(again.to_dict())) == record.summary
    for mine, theirs in zip([rep_to_json(r) for r in again.reps], stored_reps, strict=True):
        assert mine.keys() == theirs.keys()
        for key, value in mine.items():
            if isinstance(value, float):
                assert math.isclose(value, theirs[key], rel_tol=1e-9, abs_tol=1e-9), key
            else:
                assert value == theirs[key], key
    store.close()


def test_a_newer_format_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    parts = BundleParts.read(FORMAT1_BUNDLE)
    parts.docs["manifest.json"]["format_version"] = BUNDLE_FORMAT_VERSION + 1
    newer, known = BUNDLE_FORMAT_VERSION + 1, BUNDLE_FORMAT_VERSION
    with pytest.raises(BundleError, match=rf"made by a newer sensorapp \(bundle format {newer}, this one reads up to {known}\); update sensorapp"):
        read_bundle(write_bundle(parts, tmp_path / "newer.zip"))


def test_reps_from_a_version_with_other_fields_are_derived_again_in_the_same_transaction(tmp_path: Path) -> None:
    parts = BundleParts.read(FORMAT1_BUNDLE)
    for rep in parts.docs["reps.json"]:
        del rep["rate_hz"]
    store = SessionStore.open(tmp_path / "s")
    result = import_bundle(store, write_bundle(parts, tmp_path / "old-reps.zip"))
    reps = store.reps(result.session_id)
    assert len(reps) == 6 and all(r.rate_hz > 0 for r in reps)
    assert store.session(result.session_id).summary is not None and store.analysis_info(result.session_id) is not None
    store.close()


def test_the_cli_refuses_a_hostile_bundle_in_one_line_and_imports_a_good_one(source: Source, tmp_path: Path) -> None:
    bad = craft(next(c for c in CASES if c.name == "summary is a list"), source.parts, tmp_path / "bad.zip")
    refused = sensorapp("import", str(bad), "--data-dir", str(tmp_path / "d"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == ["sensorapp: error: bad.zip: session.json is not valid: summary must be a summary, found a list"]
    good = sensorapp("import", str(FORMAT1_BUNDLE), "--data-dir", str(tmp_path / "d"))
    assert good.returncode == 0 and "imported session 1" in good.stdout, good.stderr
    code, out, _ = cli_output("sessions", "--json", "--data-dir", str(tmp_path / "d"))
    assert code == 0 and [s["patient"] for s in json.loads(out)] == ["Fixture Patient"]
