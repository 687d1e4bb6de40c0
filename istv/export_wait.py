"""Waiting for the night's ED export without holding a worker slot: a deferrable operator.

The operator checks once; if the export file is not there yet it hands the wait to the
triggerer until the deadline (ISTV_EXPORT_DEADLINE on D+1), then fails once, saying why. A SQL
source needs no wait: the query runs when extract runs. Light imports only (DAG parse time).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException
from airflow.triggers.base import BaseTrigger, TriggerEvent

POKE_SECONDS = 30.0


def export_path(night: dt.date, env: dict[str, str] | None = None) -> Path | None:
    """Where the night's export file should be, or None for a SQL source (nothing to wait for)."""
    from istv.settings import Settings

    settings = Settings.from_env(env)
    if "://" in settings.source:
        return None
    source = Path(settings.source.format(night=night.isoformat()))
    return source if source.is_absolute() else settings.data_root / source


class ExportFileTrigger(BaseTrigger):
    """Fires when `path` exists ("found") or when `deadline` passes first ("deadline")."""

    def __init__(self, path: str, deadline: str, poke_seconds: float = POKE_SECONDS) -> None:
        super().__init__()
        self.path, self.deadline, self.poke_seconds = path, deadline, poke_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "istv.export_wait.ExportFileTrigger",
            {"path": self.path, "deadline": self.deadline, "poke_seconds": self.poke_seconds},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        deadline = dt.datetime.fromisoformat(self.deadline)
        while True:
            if Path(self.path).is_file():
                yield TriggerEvent({"status": "found"})
                return
            left = (deadline - dt.datetime.now(dt.UTC)).total_seconds()
            if left <= 0:
                yield TriggerEvent({"status": "deadline"})
                return
            await asyncio.sleep(min(self.poke_seconds, left))


class WaitForExportOperator(BaseOperator):
    """Wait (deferred, no worker held) for the night's export file until the export deadline."""

    ui_color = "#e8f0fe"

    def __init__(self, *, poke_seconds: float = POKE_SECONDS, **kwargs: Any) -> None:
        kwargs.setdefault("retries", 0)  # a missing export is not transient: fail once
        super().__init__(**kwargs)
        self.poke_seconds = poke_seconds

    def _night_and_deadline(self, context) -> tuple[dt.date, dt.datetime]:
        from istv.nights import export_deadline, night_for_run

        params = context["params"]
        night = night_for_run(
            context.get("logical_date"), context["dag_run"].run_after, params.get("night")
        )
        return night, export_deadline(night, params.get("export_deadline"))

    def execute(self, context) -> None:
        night, deadline = self._night_and_deadline(context)
        path = export_path(night)
        if path is None or path.is_file():
            return  # nothing pushed to XCom: extract reports the landed file
        if dt.datetime.now(dt.UTC) >= deadline:
            self._fail(night, path, deadline)
        self.log.info("No export for night %s yet: waiting until %s", night, deadline.isoformat())
        self.defer(
            trigger=ExportFileTrigger(str(path), deadline.isoformat(), self.poke_seconds),
            method_name="execute_complete",
        )

    def execute_complete(self, context, event: dict[str, Any] | None = None) -> None:
        night, deadline = self._night_and_deadline(context)
        path = export_path(night)
        if path is not None and not path.is_file():
            self._fail(night, path, deadline)

    @staticmethod
    def _fail(night: dt.date, path: Path, deadline: dt.datetime) -> None:
        raise AirflowFailException(
            f"No export for night {night} by the deadline {deadline.isoformat()}: expected "
            f"{path}. Check that the ED export job ran, then clear this task "
            "(ISTV_EXPORT_DEADLINE sets the deadline, ISTV_SOURCE the file pattern)."
        )
