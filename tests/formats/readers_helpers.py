"""Shared helpers for the tests of the readers of other tools' files (fixtures/readers/)."""

from __future__ import annotations

from pathlib import Path

from hotpath.formats import REGISTRY
from hotpath.model import Profile
from tests.formats.conftest import ROOT

READERS = ROOT / "fixtures" / "readers"
WORKLOAD = "/tmp/hotpath-readers/workload.py"


def read_raw(fmt: str, path: Path) -> Profile:
    """The reader's own output (no naming pass afterwards): what the file itself says."""
    with open(path, "rb") as f:
        return REGISTRY[fmt].read(f, str(path))


def per_function(
    profile: Profile, key: str = "name"
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Self and inclusive weight per (name, file), or per (file, def line) with key='def'
    (a function's identity, whatever class name a tool put on it), each function counted
    once per stack."""
    self_w: dict[tuple[str, str], float] = {}
    incl_w: dict[tuple[str, str], float] = {}
    for frames, _labels, w in profile.iter_samples():
        keys = [(f.name, f.file) if key == "name" else (f.file, str(f.first_line)) for f in frames]
        if keys:
            self_w[keys[-1]] = self_w.get(keys[-1], 0.0) + w
        for k in set(keys):
            incl_w[k] = incl_w.get(k, 0.0) + w
    return self_w, incl_w


def shares(incl: dict[tuple[str, str], float], total: float) -> dict[str, float]:
    """Inclusive share per function name (summed over files)."""
    out: dict[str, float] = {}
    for (name, _file), w in incl.items():
        out[name] = out.get(name, 0.0) + w / total
    return out


def sampling_tolerance(share: float, samples: float) -> float:
    """Three standard deviations of the difference between two independent samplers'
    shares of one function (binomial, ``samples`` each): the files of two py-spy processes
    attached at once differ by this much by chance alone (plus one sample: a share of 1
    has no variance, yet one file may hold a sample the other missed)."""
    return 3 * (2 * share * (1 - share) / samples) ** 0.5 + 1 / samples
