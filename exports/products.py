"""Partner product tables: TRUE counts for one partner's area and one fixed period.

Pure functions from restricted/ records (one row per assault, schemas/restricted.yaml) to the
tables of schemas/products.yaml, with exactly the columns listed there (keys, then counts, then
derived). Nothing here rounds or suppresses: the disclosure step (exports/publish.py) applies the
policy afterwards, and totals here are sums of true values so it can round them independently.

Rules every product follows:
- Period: only records whose `arrival_date` (the restricted partition, the ingest night) lies in
  [period.start, period.end) count; anything else passed in is ignored.
- Area: a record belongs to the area when its place-of-assault `lsoa21cd` is in the area's LSOAs;
  records without an LSOA belong to no area. `prescribed_return` is about residents instead: it
  uses `residence_lsoa21cd`.
- Places: a record has a place (a name and a point) only when its location class is neither
  `private_dwelling` nor `unknown` and it has a gazetteer `place_id`. Private dwellings count in
  area-level totals (methods, location classes, time of day, demographics, trend) only.
- Missing codes: a missing method, location class or age band counts as `unknown`, a missing sex
  as `X` (not known); a code outside its list raises ValueError (fail closed, never dropped).
- Every row order is fixed, so shuffled input gives identical tables.
- Not available is not zero: a trend period, or the previous period of hotspots, whose nights
  were not all ingested (`complete` leaves it out) gets a blank (pd.NA) count, never 0; the
  disclosure step keeps it blank and the files show it as an empty cell.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import yaml

from anonymiser.disclosure import RECORD_K
from anonymiser.generalise import UNKNOWN, age_band_labels
from schemas import SCHEMAS_DIR, codes
from transforms.gazetteer import LOCATION_CLASSES
from transforms.parse import TIMEZONE

if TYPE_CHECKING:
    from istv.periods import Period

METHODS = ("sharp", "blunt", "firearm", "bodily_force", "sexual", "other", "unknown")
# Classes that never carry a place name, an LSOA or a point in anything published.
NOT_A_PLACE = ("private_dwelling", "unknown")
# The night-time economy segment of time_of_day: licensed premises and the streets around them.
NIGHT_TIME_ECONOMY = ("licensed_premises", "street")
SEGMENTS = ("all", "night_time_economy")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PEAK_BAND_HOURS = 3
BANDS = tuple(
    f"{h:02d}:00-{(h + PEAK_BAND_HOURS) % 24:02d}:00" for h in range(0, 24, PEAK_BAND_HOURS)
)
ALL_LABEL = "all"
SEX_NOT_KNOWN = "X"

# Place attributes a hotspot row carries (besides place_id).
_PLACE_ATTRIBUTES = ["place_name", "location_class", "lsoa21cd", "easting", "northing"]
_HHMM = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], dtype=object)


@cache
def _specs() -> dict[str, dict]:
    raw = yaml.safe_load((SCHEMAS_DIR / "products.yaml").read_text(encoding="utf-8"))
    return raw["products"]


PRODUCT_NAMES: tuple[str, ...] = tuple(_specs())


def columns_of(product: str) -> list[str]:
    """The columns of a product, in order: keys, then counts, then derived (products.yaml)."""
    try:
        spec = _specs()[product]
    except KeyError:
        raise ValueError(
            f"{product!r} is not a product; products.yaml lists {', '.join(PRODUCT_NAMES)}"
        ) from None
    return [*spec["keys"], *spec["counts"], *spec["derived"]]


def build_products(
    records: pd.DataFrame,
    area_lsoas: set[str],
    period: Period,
    previous: pd.DataFrame | None,
    trend_records: pd.DataFrame | None,
    trend_periods: list[Period],
    products: list[str],
    total_label: str = "total",
    complete: set[str] | None = None,
    record_k: int | None = None,
) -> dict[str, pd.DataFrame]:
    """True-count tables for the area and period, one per requested product (schema order).

    records        restricted records of the period, any area (filtered here to area and period)
    area_lsoas     LSOA 2021 codes of the partner's area
    previous       records of the previous period, for hotspots' previous_assaults (None: zeros;
                   records outside period.previous() are ignored)
    trend_records  records covering `trend_periods` (needed for `trend` and `method_trend`)
    trend_periods  the periods of the trend table, oldest first (usually period.last(12))
    products       product names from products.yaml; `prescribed_return` is built only for
                   quarters and left out of the result for other kinds of period
    total_label    the key value of total rows (methods, location_classes, demographics)
    complete       labels of the periods whose every night was ingested (None: all of them);
                   trend rows and hotspots' previous_assaults of other periods are blank
    record_k       k of `istv_records_coarse` (exports/coarse_records.py; None: RECORD_K)

    Hotspots: every place with at least one assault is listed, with no threshold; the publisher
    drops places whose published count is suppressed, then re-ranks, and fills `change` (left
    None here) from the published values, so a change never reveals a suppressed count.
    """
    unknown = sorted(set(products) - set(PRODUCT_NAMES))
    if unknown:
        raise ValueError(f"unknown products {unknown}; products.yaml lists {list(PRODUCT_NAMES)}")
    area = [code for code in area_lsoas if isinstance(code, str)]
    current = _in_period(_records(records), period)
    here = current[current["lsoa21cd"].isin(area)]
    out: dict[str, pd.DataFrame] = {}
    for name in PRODUCT_NAMES:
        if name not in products:
            continue
        if name == "istv_records":
            table = istv_records(here)
        elif name == "istv_records_coarse":
            from exports.coarse_records import coarse_records  # it reads BANDS from here

            k = RECORD_K if record_k is None else record_k
            table = coarse_records(istv_records(here), period, k).rows
        elif name == "hotspots":
            before = _in_previous(_records(previous), period)
            known = complete is None or period.previous().label in complete
            table = hotspots(here, before[before["lsoa21cd"].isin(area)], known)
        elif name == "time_of_day":
            table = time_of_day(here)
        elif name == "peak_times":
            table = peak_times(here)
        elif name == "methods":
            table = _with_total(
                _category_counts(here["assault_method"], METHODS, "assault_method"),
                "assault_method",
                total_label,
            )
        elif name == "location_classes":
            table = _with_total(
                _category_counts(here["location_class"], LOCATION_CLASSES, "location_class"),
                "location_class",
                total_label,
            )
        elif name == "demographics":
            table = demographics(here, total_label)
        elif name in ("trend", "method_trend"):
            if trend_records is None:
                raise ValueError(f"the {name} product needs trend_records (records of its periods)")
            every = _records(trend_records)
            over_time = trend if name == "trend" else method_trend
            table = over_time(every[every["lsoa21cd"].isin(area)], trend_periods, complete)
        elif name == "prescribed_return":
            if period.kind != "quarter":
                continue
            table = prescribed_return(current[current["residence_lsoa21cd"].isin(area)])
        out[name] = table[columns_of(name)].reset_index(drop=True)
    return out


# --- products (each takes records already filtered to area and period) -----------------------


def istv_records(records: pd.DataFrame) -> pd.DataFrame:
    """One row per assault; place name, LSOA and point only where the rules above allow."""
    location = _codes(records["location_class"], LOCATION_CLASSES, "location_class")
    public = ~location.isin(NOT_A_PLACE)
    place = public & records["place_id"].notna()
    table = pd.DataFrame(
        {
            "arrival_date": _format_dates(records["arrival_date"], "%Y-%m-%d"),
            "arrival_time": _hhmm(records["arrival_datetime"]),
            "assault_date": _format_dates(records["assault_date"], "%Y-%m-%d"),
            "assault_hour": _hours(records["assault_hour"]),
            "assault_method": _codes(records["assault_method"], METHODS, "assault_method"),
            "location_class": location,
            "place_name": records["place_name"].astype("str").where(place),
            "lsoa21cd": records["lsoa21cd"].astype("str").where(public),
            "easting": records["easting"].astype("float64").where(place),
            "northing": records["northing"].astype("float64").where(place),
        },
        index=records.index,
    )
    return table.sort_values(list(table.columns), kind="stable", na_position="last")


def hotspots(
    records: pd.DataFrame, previous: pd.DataFrame, previous_complete: bool = True
) -> pd.DataFrame:
    """Places ranked by assaults (desc, then place_name, then place_id), with peak times.

    previous_assaults is blank (pd.NA) for every place when the previous period was not fully
    ingested: a count of part of a period would read as a fall.

    peak_weekday: the weekday with most assaults at the place (ties: the earliest, Monday first).
    peak_hours: the 3-hour window, wrapping midnight, with most assaults, labelled by its start
    and (exclusive) end, e.g. "22:00-01:00"; ties go to the window whose middle hour has most
    assaults, then to the earliest start hour.
    """
    places = _places(records)
    ids, uniques = pd.factorize(places["place_id"], sort=True)
    n = len(uniques)
    assaults = np.bincount(ids, minlength=n)

    weekday = assault_weekdays(places)
    by_weekday = np.bincount(ids * 7 + (weekday - 1), minlength=n * 7).reshape(n, 7)
    peak_weekday = np.asarray(WEEKDAYS, dtype=object)[by_weekday.argmax(axis=1)]

    by_hour = np.bincount(ids * 24 + _hours(places["assault_hour"]).to_numpy(), minlength=n * 24)
    by_hour = by_hour.reshape(n, 24)
    middle = np.roll(by_hour, -1, axis=1)
    window = by_hour + middle + np.roll(by_hour, -2, axis=1)
    start = (window * (by_hour.max(initial=0) + 1) + middle).argmax(axis=1)
    labels = np.asarray(
        [f"{h:02d}:00-{(h + PEAK_BAND_HOURS) % 24:02d}:00" for h in range(24)], dtype=object
    )

    before = _places(previous)["place_id"].value_counts()
    table = pd.DataFrame(
        {
            "place_id": pd.Series(uniques, dtype="str"),
            "assaults": assaults.astype("int64"),
            "previous_assaults": pd.Series(
                pd.Series(uniques).map(before).fillna(0).to_numpy(dtype="int64"), dtype="Int64"
            )
            if previous_complete
            else pd.Series([pd.NA] * n, dtype="Int64"),
            "peak_weekday": pd.Series(peak_weekday, dtype="str"),
            "peak_hours": pd.Series(labels[start], dtype="str"),
        }
    )
    table = table.merge(_place_attributes(places), on="place_id", how="left", validate="1:1")
    table = table.sort_values(
        ["assaults", "place_name", "place_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1, dtype="int64")
    table["change"] = pd.Series([None] * len(table), dtype=object)
    return table


def time_of_day(records: pd.DataFrame) -> pd.DataFrame:
    """Assaults by weekday (1-7) and hour (0-23), all and night-time economy: 168 rows each."""
    cell = (assault_weekdays(records) - 1) * 24 + _hours(records["assault_hour"]).to_numpy()
    location = _codes(records["location_class"], LOCATION_CLASSES, "location_class")
    night_time = location.isin(NIGHT_TIME_ECONOMY).to_numpy()
    counts = [np.bincount(cell, minlength=168), np.bincount(cell[night_time], minlength=168)]
    return pd.DataFrame(
        {
            "segment": pd.Series(np.repeat(np.asarray(SEGMENTS, dtype=object), 168), dtype="str"),
            "weekday": np.tile(np.repeat(np.arange(1, 8), 24), len(SEGMENTS)).astype("int64"),
            "hour": np.tile(np.arange(24), 7 * len(SEGMENTS)).astype("int64"),
            "assaults": np.concatenate(counts).astype("int64"),
        }
    )


def peak_times(records: pd.DataFrame) -> pd.DataFrame:
    """Assaults on each weekday (hours "all"), then in each 3-hour band (weekday "all"): true
    counts, zeros included. Only these margins, never the weekday x band cells under them, so
    no published cell can be recovered by subtracting the others from its total."""
    band = _hours(records["assault_hour"]).to_numpy() // PEAK_BAND_HOURS
    by_day = np.bincount(assault_weekdays(records) - 1, minlength=7)
    by_band = np.bincount(band, minlength=len(BANDS))
    rows = [(day, ALL_LABEL, int(n)) for day, n in zip(WEEKDAYS, by_day, strict=True)]
    rows += [(ALL_LABEL, hours, int(n)) for hours, n in zip(BANDS, by_band, strict=True)]
    return pd.DataFrame(rows, columns=["weekday", "hours", "assaults"]).astype(
        {"weekday": "str", "hours": "str", "assaults": "int64"}
    )


def demographics(records: pd.DataFrame, total_label: str = "total") -> pd.DataFrame:
    """Assaults by age band x sex, every combination (zeros included), then a total row."""
    bands = [*age_band_labels(), UNKNOWN]
    sexes = codes("sex")
    age = _codes(records["age_band"], bands, "age_band")
    sex = _codes(records["sex"].astype("string").str.strip().str.upper(), sexes, "sex", "X")
    cells = pd.MultiIndex.from_product([bands, sexes], names=["age_band", "sex"])
    counts = (
        pd.DataFrame({"age_band": age, "sex": sex})
        .value_counts()
        .reindex(cells, fill_value=0)
        .astype("int64")
        .rename("assaults")
        .reset_index()
    )
    total = pd.DataFrame(
        {"age_band": [total_label], "sex": [total_label], "assaults": [int(counts.assaults.sum())]}
    )
    return pd.concat([counts, total], ignore_index=True).astype({"age_band": "str", "sex": "str"})


def trend(
    records: pd.DataFrame, periods: list[Period], complete: set[str] | None = None
) -> pd.DataFrame:
    """Assaults in each period (by arrival date), in the order given, zeros included; blank
    (pd.NA) for a period not in `complete` (None: every period is complete)."""
    dates = _dates(records["arrival_date"]).to_numpy()
    counts = [
        int(((dates >= np.datetime64(p.start)) & (dates < np.datetime64(p.end))).sum())
        for p in periods
    ]
    labels = pd.Series([p.label for p in periods], dtype="str")
    return pd.DataFrame({"period": labels, "assaults": _blank_unless(counts, labels, complete)})


def method_trend(
    records: pd.DataFrame, periods: list[Period], complete: set[str] | None = None
) -> pd.DataFrame:
    """Assaults by method in each period (by arrival date): every period x method, zeros too;
    blank (pd.NA) for a period not in `complete` (None: every period is complete)."""
    dates = _dates(records["arrival_date"]).to_numpy()
    method = _codes(records["assault_method"], METHODS, "assault_method").to_numpy()
    rows = []
    for p in periods:
        inside = method[(dates >= np.datetime64(p.start)) & (dates < np.datetime64(p.end))]
        counts = pd.Series(inside).value_counts().reindex(METHODS, fill_value=0)
        rows += [(p.label, m, int(counts[m])) for m in METHODS]
    table = pd.DataFrame(rows, columns=["period", "assault_method", "assaults"]).astype(
        {"period": "str", "assault_method": "str", "assaults": "int64"}
    )
    table["assaults"] = _blank_unless(table["assaults"], table["period"], complete)
    return table


def _blank_unless(counts, labels: pd.Series, complete: set[str] | None) -> pd.Series:
    """Counts as Int64, blank (pd.NA) where the period label is not complete."""
    values = pd.Series(np.asarray(counts, dtype="int64"), index=labels.index, dtype="Int64")
    if complete is None:
        return values
    return values.where(labels.isin(complete), pd.NA)


def prescribed_return(residents: pd.DataFrame) -> pd.DataFrame:
    """Month of arrival x outward code of residence x method, only combinations that occur."""
    outcode = residents["residence_outcode"].astype("string").str.strip().str.upper()
    frame = pd.DataFrame(
        {
            "month": _format_dates(residents["arrival_date"], "%Y-%m"),
            "residence_outcode": outcode.mask(outcode == "").fillna(UNKNOWN).astype("str"),
            "assault_method": _codes(residents["assault_method"], METHODS, "assault_method"),
        }
    )
    keys = list(frame.columns)
    counts = frame.groupby(keys, sort=True).size().rename("assaults").reset_index()
    return counts.astype({"assaults": "int64"}).sort_values(keys, kind="stable")


def night_digests(
    records: pd.DataFrame, area_lsoas: set[str], period: Period, residents: bool
) -> dict[str, str]:
    """night (YYYY-MM-DD) -> sha256 of the period's OWN records for the area on that night.

    Own records are those the partner's products count: assaults placed in the area, and for a
    bundle with the prescribed return also residents of the area. Only the columns the products
    read are hashed, as text, rows sorted, so the digest changes exactly when a late, corrected
    or withdrawn record changes what the period's own tables are built from, and not when only
    the trend or the previous period (context) changed. Nights without own records are absent.
    """
    frame = _in_period(_records(records), period)
    area = [code for code in area_lsoas if isinstance(code, str)]
    own = frame["lsoa21cd"].isin(area)
    if residents:
        own |= frame["residence_lsoa21cd"].isin(area)
    frame = frame[own.to_numpy()]
    if frame.empty:
        return {}
    text = pd.DataFrame(
        {c: frame[c].astype("string").fillna("") for c in _COLUMNS if c in frame.columns}
    )
    text.insert(0, "night", _format_dates(frame["arrival_date"], "%Y-%m-%d"))
    text = text.sort_values(list(text.columns), kind="stable")
    return {
        str(night): hashlib.sha256(
            rows.to_csv(index=False, lineterminator="\n").encode("utf-8")
        ).hexdigest()
        for night, rows in text.groupby("night", sort=True)
    }


# --- helpers ---------------------------------------------------------------------------------

_COLUMNS = [
    "arrival_datetime",
    "arrival_date",
    "assault_date",
    "assault_hour",
    "assault_weekday",
    "age_band",
    "sex",
    "residence_outcode",
    "residence_lsoa21cd",
    "assault_method",
    "location_class",
    "place_id",
    "place_name",
    "lsoa21cd",
    "easting",
    "northing",
]


def _records(frame: pd.DataFrame | None) -> pd.DataFrame:
    """The input with the columns the products read; no rows (or None) may lack columns."""
    if frame is None or (len(frame) == 0 and not set(_COLUMNS) <= set(frame.columns)):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in _COLUMNS})
    optional = {"assault_weekday"}
    missing = [c for c in _COLUMNS if c not in frame.columns and c not in optional]
    if missing:
        raise ValueError(f"restricted records lack columns {missing}")
    return frame


def _in_period(records: pd.DataFrame, period: Period) -> pd.DataFrame:
    dates = _dates(records["arrival_date"]).to_numpy()
    inside = (dates >= np.datetime64(period.start)) & (dates < np.datetime64(period.end))
    return records[inside]


def _in_previous(records: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Records of the period before `period` (same kind)."""
    return _in_period(records, period.previous())


