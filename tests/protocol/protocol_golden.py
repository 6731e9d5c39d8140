"""Reader for firmware_protocol/golden_vectors.txt (format in the file's header)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GOLDEN_PATH = Path(__file__).resolve().parents[2] / "firmware_protocol" / "golden_vectors.txt"
KINDS = ("stream", "command", "response", "status", "malformed")


@dataclass(frozen=True)
class Vector:
    kind: str
    name: str
    data: bytes
    kv: dict[str, str]
    lineno: int

    def int(self, key: str) -> int:
        return int(self.kv[key], 0)

    def extra(self) -> int:
        return int(self.kv.get("extra", "0"))

    def __str__(self) -> str:  # pytest ids
        return self.name


def load(path: Path = GOLDEN_PATH) -> list[Vector]:
    vectors: list[Vector] = []
    for lineno, raw in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        kind, name, hex_, *pairs = raw.split(" ")
        if kind not in KINDS:
            raise ValueError(f"{path.name}:{lineno}: unknown kind {kind!r}")
        kv = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or key in kv:
                raise ValueError(f"{path.name}:{lineno}: bad or repeated key=value {pair!r}")
            kv[key] = value
        data = b"" if hex_ == "-" else bytes.fromhex(hex_)
        vectors.append(Vector(kind, name, data, kv, lineno))
    return vectors


VECTORS = load()


def of_kind(kind: str) -> list[Vector]:
    return [v for v in VECTORS if v.kind == kind]
