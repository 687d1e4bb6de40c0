"""Which publications are due: every complete period not yet published, not only the latest.

The partner DAG runs whenever the restricted records change (every night). On schedule, `due`
offers, for each partner and each kind of period it gets (its cadence's, plus quarters for the
prescribed return), every whole period from the first ingested night (run ledger) up to the
latest complete one, that
- began on or after the first ingested night: a period holding nights from before go-live is
  offered once those nights are backfilled (then the first ingested night is earlier), and is
  not a nightly "waiting" alert meanwhile;
- retention has not deleted (a period starting before the restricted records kept is never
  offered: exports.publish.refuse_if_past_retention would refuse it), and
- has no published version yet, or had a night re-run since its latest version was built (a
  final-stage ledger entry newer than the version's ledger mark, istv/versions.py), or is the
  latest complete period (so an entitlement change reaches it).
exports/publish.py then decides: a new version only when the period's own records (or its
products, files or policy) changed; context alone (trend, previous period) is "unchanged".

`ready` splits the offered pairs into those to publish now and those that wait, saying why:
- nights of the period not ingested (as before: named, and the period waits);
- settling (settings.settling_days, ISTV_SETTLING_DAYS): each version is a release a reader can
  difference against the one before (a v2 beside its v1 shows the late records themselves), so
  versions are kept few. A period waits until `today >= period.end + settling days`, so late
  records go out in its first version; a published period whose nights were re-run since its
  latest version waits until settling days after the LATEST such re-run (ledger timestamps),
  so a burst of corrections is one new version, not one a night. This is the normal wait, not
  an alert (`is_settling`; istv.alerts.notify_waiting leaves it out). 0 days: no wait;
- debounce: a night of the period or of its comparison window (the trend's periods, which
  include the previous one) is being run: its latest ledger entry is an "ok" stage before the
  final one (started, not finished; a failed stage ends a run), or
- istv_nightly still has runs queued (`nightly_queued`, from Airflow: a backfill or catch-up
  queues all its runs at once, and the ledger cannot see a night before it starts). Every
  period waits then, because a queued night's date is not known here.
So during a backfill a period is published once, after the backfill's last night, not once per
backfilled night; a normal night queues nothing, so its periods publish once settled.
A period asked for by hand (`due(..., period_label)`: DAG conf, `istv publish --period`) is an
operator's decision: the DAG and CLI do not pass it through `ready`, so it is not held.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from istv.completeness import (
    IncompletePeriod,
    compress_nights,
    first_ingested_night,
    nights_in_progress,
    require_complete,
)
from istv.partners import Partner
from istv.periods import Period, latest_complete, local_date, parse_period, periods_from
from istv.settings import Settings

if TYPE_CHECKING:
    from istv.versions import BuiltFrom

TREND_PERIODS = 12  # as exports/publish.py: the trend (comparison window) is period.last(12)
SETTLING = "settling:"  # how a settling reason's text begins, after "<partner>: <period> "


def due(
    partners: list[Partner],
    today: dt.date,
    period_label: str | None = None,
    partner_id: str | None = None,
    settings: Settings | None = None,
) -> list[tuple[Partner, Period]]:
    """(partner, period) pairs to publish; a requested period goes to partners of its kind.
    On schedule (no period), the ledger and published/ of `settings` (default: from the
    environment) say which periods are unpublished or re-run; see the module docstring."""
    chosen = [p for p in partners if partner_id in (None, p.id)]
    if partner_id and not chosen:
        raise ValueError(f"no partner with id {partner_id!r}; see the partners file")
    if period_label:
        period = parse_period(period_label)
        pairs = [(p, period) for p in chosen if period.kind in p.period_kinds]
        if partner_id and not pairs:
            raise ValueError(
                f"partner {partner_id!r} gets bundles by "
                f"{', '.join(chosen[0].period_kinds)}, not by {period.kind}"
            )
        return pairs
    settings = settings or Settings.from_env()
    first = first_ingested_night(settings.ledger_url)
    from istv.retention import records_kept_from

    kept_from = records_kept_from(today)
    pairs = []
    for partner in chosen:
        for kind in partner.period_kinds:
            last = latest_complete(kind, today)
            if first is None:  # nothing ingested yet: the latest period, which waits
                pairs.append((partner, last))
                continue
            for period in periods_from(kind, max(first, kept_from), last):
                if period.start < max(first, kept_from):
                    continue  # it began before go-live (backfill it) or retention's line
                if period == last or _unpublished_or_rerun(settings, partner, period):
                    pairs.append((partner, period))
    return pairs


def ready(
    pairs: list[tuple[Partner, Period]],
    settings: Settings,
    today: dt.date,
    nightly_queued: bool = False,
) -> tuple[list[tuple[Partner, Period]], list[str]]:
    """Pairs to publish now, and for the rest why they wait: missing nights (in the ledger or
    on disk), settling for late records or corrections on `today` (the run's date, as `due`
    gets it), nights of the period or its comparison window still being run, or istv_nightly
    runs still queued (the debounce in the module docstring)."""
    ledger_url = settings.ledger_url
    complete, waiting = [], []
    for partner, period in pairs:
        try:
            require_complete(ledger_url, period, settings.data_root)
        except IncompletePeriod as error:
            waiting.append(f"{partner.id}: {error}")
            continue
        settling = _settling(settings, partner, period, today)
        if settling:
            waiting.append(f"{partner.id}: {period.label} {settling}")
            continue
        if nightly_queued:
            waiting.append(
                f"{partner.id}: {period.label} waits until the queued istv_nightly runs (a "
                "backfill or catch-up) have finished; it is published once they are done"
            )
            continue
        window = [night for p in period.last(TREND_PERIODS) for night in p.nights()]
        busy = nights_in_progress(ledger_url, window)
        if busy:
            waiting.append(
                f"{partner.id}: {period.label} waits until istv_nightly has finished "
                f"{compress_nights(busy)} (nights of the period or its trend); it is published "
                "once they are done"
            )
        else:
            complete.append((partner, period))
    return complete, waiting


def is_settling(reason: str) -> bool:
    """Whether a reason `ready` gave is settling: the normal wait for late records, which
    raises no alert (every reason starts "<partner>: <period> ")."""
    return reason.partition(": ")[2].partition(" ")[2].startswith(SETTLING)


def _settling(settings: Settings, partner: Partner, period: Period, today: dt.date) -> str | None:
    """Why the period still settles on `today`, or None once it may be published: settling
    days after its end, or, when published, after the latest re-run since its latest version
    (a version without a record of what it was built from has no mark: its end counts)."""
    days = dt.timedelta(days=settings.settling_days)
    if not days:
        return None
    latest = _latest_built(settings, partner, period)
    rerun = None
    if latest is not None:
        from istv.versions import rerun_since

        rerun = rerun_since(settings.ledger_url, period, latest[1].ledger_mark)
    if rerun is None:
        until = period.end + days
        return None if today >= until else f"{SETTLING} late records may still arrive until {until}"
    start = max(period.end, local_date(rerun)) + days
    if today >= start:
        return None
    return (
        f"{SETTLING} corrections to {period.label} since {latest[0]} are published together "
        f"from {start}"
    )


def _unpublished_or_rerun(settings: Settings, partner: Partner, period: Period) -> bool:
    """No version yet, no record of what the latest was built from, or a night re-run since."""
    from istv.versions import ledger_mark

    latest = _latest_built(settings, partner, period)
    return latest is None or ledger_mark(settings.ledger_url, period) > latest[1].ledger_mark


def _latest_built(
    settings: Settings, partner: Partner, period: Period
) -> tuple[str, BuiltFrom] | None:
    """The period's latest version and what it was built from; None when it has no version
    or its latest was published before versions were recorded (istv/versions.py)."""
    from exports.publish import _latest_version
    from istv.versions import built_from
    from istv.zones import Zones

    latest = _latest_version(Zones(settings.data_root).published / partner.id / period.label)
    if latest is None:
        return None
    built = built_from(settings.ledger_url, partner.id, period.label, latest.name)
    return None if built is None else (latest.name, built)