def _dates(values: pd.Series) -> pd.Series:
    """Local calendar dates as datetime64 (accepts dates, strings, naive or aware timestamps)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(TIMEZONE).dt.tz_localize(None).dt.normalize()
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.normalize()
    ids, uniques = pd.factorize(values)  # few distinct dates: convert each once
    converted = pd.to_datetime(pd.Index(uniques, dtype=object)).normalize()
    out = converted.take(ids, allow_fill=True, fill_value=pd.NaT)
    return pd.Series(out, index=values.index).astype("datetime64[us]")


def _format_dates(values: pd.Series, fmt: str) -> pd.Series:
    dates = _dates(values)
    ids, uniques = pd.factorize(dates)
    labels = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    if (ids < 0).any():
        raise ValueError("records without a date cannot be published")
    return pd.Series(labels[ids], index=values.index, dtype="str")


def _hhmm(values: pd.Series) -> pd.Series:
    """HH:MM of local (Europe/London) arrival times."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(TIMEZONE)
    elif not pd.api.types.is_datetime64_dtype(values.dtype):
        values = pd.to_datetime(values)
    if values.isna().any():
        raise ValueError("records without an arrival time cannot be published")
    minutes = (values.dt.hour * 60 + values.dt.minute).to_numpy(dtype="int64")
    return pd.Series(_HHMM[minutes], index=values.index, dtype="str")


