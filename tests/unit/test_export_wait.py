"""The export wait's trigger: fires on the file or at the deadline, and round-trips."""

from __future__ import annotations

import asyncio
import datetime as dt

from istv.export_wait import ExportFileTrigger, export_path


async def _first_event(trigger: ExportFileTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def test_trigger_fires_when_the_file_is_there_or_the_deadline_passes(tmp_path):
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.3)).isoformat()
    path = tmp_path / "ed_export_2026-11-20.csv"
    assert asyncio.run(_first_event(ExportFileTrigger(str(path), soon, 0.05))) == {
        "status": "deadline"
    }
    path.write_text("site_code\n")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert asyncio.run(_first_event(ExportFileTrigger(str(path), later, 0.05))) == {
        "status": "found"
    }


def test_trigger_serialises_to_an_importable_class_path_and_plain_values(tmp_path):
    classpath, kwargs = ExportFileTrigger("/x", "2026-11-21T07:00:00+00:00", 30).serialize()
    assert classpath == "istv.export_wait.ExportFileTrigger"
    assert ExportFileTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_export_path_follows_the_source_pattern_and_sql_needs_no_wait(tmp_path):
    env = {"ISTV_DATA_ROOT": str(tmp_path)}
    night = dt.date(2026, 11, 20)
    assert export_path(night, env) == tmp_path / "landing/inbox/ed_export_2026-11-20.csv"
    assert export_path(night, {**env, "ISTV_SOURCE": "postgresql://db/ed"}) is None
