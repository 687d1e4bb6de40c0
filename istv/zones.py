"""Storage zones under the data root, and atomic writes into them.

landing/     identifiable: the raw export copy (read-only) and its validated parse
quarantine/  identifiable: rejected rows with their reasons, for the data team to fix
restricted/  pseudonymised record-level Parquet, partitioned by arrival date
reports/     run reports and Data Docs for the data team: counts, never values
published/   depersonalised partner bundles: the only zone that leaves the trust
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

IDENTIFIABLE_ZONES = ("landing", "quarantine")


@dataclass(frozen=True)
class Zones:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def restricted(self) -> Path:
        return self.root / "restricted"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def published(self) -> Path:
        return self.root / "published"

    def night_dir(self, zone: Path, night: str) -> Path:
        return zone / f"night={night}"

    def restricted_partition(self, arrival_date: str) -> Path:
        return self.restricted / "attendances" / f"arrival_date={arrival_date}"


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside target; on success it replaces target in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path) and move the result onto target atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def replace_dir(target: Path, fill: Callable[[Path], None]) -> Path:
    """Build a directory beside target with fill(tmp_dir), then swap it in place of target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (exports can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