def _hours(values: pd.Series) -> pd.Series:
    if values.isna().any():
        raise ValueError("records without an assault hour cannot be counted by hour")
    hours = values.astype("int64")
    if ((hours < 0) | (hours > 23)).any():
        raise ValueError("assault_hour must be 0-23")
    return hours


def assault_weekdays(records: pd.DataFrame) -> np.ndarray:
    """ISO weekday (1 = Monday) of the assault: assault_weekday, else from assault_date."""
    from_date = _dates(records["assault_date"]).dt.dayofweek + 1
    if "assault_weekday" in records.columns:
        weekday = records["assault_weekday"].astype("Int64").fillna(from_date.astype("Int64"))
    else:
        weekday = from_date.astype("Int64")
    if weekday.isna().any():
        raise ValueError("records without an assault date cannot be counted by weekday")
    weekday = weekday.to_numpy(dtype="int64")
    if ((weekday < 1) | (weekday > 7)).any():
        raise ValueError("assault_weekday must be 1 (Monday) to 7 (Sunday)")
    return weekday


def _codes(values: pd.Series, allowed, what: str, missing: str = UNKNOWN) -> pd.Series:
    """Values as strings, missing ones as `missing`; a value outside `allowed` is an error."""
    out = values.astype("string").fillna(missing).astype("str")
    strange = sorted(set(out.unique()) - set(allowed))
    if strange:
        raise ValueError(f"{what} has values outside its code list: {strange}")
    return out


