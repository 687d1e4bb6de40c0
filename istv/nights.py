"""Which night a DAG run processes, worked out explicitly (manual runs may have no logical date)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from schemas import load_contract


def night_for_run(
    logical_date: dt.datetime | None, run_after: dt.datetime, requested: str | None = None
) -> dt.date:
    """The `night` param when given (YYYY-MM-DD), else the local day before the run's date.

    The nightly schedule fires at 02:00 Europe/London, after the night it processes.
    """
    if requested:
        try:
            return dt.date.fromisoformat(requested)
        except ValueError:
            raise ValueError(f"night must be a date like 2026-11-20, not {requested!r}") from None
    moment = logical_date or run_after
    return moment.astimezone(ZoneInfo(load_contract().timezone)).date() - dt.timedelta(days=1)
