"""An ingested partition is kept, byte for byte, before a re-run replaces it, and only then."""

from __future__ import annotations

import datetime as dt
import hashlib

from istv.partition_versions import forget_unchanged, keep_superseded, read_version
from istv.retention import apply_retention
from istv.zones import Zones
from tests.unit.test_completeness import geocoded

NIGHT = dt.date(2026, 10, 21)


def test_the_ingested_version_is_kept_and_read_back_by_its_digest(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert keep_superseded(tmp_path, url, NIGHT) is None  # never ingested: nothing to keep
    first = geocoded(tmp_path, NIGHT, rows=3)
    old = first.read_bytes()
    old_sha = hashlib.sha256(old).hexdigest()
    kept = keep_superseded(tmp_path, url, NIGHT)
    assert kept == Zones(tmp_path).superseded_partition(NIGHT.isoformat(), old_sha)
    assert kept.read_bytes() == old

    geocoded(tmp_path, NIGHT, rows=5, run="rerun")  # the re-run's partition replaces it
    new_sha = hashlib.sha256(first.read_bytes()).hexdigest()
    assert read_version(tmp_path, NIGHT.isoformat(), old_sha) == old
    assert read_version(tmp_path, NIGHT.isoformat(), new_sha) == first.read_bytes()
    assert read_version(tmp_path, NIGHT.isoformat(), "0" * 64) is None

    kept.write_bytes(b"edited")  # a copy that is not what its name says is not used
    assert read_version(tmp_path, NIGHT.isoformat(), old_sha) is None


def test_a_partition_that_is_not_the_ingested_one_is_not_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    path = geocoded(tmp_path, NIGHT)
    path.write_bytes(b"a half-written re-run")
    assert keep_superseded(tmp_path, url, NIGHT) is None


def test_kept_versions_go_with_their_night_under_retention(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    geocoded(tmp_path, NIGHT)
    kept = keep_superseded(tmp_path, url, NIGHT)
    apply_retention(tmp_path, dt.date(2028, 12, 1), 30, 24)  # keeps from December 2026
    assert not kept.exists() and not kept.parent.exists()
    assert not Zones(tmp_path).restricted_partition(NIGHT.isoformat()).exists()


def test_a_rerun_that_wrote_the_same_partition_keeps_no_copy(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    path = geocoded(tmp_path, NIGHT)
    kept = keep_superseded(tmp_path, url, NIGHT)
    forget_unchanged(tmp_path, NIGHT, hashlib.sha256(path.read_bytes()).hexdigest())
    assert not kept.exists() and not kept.parent.exists()
