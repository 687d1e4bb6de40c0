"""Atomic writes and folder swaps leave nothing a later run trips over, whatever was killed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from istv.zones import make_temp_dir, recover_dir, replace_dir, write_atomic


def fill_with(text: str):
    return lambda folder: (folder / "part-0.parquet").write_text(text)


def test_a_leftover_from_the_fixed_old_name_no_longer_blocks_the_night(tmp_path):
    target = tmp_path / "arrival_date=2026-10-24"
    replace_dir(target, fill_with("first"))
    stale = tmp_path / ".arrival_date=2026-10-24.old"  # what releases before this one left
    stale.mkdir()
    fill_with("older")(stale)
    replace_dir(target, fill_with("second"))
    assert (target / "part-0.parquet").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_killed_between_the_two_renames_the_parked_copy_comes_back(tmp_path):
    target = tmp_path / "arrival_date=2026-10-24"
    parked = tmp_path / ".arrival_date=2026-10-24.old-1f2e"
    unfinished = tmp_path / ".arrival_date=2026-10-24.new-3d4c"
    for folder, text in ((parked, "complete"), (unfinished, "half")):
        folder.mkdir()
        fill_with(text)(folder)
    recover_dir(target)
    assert (target / "part-0.parquet").read_text() == "complete"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_copy_a_live_process_holds_is_left_alone(tmp_path):
    target = tmp_path / "arrival_date=2026-10-24"
    live, lock = make_temp_dir(tmp_path, f".{target.name}.new-")
    try:
        replace_dir(target, fill_with("mine"))
        assert live.exists()
    finally:
        os.close(lock)
    replace_dir(target, fill_with("again"))
    assert not live.exists()


def test_a_failed_fill_keeps_the_old_folder_and_leaves_nothing(tmp_path):
    target = tmp_path / "arrival_date=2026-10-24"
    replace_dir(target, fill_with("kept"))

    def broken(folder: Path) -> None:
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError):
        replace_dir(target, broken)
    assert (target / "part-0.parquet").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_write_atomic_clears_a_killed_writers_temporary_file(tmp_path):
    (tmp_path / ".report.json.tmp-killed").write_text("half")
    (tmp_path / ".other.json.tmp-killed").write_text("not this target's")
    write_atomic(tmp_path / "report.json", lambda tmp: tmp.write_text("{}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.tmp-killed", "report.json"]
