"""Versions of the records as linked releases: which records each release counted.

A night re-run after a bundle was published (late records, corrections) changes the records
under that bundle. A second version of the period, or any later release over those days,
counts the new records; the two side by side would reveal the difference. So the gate does
not model one set of records but record *units*, each labelled by the releases that did not
count it: label 0 (hidden from nobody) is a record every release saw; a late record is hidden
from the releases published before it arrived; a corrected record's old form is hidden from
the releases after. A release's cell sums only the units it saw, and "the late records in a
cell" is a quantity the gate protects like any other (exports/release_gate.py).

Records are matched across versions of a night by the columns the gate counts (`COUNTED`):
two rows equal in all of them are interchangeable for every cell, so a night's versions are
compared as multisets of those rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exports.release_model import Release

LABEL = "version_label"  # the column linked records carry
# What a release's cells can count of a record (exports/release_gate.py, _Model._truth).
COUNTED = (
    "arrival_date",
    "assault_date",
    "assault_weekday",
    "assault_hour",
    "lsoa21cd",
    "residence_lsoa21cd",
    "residence_outcode",
    "location_class",
    "place_id",
    "assault_method",
    "age_band",
    "sex",
)


@dataclass(frozen=True)
class LinkedRecords:
    records: pd.DataFrame  # every record unit, with its LABEL
    hidden_from: tuple[frozenset[int], ...]  # per label: positions of releases not counting it


def link_versions(
    current: Mapping[str, tuple[str, pd.DataFrame]],
    releases: Sequence[Release],
    read: Callable[[str, str], pd.DataFrame | None],
) -> LinkedRecords:
    """Record units of the nights in `current` (night -> (sha256, records) as they are now).

    releases  every earlier release the gate models, in its order; the release being
              checked comes after them and counts `current`
    read      (night, sha256) -> that version's records, or None when it is not kept (retention,
              or a release made before versions were kept): such a release is taken to have
              counted the current records, and its cells that no longer fit are left out
    """
    labels: dict[frozenset[int], int] = {frozenset(): 0}
    frames = []
    for night, (sha_now, now) in current.items():
        seen_by = [dict(r.sources).get(night, sha_now) for r in releases] + [sha_now]
        versions = {sha_now: now}
        for sha in dict.fromkeys(seen_by):
            if sha not in versions and (frame := read(night, sha)) is not None:
                versions[sha] = frame
        seen_by = [sha if sha in versions else sha_now for sha in seen_by]
        if len(versions) == 1:
            frames.append(now.assign(**{LABEL: 0}))
            continue
        for units, present in _units(list(versions.values())):
            shas = [sha for sha, here in zip(versions, present, strict=True) if here]
            hidden = frozenset(i for i, sha in enumerate(seen_by) if sha not in shas)
            label = labels.setdefault(hidden, len(labels))
            frames.append(units.assign(**{LABEL: label}))
    records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({LABEL: []})
    return LinkedRecords(records, tuple(sorted(labels, key=labels.__getitem__)))


def _units(versions: list[pd.DataFrame]):
    """(rows, presence) pairs: rows present in exactly the versions `presence` marks.

    Each distinct counted row has a count in every version; the rows in all versions where
    it occurs (the smallest count) form one unit group, and the rest is split again, until
    every count is used: a late record is present only in the versions after it came."""
    stacked = pd.concat(versions, ignore_index=True)
    columns = [c for c in COUNTED if c in stacked.columns]
    key = pd.util.hash_pandas_object(stacked[columns], index=False).to_numpy()
    version = np.repeat(np.arange(len(versions)), [len(v) for v in versions])
    keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    counts = np.zeros((len(keys), len(versions)), dtype=np.int64)
    np.add.at(counts, (inverse, version), 1)
    while counts.any():
        present = counts > 0
        take = np.where(present, counts, np.iinfo(np.int64).max).min(axis=1)
        take[~present.any(axis=1)] = 0
        counts -= take[:, None] * present
        patterns, group = np.unique(present, axis=0, return_inverse=True)
        group = group.reshape(-1)
        for g, pattern in enumerate(patterns):
            chosen = np.flatnonzero((group == g) & (take > 0))
            if len(chosen):
                rows = stacked.iloc[np.repeat(first[chosen], take[chosen])]
                yield rows.reset_index(drop=True), tuple(bool(p) for p in pattern)
