"""Earlier ingested versions of a night's restricted partition, kept as long as the night is.

A re-run of a night (late records, corrections) replaces its partition, but a bundle published
from the old one counted records that are no longer there. The release gate links every
release to the version of each night it was counted from (exports/linked_versions.py), so a
second version beside the first cannot reveal the late records themselves. Before an ingested
partition is replaced its file is kept, byte for byte, at
restricted/superseded/arrival_date=D/<sha256>.parquet (the sha256 the run ledger recorded for
it); retention deletes these copies with the night (istv/retention.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from istv.completeness import ingested
from istv.zones import PARTITION_FILE, Zones, recover_dir, write_atomic


def keep_superseded(data_root: Path, ledger_url: str, night: dt.date) -> Path | None:
    """Copy the night's partition aside before a re-run replaces it, if it is the ingested
    one (the ledger's latest "ok" entry); the copy's path, or None when there is nothing to
    keep (a first run, or a partition no release could have counted)."""
    entry = ingested(ledger_url, [night]).get(night.isoformat())
    if entry is None or entry.sha256 is None:
        return None
    zones = Zones(data_root)
    partition = zones.restricted_partition(night.isoformat())
    recover_dir(partition)  # a killed earlier swap may have parked the ingested copy
    try:
        data = (partition / PARTITION_FILE).read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        return None
    target = zones.superseded_partition(night.isoformat(), entry.sha256)
    if not target.is_file():
        write_atomic(target, lambda tmp: tmp.write_bytes(data))
    return target


def read_version(data_root: Path, night: str, sha256: str) -> bytes | None:
    """The night's partition file as it was when its sha256 was `sha256`: the current file or
    a kept copy, checked against the digest; None when neither is there (retention, or a
    release counted before copies were kept)."""
    zones = Zones(data_root)
    for path in (
        zones.restricted_partition(night) / PARTITION_FILE,
        zones.superseded_partition(night, sha256),
    ):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    return None


def forget_unchanged(data_root: Path, night: dt.date, sha256: str) -> None:
    """A re-run that wrote the same partition again needs no copy of it: the current file is
    that version (read_version reads it first), so the copy made before the run goes."""
    copy = Zones(data_root).superseded_partition(night.isoformat(), sha256)
    copy.unlink(missing_ok=True)
    if copy.parent.is_dir() and not any(copy.parent.iterdir()):
        copy.parent.rmdir()