def _category_counts(values: pd.Series, categories, what: str) -> pd.DataFrame:
    counts = _codes(values, categories, what).value_counts().reindex(categories, fill_value=0)
    return pd.DataFrame(
        {what: pd.Series(categories, dtype="str"), "assaults": counts.to_numpy(dtype="int64")}
    )


def _with_total(table: pd.DataFrame, key: str, total_label: str) -> pd.DataFrame:
    total = pd.DataFrame({key: [total_label], "assaults": [int(table["assaults"].sum())]})
    return pd.concat([table, total], ignore_index=True).astype({key: "str", "assaults": "int64"})


def _places(records: pd.DataFrame) -> pd.DataFrame:
    """Records at a place: a gazetteer place_id and a class that is not a dwelling or unknown."""
    location = records["location_class"].astype("string").fillna(UNKNOWN)
    return records[records["place_id"].notna() & ~location.isin(NOT_A_PLACE).to_numpy()]


def _place_attributes(places: pd.DataFrame) -> pd.DataFrame:
    """Name, class, LSOA and point of each place: its most frequent combination (ties: least)."""
    columns = ["place_id", *_PLACE_ATTRIBUTES]
    frame = places[columns].astype(
        {
            "place_id": "str",
            "place_name": "str",
            "location_class": "str",
            "lsoa21cd": "str",
            "easting": "float64",
            "northing": "float64",
        }
    )
    combos = frame.value_counts(dropna=False).rename("n").reset_index()
    combos = combos.sort_values(
        ["place_id", "n", *_PLACE_ATTRIBUTES],
        ascending=[True, False, *[True] * len(_PLACE_ATTRIBUTES)],
        kind="stable",
        na_position="last",
    )
    return combos.drop_duplicates("place_id")[columns]
