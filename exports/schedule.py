"""Which publications are due: for each partner and each kind of period it gets (its cadence's,
plus quarters for the prescribed return), the latest complete period.

The partner DAG runs whenever the restricted records change (every night); a weekly partner's
week becomes due after its Sunday night, a monthly one after the month's last night. A period
already published is published again only if its data changed (exports/publish.py decides).
"""

from __future__ import annotations

import datetime as dt

from istv.completeness import IncompletePeriod, require_complete
from istv.partners import Partner
from istv.periods import Period, latest_complete, parse_period


def due(
    partners: list[Partner],
    today: dt.date,
    period_label: str | None = None,
    partner_id: str | None = None,
) -> list[tuple[Partner, Period]]:
    """(partner, period) pairs to publish; a requested period goes to partners of its kind."""
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
    return [(p, latest_complete(kind, today)) for p in chosen for kind in p.period_kinds]


def ready(
    pairs: list[tuple[Partner, Period]], ledger_url: str
) -> tuple[list[tuple[Partner, Period]], list[str]]:
    """Pairs whose every night is ingested, and for the rest why they wait (missing nights)."""
    complete, waiting = [], []
    for partner, period in pairs:
        try:
            require_complete(ledger_url, period)
            complete.append((partner, period))
        except IncompletePeriod as error:
            waiting.append(f"{partner.id}: {error}")
    return complete, waiting
