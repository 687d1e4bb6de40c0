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
- debounce: a night of the period or of its comparison window (the trend's periods, which
  include the previous one) is being run: its latest ledger entry is an "ok" stage before the
  final one (started, not finished; a failed stage ends a run), or
- istv_nightly still has runs queued (`nightly_queued`, from Airflow: a backfill or catch-up
  queues all its runs at once, and the ledger cannot see a night before it starts). Every
  period waits then, because a queued night's date is not known here.
So during a backfill a period is published once, after the backfill's last night, not once per
backfilled night; a normal night queues nothing, so its periods publish at once.
"""

from __future__ import annotations

import datetime as dt

from istv.completeness import (
    IncompletePeriod,
    compress_nights,
    first_ingested_night,
    nights_in_progress,
    require_complete,
)
from istv.partners import Partner
from istv.periods import Period, latest_complete, parse_period, periods_from
from istv.settings import Settings

TREND_PERIODS = 12  # as exports/publish.py: the trend (comparison window) is period.last(12)


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
    pairs: list[tuple[Partner, Period]], settings: Settings, nightly_queued: bool = False
) -> tuple[list[tuple[Partner, Period]], list[str]]:
    """Pairs to publish now, and for the rest why they wait: missing nights (in the ledger or
    on disk), nights of the period or its comparison window still being run, or istv_nightly
    runs still queued (the debounce in the module docstring)."""
    ledger_url = settings.ledger_url
    complete, waiting = [], []
    for partner, period in pairs:
        try:
            require_complete(ledger_url, period, settings.data_root)
        except IncompletePeriod as error:
            waiting.append(f"{partner.id}: {error}")
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


def _unpublished_or_rerun(settings: Settings, partner: Partner, period: Period) -> bool:
    """No version yet, no record of what the latest was built from, or a night re-run since."""
    from exports.publish import _latest_version
    from istv.versions import built_from, ledger_mark
    from istv.zones import Zones

    latest = _latest_version(Zones(settings.data_root).published / partner.id / period.label)
    if latest is None:
        return True
    built = built_from(settings.ledger_url, partner.id, period.label, latest.name)
    return built is None or ledger_mark(settings.ledger_url, period) > built.ledger_mark
