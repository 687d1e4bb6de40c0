"""Storage zones under the data root, and atomic writes into them.

landing/     identifiable: the raw export copy (read-only) and its validated parse
quarantine/  identifiable: rejected rows with their reasons, for the data team to fix
restricted/  pseudonymised record-level Parquet, partitioned by arrival date (attendances/),
             and earlier versions of re-run nights that a release may have counted (superseded/)
reports/     run reports and Data Docs for the data team: counts, never values
published/   depersonalised partner bundles: the only zone that leaves the trust

Writes survive a kill at any moment: each is a rename of a uniquely named temporary copy beside
its target (hidden, `.<name>.*`), locked by its writer while in use and flushed to disk before
and after the rename; the next write of a target clears what killed writers left of it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
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

    def superseded_partition(self, arrival_date: str, sha256: str) -> Path:
        """An earlier ingested version of a night's partition file, named by its sha256."""
        return self.restricted / "superseded" / f"arrival_date={arrival_date}" / f"{sha256}.parquet"


PARTITION_FILE = "part-0.parquet"  # the one data file of a restricted partition


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target; on success it replaces target in one rename.

    The temporary name is unique (`.<name>.tmp-XXXX`) and locked while in use, so a killed
    writer leaves at most an abandoned file, which the next write of target deletes (a live
    writer's locked one is left alone).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    clear_abandoned(target.parent, f".{target.name}.tmp-")  # a killed earlier write's
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield Path(tmp)
        rename_durably(Path(tmp), target)
    finally:
        os.close(fd)
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_atomic(target: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path) and move the result onto target atomically and durably."""
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def replace_dir(target: Path, fill: Callable[[Path], None]) -> Path:
    """Build a directory beside target with fill(tmp_dir), then swap it in place of target.

    First undoes what a killed earlier swap left (recover_dir). The old copy is parked under a
    unique name while the new one is renamed in, so a kill between the two renames leaves the
    old copy to put back; every step is flushed to disk before the next.
    """
    recover_dir(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    lock = _lock(tmp)
    try:
        fill(tmp)
        if not target.exists():
            rename_durably(tmp, target)
            return target
        parked = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        parked_lock = _lock(target)  # the lock goes with the folder: nobody restores it
        try:
            rename_durably(target, parked)
            try:
                rename_durably(tmp, target)
            except BaseException:
                rename_durably(parked, target)
                raise
            shutil.rmtree(parked)
        finally:
            os.close(parked_lock)
    finally:
        os.close(lock)
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def recover_dir(target: Path) -> None:
    """Undo a replace_dir killed part-way: put the parked old copy back if target is gone
    (so the state is the last finished one), then delete the abandoned new and old copies.

    A copy another live process still holds locked is left alone.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    found = [p for p in leftovers(target) if abandoned(p)]
    suffixes = {p: p.name[len(target.name) + 1 :] for p in found if p.is_dir()}
    parked = sorted(  # `.old` is the fixed name releases before this one used
        (p for p, suffix in suffixes.items() if suffix == ".old" or suffix.startswith(".old-")),
        key=lambda p: p.stat().st_mtime_ns,
    )
    if not target.exists() and parked:
        rename_durably(parked[-1], target)
        found.remove(parked[-1])
    for path in found:
        remove(path)


def leftovers(target: Path) -> list[Path]:
    """Hidden siblings `.<name>.*` that writes of target make: temporary or parked copies."""
    if not target.parent.is_dir():
        return []
    prefix = f".{target.name}."
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))


def clear_abandoned(folder: Path, prefix: str) -> list[str]:
    """Delete entries of folder whose name starts with prefix and that no live process holds
    locked (crash leftovers); returns their names."""
    if not folder.is_dir():
        return []
    gone = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(prefix) and abandoned(path):
            remove(path)
            gone.append(path.name)
    return gone


def make_temp_dir(parent: Path, prefix: str) -> tuple[Path, int]:
    """A new uniquely named folder under parent and the descriptor of the lock held on it
    (close it when done): cleanup leaves a locked folder alone, a killed owner's is free."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    return path, _lock(path)


def abandoned(path: Path) -> bool:
    """True unless a live process holds path locked (the kernel drops a killed process's
    locks). A symlink is never abandoned: cleanup does not follow or delete links."""
    if path.is_symlink():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def remove(path: Path) -> None:
    """Delete a file or folder tree, then flush its folder so the deletion survives a crash."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        os.unlink(path)
    fsync_path(path.parent)


def rename_durably(source: Path, target: Path) -> None:
    """Rename source onto target with its contents on disk first and the rename itself on disk
    after: without the flushes a power cut can leave a renamed but empty file."""
    if source.is_dir():
        for folder, _, files in os.walk(source):
            for name in files:
                fsync_path(Path(folder) / name)
            fsync_path(Path(folder))
    else:
        fsync_path(source)
    os.replace(source, target)
    fsync_path(target.parent)
    if source.parent != target.parent:
        fsync_path(source.parent)


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder's entries, i.e. renames and deletions in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (exports can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
