"""True-count product tables with known cells, passed through the real disclosure step: what the
charts, the map and the briefing are drawn from in a bundle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anonymiser.disclosure import load_policy
from exports.products import METHODS, SEGMENTS, columns_of, peak_times
from exports.publish import disclose_products
from transforms.gazetteer import LOCATION_CLASSES

PERIODS = ["2025-11", "2025-12", *[f"2026-{m:02d}" for m in range(1, 11)]]  # up to 2026-10
# weekday (1 = Monday), hour -> true count; every other cell is 0
BUSY = {(6, 23): 31, (6, 22): 24, (7, 0): 26, (5, 23): 18, (3, 13): 3}
HOTSPOTS = [  # place_id, name, class, assaults, previous, easting, northing
    ("V1", "The Copper Kettle", "licensed_premises", 41, 30, 431200.0, 281400.0),
    ("S1", "High Street", "street", 22, 5, 431000.0, 281000.0),
    ("V2", "Nembridge Station", "transport", 12, 0, 430600.0, 281900.0),
    ("V3", "Small Bar", "licensed_premises", 4, 9, 431800.0, 280800.0),  # suppressed: dropped
]
TREND = [120, 131, 5, 0, 150, 160, 170, 101, 99, 98, 97, 142]
METHOD_COUNTS = {
    "sharp": 30,
    "blunt": 41,
    "firearm": 3,
    "bodily_force": 200,
    "sexual": 6,
    "other": 12,
    "unknown": 0,
}


def busy_records() -> pd.DataFrame:
    """One record per assault in BUSY (a Monday 2026-10-19 week), for products built from rows."""
    cells = [(w, h) for (w, h), n in BUSY.items() for _ in range(n)]
    return pd.DataFrame(
        {
            "assault_weekday": [w for w, _ in cells],
            "assault_hour": [h for _, h in cells],
            "assault_date": [pd.Timestamp("2026-10-18") + pd.Timedelta(days=w) for w, _ in cells],
        }
    )


def true_tables() -> dict[str, pd.DataFrame]:
    cells = [(s, w, h) for s in SEGMENTS for w in range(1, 8) for h in range(24)]
    time_of_day = pd.DataFrame(cells, columns=["segment", "weekday", "hour"])
    time_of_day["assaults"] = [
        BUSY.get((w, h), 0) if s == "all" else BUSY.get((w, h), 0) // 2 for s, w, h in cells
    ]
    hotspots = pd.DataFrame(
        [
            {
                "rank": i + 1,
                "place_id": pid,
                "place_name": name,
                "location_class": kind,
                "lsoa21cd": "E01990001",
                "easting": e,
                "northing": n,
                "peak_weekday": "Saturday",
                "peak_hours": "22:00-01:00",
                "assaults": now,
                "previous_assaults": before,
                "change": None,
            }
            for i, (pid, name, kind, now, before, e, n) in enumerate(HOTSPOTS)
        ]
    )
    methods = pd.DataFrame(
        {
            "assault_method": [*METHODS, "total"],
            "assaults": [*METHOD_COUNTS.values(), sum(METHOD_COUNTS.values())],
        }
    )
    method_trend = pd.DataFrame(
        [(p, m, METHOD_COUNTS[m] + 5 * i) for i, p in enumerate(PERIODS) for m in METHODS],
        columns=["period", "assault_method", "assaults"],
    )
    classes = {c: 0 for c in LOCATION_CLASSES} | {
        "licensed_premises": 150,
        "street": 90,
        "private_dwelling": 40,
        "unknown": 12,
    }
    location_classes = pd.DataFrame(
        {"location_class": [*classes, "total"], "assaults": [*classes.values(), 292]}
    )
    tables = {
        "hotspots": hotspots,
        "time_of_day": time_of_day,
        "peak_times": peak_times(busy_records()),
        "methods": methods,
        "location_classes": location_classes,
        "trend": pd.DataFrame({"period": PERIODS, "assaults": TREND}),
        "method_trend": method_trend,
    }
    out = {}
    for name, table in tables.items():
        columns = columns_of(name)
        counts = [c for c in columns if c in ("assaults", "previous_assaults")]
        out[name] = table[columns].astype({c: np.int64 for c in counts})
    return out


def disclosed_tables() -> dict[str, pd.DataFrame]:
    return disclose_products(true_tables(), load_policy())


def published_values(tables: dict[str, pd.DataFrame]):
    """product -> its published count values as text, as the audit reads them from a bundle."""
    from schemas import load_products

    def values(product: str) -> frozenset[str]:
        columns = load_products()[product]["counts"] if product in tables else []
        return frozenset(str(v) for c in columns for v in tables[product][c])

    return values
