"""An attacker's reading of published bundles, written apart from the release gate.

What recipients who pool their bundles can do: put every published count of every bundle in
their view into one linear program over the records they cannot see, and ask, for each
suppressed count and for each count restricted to one area piece (the part of an area no other
partner covers) or to one block of days, its smallest and largest possible value. Unlike
exports/release_gate.py it reads the tables as published (text), has its own reading of each
shown value, and takes record-level rows for what they say (full rows fix every count they
cover; coarse rows bound each week's counts per value), so a flaw in the gate's model is not
shared by the test that checks it. The true records are used only to judge: a derived count
matters when its true value is 1..7, and the truth must satisfy every constraint (else this
model, not the bundle, is wrong).

Versions: records that arrived after a bundle was published are given to the attacker as
records in a twin of their LSOA (`late`), and a later version's area holds the twins too. The
late records of a cell are then the cell restricted to the twin piece, which the attack solves
like any other piece: a v2 beside its v1 is an area beside its sub-area.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

from anonymiser.generalise import UNKNOWN, age_band_labels
from exports.products import (
    ALL_LABEL,
    BANDS,
    METHODS,
    NIGHT_TIME_ECONOMY,
    WEEKDAYS,
    assault_weekdays,
)
from istv.periods import Period, parse_period
from schemas import codes
from transforms.gazetteer import LOCATION_CLASSES
from transforms.parse import TIMEZONE

INF = highspy.kHighsInf
MAXIMISE, MINIMISE = highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize
CAP = 1e5  # no count of one atom comes near this; a capped program is never unbounded
SUPPRESSED, WITHHELD = "*", "x"
LATE = "+late"  # the twin of an LSOA that holds the records which arrived after a version


def late(area: Iterable[str]) -> frozenset[str]:
    """An area with the twins of its LSOAs: the area of a version that counts late records."""
    return frozenset(area) | {lsoa + LATE for lsoa in area}


READ = (
    "time_of_day",
    "peak_times",
    "methods",
    "location_classes",
    "demographics",
    "trend",
    "method_trend",
    "hotspots",
    "istv_records",
    "istv_records_coarse",
)


@dataclass(frozen=True)
class Bundle:
    partner: str
    period: Period
    area: frozenset[str]  # the LSOAs of the partner's area (public: its local authorities)
    tables: Mapping[str, pd.DataFrame]  # as published, every value text
    rows_left_out: bool = False  # coarse records: the manifest says some rows were left out


@dataclass(frozen=True)
class Finding:
    view: str
    partner: str
    period: str
    product: str
    row: str
    column: str
    part: str  # "" (the published cell), "piece", "days", "piece and days"
    low: int
    high: float
    inside: tuple[str, ...]  # the partners whose area holds every assault the count covers


def read_bundle(folder: Path, partner: str, period: Period, area: Iterable[str]) -> Bundle:
    """A published bundle's CSV tables as text, the way a recipient loads them."""
    tables = {
        path.stem: pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.csv"))
        if path.stem in READ
    }
    manifest = folder / "manifest.json"
    risk = json.loads(manifest.read_text()).get("record_risk") if manifest.exists() else None
    left_out = bool((risk or {}).get("rows_left_out", True))
    return Bundle(partner, period, frozenset(area), tables, left_out)


def shown_interval(shown: str) -> tuple[float, float] | None:
    """The true counts a shown value allows (the published rule: 1-7 as *, else nearest 5)."""
    if shown == "":
        return None
    if shown == WITHHELD:
        return 0, INF
    if shown == SUPPRESSED:
        return 1, 7
    value = int(shown)
    return (0, 0) if value == 0 else (max(value - 2, 8), value + 2)


# --- cells ------------------------------------------------------------------------------------

_FAMILY = {
    "weekday": "time",
    "hour": "time",
    "nte": "time",
    "class": "place",
    "place": "place",
    "method": "method",
    "age_band": "people",
    "sex": "people",
}


@dataclass(frozen=True)
class _Cell:
    bundle: Bundle
    product: str
    row: str
    column: str
    low: float
    high: float
    start: dt.date
    end: dt.date
    where: tuple[tuple[str, frozenset[str]], ...]
    lsoa: str = ""  # a hotspot: its place lies in this LSOA

    @property
    def family(self) -> str:
        families = {_FAMILY[k] for k, _ in self.where}
        assert len(families) <= 1, (self.product, self.row)
        return families.pop() if families else "total"


def _one(value: str) -> frozenset[str]:
    return frozenset({value})


def _cells(bundle: Bundle) -> list[_Cell]:
    cells = []
    period = bundle.period

    def add(product, row, column, shown, days, where, lsoa=""):
        bounds = shown_interval(shown)
        if bounds is not None:
            cells.append(
                _Cell(
                    bundle, product, row, column, *bounds, days.start, days.end, tuple(where), lsoa
                )
            )

    for product, table in bundle.tables.items():
        for r in table.to_dict("records"):
            if product == "time_of_day":
                where = [("weekday", _one(r["weekday"])), ("hour", _one(r["hour"]))]
                if r["segment"] != "all":
                    where.append(("nte", _one("1")))
                row = f"{r['segment']};{r['weekday']};{r['hour']}"
                add(product, row, "assaults", r["assaults"], period, where)
            elif product == "peak_times":
                if r["hours"] == ALL_LABEL:
                    where = [("weekday", _one(str(WEEKDAYS.index(r["weekday"]) + 1)))]
                else:
                    where = [_band_hours(r["hours"])]
                add(
                    product,
                    f"{r['weekday']};{r['hours']}",
                    "assaults",
                    r["assaults"],
                    period,
                    where,
                )
            elif product in ("methods", "location_classes"):
                key, name = (
                    ("assault_method", "method")
                    if product == "methods"
                    else ("location_class", "class")
                )
                where = [] if r[key] == "total" else [(name, _one(r[key]))]
                add(product, r[key], "assaults", r["assaults"], period, where)
            elif product == "demographics":
                where = (
                    []
                    if r["age_band"] == "total"
                    else [("age_band", _one(r["age_band"])), ("sex", _one(r["sex"]))]
                )
                add(
                    product, f"{r['age_band']};{r['sex']}", "assaults", r["assaults"], period, where
                )
            elif product == "trend":
                add(product, r["period"], "assaults", r["assaults"], parse_period(r["period"]), [])
            elif product == "method_trend":
                add(
                    product,
                    f"{r['period']};{r['assault_method']}",
                    "assaults",
                    r["assaults"],
                    parse_period(r["period"]),
                    [("method", _one(r["assault_method"]))],
                )
            elif product == "hotspots":
                where = [("place", _one(r["place_id"]))]
                add(product, r["place_id"], "assaults", r["assaults"], period, where, r["lsoa21cd"])
                add(
                    product,
                    r["place_id"],
                    "previous_assaults",
                    r["previous_assaults"],
                    period.previous(),
                    where,
                    r["lsoa21cd"],
                )
    return cells


# --- the attack -------------------------------------------------------------------------------


class Attack:
    """One view: the bundles a group of recipients pools, and the records to judge by."""

    def __init__(self, bundles: Sequence[Bundle], records: pd.DataFrame, protection: int = 5):
        self.bundles, self.protection = list(bundles), protection
        self.view = " + ".join(sorted({b.partner for b in bundles}))
        self.cells = [c for b in self.bundles for c in _cells(b)]
        listed = [
            r
            for b in self.bundles
            for r in b.tables.get("hotspots", pd.DataFrame()).to_dict("records")
        ]
        self.places = {r["place_id"]: (r["location_class"], r["lsoa21cd"]) for r in listed}
        self.names = {r["place_name"]: r["place_id"] for r in listed}
        self._atoms()
        self._cells_unlisted()
        self.truth = self._truth(records)
        self._program()

    # atoms: per family, one variable per block x piece x categories
    def _atoms(self) -> None:
        days = {d for c in self.cells for d in (c.start, c.end)}
        for b in self.bundles:
            if "istv_records_coarse" in b.tables:
                days |= {w.start for w in _weeks(b.period)}
        self.edges = sorted(days)
        areas = sorted({b.area for b in self.bundles}, key=sorted)
        self.piece = {}
        for lsoa in set().union(*areas):
            self.piece[lsoa] = ".".join(str(i) for i, a in enumerate(areas) if lsoa in a)
        pieces = sorted(set(self.piece.values()))
        grid = pd.MultiIndex.from_product(
            [range(len(self.edges) - 1), pieces], names=["block", "piece"]
        ).to_frame(index=False)
        places = [(k, "-") for k in LOCATION_CLASSES] + [
            (k, p) for p, (k, _) in self.places.items()
        ]
        categories = {
            "time": pd.MultiIndex.from_product(
                [[str(w) for w in range(1, 8)], [str(h) for h in range(24)], ["0", "1"]],
                names=["weekday", "hour", "nte"],
            ).to_frame(index=False),
            "place": pd.DataFrame(places, columns=["class", "place"]),
            "method": pd.DataFrame({"method": list(METHODS)}),
            "people": pd.MultiIndex.from_product(
                [[*age_band_labels(), UNKNOWN], list(codes("sex"))], names=["age_band", "sex"]
            ).to_frame(index=False),
            "total": pd.DataFrame(index=[0]),
        }
        self.atoms, self.offset, size = {}, {}, 0
        for family, cats in categories.items():
            table = grid.merge(cats, how="cross")
            if family == "place":  # a listed place lies in its LSOA's piece (or its twin's)
                home = {
                    (p, self.piece.get(twin))
                    for p, (_, lsoa) in self.places.items()
                    for twin in (lsoa, lsoa + LATE)
                }
                at_home = [
                    pair in home for pair in zip(table["place"], table["piece"], strict=True)
                ]
                table = table[(table["place"] == "-") | np.array(at_home, dtype=bool)]
            self.atoms[family] = table.reset_index(drop=True)
            self.offset[family], size = size, size + len(table)
        self.size = size
        self.columns = {f: {c: t[c].to_numpy() for c in t.columns} for f, t in self.atoms.items()}

    def _select(
        self,
        family: str,
        start: dt.date,
        end: dt.date,
        area: Iterable[str],
        where: Iterable[tuple[str, frozenset[str]]],
    ) -> np.ndarray:
        col = self.columns[family]
        first, last = self.edges.index(start), self.edges.index(end)
        mask = (col["block"] >= first) & (col["block"] < last)
        mask &= np.isin(col["piece"], sorted({self.piece[a] for a in area if a in self.piece}))
        for name, values in where:
            mask &= np.isin(col[name], sorted(values))
        return self.offset[family] + np.flatnonzero(mask)

    def _columns_of(self, cell: _Cell) -> np.ndarray:
        area = cell.bundle.area
        if cell.lsoa:
            area = [a for a in area if a.removesuffix(LATE) == cell.lsoa]
        return self._select(cell.family, cell.start, cell.end, area, cell.where)

    def _cells_unlisted(self) -> None:
        """A place the view knows but a bundle's hotspots leave out had 0..7 assaults then."""
        for b in self.bundles:
            if "hotspots" not in b.tables:
                continue
            listed = set(b.tables["hotspots"]["place_id"])
            for place, (_, lsoa) in self.places.items():
                if place not in listed and lsoa in b.area:
                    self.cells.append(
                        _Cell(
                            b,
                            "hotspots",
                            place,
                            "unlisted",
                            0,
                            7,
                            b.period.start,
                            b.period.end,
                            (("place", _one(place)),),
                            lsoa,
                        )
                    )

    # the truth, from the restricted records, to judge and as a first feasible point
    def _truth(self, records: pd.DataFrame) -> np.ndarray:
        days = records["arrival_date"]
        if isinstance(days.dtype, pd.DatetimeTZDtype):
            days = days.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        days = pd.to_datetime(days).dt.date
        block = (
            np.searchsorted(
                np.array(self.edges, dtype="datetime64[D]"),
                days.to_numpy(dtype="datetime64[D]"),
                side="right",
            )
            - 1
        )
        piece = records["lsoa21cd"].map(self.piece)
        keep = (block >= 0) & (block < len(self.edges) - 1) & piece.notna().to_numpy()
        r = records[keep]
        klass = r["location_class"].fillna(UNKNOWN).astype(str)
        place = r["place_id"].astype("string").fillna("-").astype(str)
        values = {
            "block": block[keep],
            "piece": piece[keep].to_numpy(),
            "weekday": assault_weekdays(r).astype(str),
            "hour": r["assault_hour"].astype(int).astype(str),
            "nte": np.where(klass.isin(NIGHT_TIME_ECONOMY), "1", "0"),
            "class": klass,
            "place": place.where(place.isin(list(self.places)), "-"),
            "method": r["assault_method"].fillna(UNKNOWN).astype(str),
            "age_band": r["age_band"].fillna(UNKNOWN).astype(str),
            "sex": r["sex"].fillna("X").astype(str).str.upper(),
        }
        frame = pd.DataFrame({k: np.asarray(v) for k, v in values.items()})
        truth = np.zeros(self.size)
        for family, table in self.atoms.items():
            keys = list(table.columns)
            counts = frame.value_counts(keys).rename("n").reset_index()
            hit = table.reset_index().merge(counts, on=keys, how="inner")
            assert hit["n"].sum() == len(frame), f"records outside the {family} atoms"
            truth[self.offset[family] + hit["index"].to_numpy()] = hit["n"].to_numpy()
        return truth

    # the program: published cells, what record-level rows say, and how families sum
    def _program(self) -> None:
        self.cell_columns = [self._columns_of(c) for c in self.cells]
        published = [
            (cols, np.ones(len(cols)), cell.low, cell.high)
            for cell, cols in zip(self.cells, self.cell_columns, strict=True)
        ]
        held = list(self._record_rows())
        for family in ("time", "place", "method", "people"):
            held += self._sums_to_total(family)
        held += self._nte_link()
        for i, (cols, coef, low, high) in enumerate(published + held):
            value = float(coef @ self.truth[cols])
            assert low - 1e-9 <= value <= high + 1e-9, self._explain(i, value, low, high)
        self.highs = _highs(self.size, published + held)
        self._all_columns = np.arange(self.size, dtype=np.int32)

    def _explain(self, i: int, value: float, low: float, high: float) -> str:
        what = self.cells[i] if i < len(self.cells) else "a record-level or family sum row"
        return f"the true records break constraint {i} ({value} not in {low}..{high}): {what}"

    def _sums_to_total(self, family: str):
        col, total = self.columns[family], self.columns["total"]
        for i in range(len(total["block"])):
            part = np.flatnonzero(
                (col["block"] == total["block"][i]) & (col["piece"] == total["piece"][i])
            )
            yield (
                np.r_[self.offset[family] + part, self.offset["total"] + i],
                np.r_[np.ones(len(part)), -1.0],
                0.0,
                0.0,
            )

    def _nte_link(self):
        time, place = self.columns["time"], self.columns["place"]
        for i in range(len(self.columns["total"]["block"])):
            b, p = self.columns["total"]["block"][i], self.columns["total"]["piece"][i]
            t = np.flatnonzero((time["block"] == b) & (time["piece"] == p) & (time["nte"] == "1"))
            q = np.flatnonzero(
                (place["block"] == b)
                & (place["piece"] == p)
                & np.isin(place["class"], NIGHT_TIME_ECONOMY)
            )
            yield (
                np.r_[self.offset["time"] + t, self.offset["place"] + q],
                np.r_[np.ones(len(t)), -np.ones(len(q))],
                0.0,
                0.0,
            )

    def _record_rows(self):
        for b in self.bundles:
            if "istv_records" in b.tables:
                yield from self._full_rows(b, b.tables["istv_records"])
            if "istv_records_coarse" in b.tables:
                yield from self._coarse_rows(b, b.tables["istv_records_coarse"])

    def _full_rows(self, b: Bundle, rows: pd.DataFrame):
        """Full rows: every count of every family in each block of the period, zeros too."""
        days = pd.to_datetime(rows["arrival_date"]).dt.date
        weekday = pd.to_datetime(rows["assault_date"]).dt.dayofweek + 1
        klass = rows["location_class"]
        keyed = {
            "time": pd.DataFrame(
                {
                    "weekday": weekday.astype(str),
                    "hour": rows["assault_hour"],
                    "nte": np.where(klass.isin(NIGHT_TIME_ECONOMY), "1", "0"),
                }
            ),
            "place": pd.DataFrame(
                {"class": klass, "place": rows["place_name"].map(self.names).fillna("-")}
            ),
            "method": pd.DataFrame({"method": rows["assault_method"]}),
            "total": pd.DataFrame(index=rows.index),
        }
        blocks = [
            (s, e)
            for s, e in zip(self.edges[:-1], self.edges[1:], strict=True)
            if b.period.start <= s and e <= b.period.end
        ]
        for family, keys in keyed.items():
            cats = self.atoms[family].drop(columns=["block", "piece"]).drop_duplicates()
            for start, end in blocks:
                inside = ((days >= start) & (days < end)).to_numpy()
                counts = keys[inside].value_counts().to_dict() if keys.shape[1] else {}
                for cat in cats.to_dict("records"):
                    key = tuple(cat.values())
                    n = counts.get(key, 0) if key else int(inside.sum())
                    where = [(k, _one(v)) for k, v in cat.items()]
                    cols = self._select(family, start, end, b.area, where)
                    yield cols, np.ones(len(cols)), float(n), float(n)

    def _coarse_rows(self, b: Bundle, rows: pd.DataFrame):
        """Coarse rows: per week (or the whole period, for generalised rows) and value, the
        rows showing the value are at least that many; with the withheld ones, at most."""
        top = INF if b.rows_left_out else 0.0
        general = rows[~rows["arrival_week"].str.match(r"^\d{4}-\d{2}-\d{2}$")]
        for week in _weeks(b.period):
            mine = rows[rows["arrival_week"] == week.start.isoformat()]
            cols = self._select("total", week.start, week.end, b.area, [])
            yield cols, np.ones(len(cols)), float(len(mine)), len(mine) + len(general) + top
            for family, column, where, values in _COARSE_VALUES:
                for value in values:
                    low = int((mine[column] == value).sum())
                    maybe = mine[column].isin([value, "withheld"]).sum()
                    maybe += general[column].isin([value, "withheld"]).sum()
                    cols = self._select(family, week.start, week.end, b.area, where(value))
                    yield cols, np.ones(len(cols)), float(low), float(maybe) + top

    # solving
    def _solve(self, cost: np.ndarray, sense: highspy.ObjSense) -> np.ndarray:
        """One vertex of the program, optimal for cost (columns are capped, so never unbounded:
        a count that reaches the cap is as good as unbounded here)."""
        self.highs.changeColsCost(self.size, self._all_columns, cost)
        self.highs.changeObjectiveSense(sense)
        self.highs.run()
        status = self.highs.getModelStatus()
        assert status == highspy.HighsModelStatus.kOptimal, status
        return np.asarray(self.highs.getSolution().col_value)

    def _targets(self) -> list[tuple[_Cell, str, np.ndarray]]:
        """Each suppressed or derived count once, when its true value is 1..7."""
        targets, done = [], set()
        for cell, cols in zip(self.cells, self.cell_columns, strict=True):
            if cell.column == "unlisted":
                continue
            for part, sub in self._parts(cell, cols):
                key = sub.tobytes()
                if key not in done and 1 <= self.truth[sub].sum() <= 7:
                    done.add(key)
                    targets.append((cell, part, sub))
        return targets

    def findings(self) -> list[Finding]:
        """Every suppressed or derived count with true value 1..7 narrowed below protection.

        Most counts are cleared in bulk: a vertex that maximises (or minimises) the sum of many
        open counts at once shows how far each can go. Only the counts still open after that
        get their own smallest and largest value."""
        targets = self._targets()
        if not targets:
            return []
        sums = _Sums([sub for _, _, sub in targets], self.size)
        low = sums.of(self.truth)
        high = low.copy()
        rng = np.random.default_rng(7)
        open_ = np.ones(len(targets), dtype=bool)
        for _ in range(8):
            before = open_.sum()
            for sense in (MAXIMISE, MINIMISE):
                weights = np.where(open_, rng.uniform(0.5, 1.5, len(targets)), 0.0)
                point = sums.of(self._solve(sums.cost(weights), sense))
                low, high = np.minimum(low, point), np.maximum(high, point)
            open_ &= _possible_all(low, high) < self.protection
            if open_.sum() > before * 0.9:
                break
        found = []
        for i in np.flatnonzero(open_):
            if _possible(low[i], high[i]) >= self.protection:
                continue  # cleared by a vertex found for another count
            cost = sums.cost(np.eye(1, len(targets), i).ravel())
            senses = (MAXIMISE, MINIMISE) if high[i] < 7 else (MINIMISE, MAXIMISE)
            for n, sense in enumerate(senses):
                if n and _possible(low[i], high[i]) >= self.protection:
                    break  # a finding gets both exact ends; a cleared count needs no more
                point = sums.of(self._solve(cost, sense))
                low, high = np.minimum(low, point), np.maximum(high, point)
            if _possible(low[i], high[i]) < self.protection:
                cell, part, sub = targets[i]
                least, most = int(np.ceil(low[i] - 1e-6)), float(np.floor(high[i] + 1e-6))
                found.append(
                    Finding(self.view, cell.bundle.partner, cell.bundle.period.label,
                            cell.product, cell.row, cell.column, part, least, most,
                            self._inside(sub))
                )  # fmt: skip
        return found

    def _inside(self, cols: np.ndarray) -> tuple[str, ...]:
        pieces = {self._piece_of_column(c) for c in cols}
        partners = {
            b.partner for b in self.bundles if all(self._piece_in(p, b.area) for p in pieces)
        }
        return tuple(sorted(partners))

    def _piece_of_column(self, column: int) -> str:
        family = next(f for f in reversed(list(self.offset)) if column >= self.offset[f])
        return self.columns[family]["piece"][column - self.offset[family]]

    def _piece_in(self, piece: str, area: frozenset[str]) -> bool:
        return any(self.piece[lsoa] == piece for lsoa in area)

    def _parts(self, cell: _Cell, cols: np.ndarray):
        if (cell.low, cell.high) == (1, 7) or cell.high == INF:  # suppressed or withheld
            yield "", cols
        family = cell.family
        table = self.columns[family]
        block = table["block"][cols - self.offset[family]]
        piece = table["piece"][cols - self.offset[family]]
        many_pieces, many_blocks = len(set(piece)) > 1, len(set(block)) > 1
        for p in sorted(set(piece)) if many_pieces else []:
            yield "piece", cols[piece == p]
        for k in sorted(set(block)) if many_blocks else []:
            yield "days", cols[block == k]
            for p in sorted(set(piece)) if many_pieces else []:
                yield "piece and days", cols[(block == k) & (piece == p)]


class _Sums:
    """Many counts, each a sum of columns: their values at a point, and a cost weighting them."""

    def __init__(self, columns: Sequence[np.ndarray], size: int) -> None:
        self.columns, self.size = np.concatenate(columns), size
        self.owner = np.repeat(np.arange(len(columns)), [len(c) for c in columns])
        self.starts = np.cumsum([0, *[len(c) for c in columns[:-1]]])

    def of(self, point: np.ndarray) -> np.ndarray:
        return np.add.reduceat(point[self.columns], self.starts)

    def cost(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.columns, weights=weights[self.owner], minlength=self.size)


def _highs(size: int, rows: Sequence[tuple[np.ndarray, np.ndarray, float, float]]):
    """A HiGHS model over `size` counts (each 0..CAP) with one constraint per row."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = size, len(rows)
    lp.col_cost_ = np.zeros(size)
    lp.col_lower_, lp.col_upper_ = np.zeros(size), np.full(size, CAP)
    lp.row_lower_ = np.array([r[2] for r in rows], dtype=float)
    lp.row_upper_ = np.array([r[3] for r in rows], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.cumsum([0, *[len(r[0]) for r in rows]]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate([r[0] for r in rows]).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([r[1] for r in rows]).astype(float)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    # Only the cost changes between solves, so the last vertex stays feasible: primal simplex
    # starts from it (about 100x faster here than the default dual simplex, which restarts).
    highs.setOptionValue("simplex_strategy", 4)
    highs.passModel(lp)
    return highs


def _band_hours(label: str) -> tuple[str, frozenset[str]]:
    """A peak band label ("09:00-12:00") as the hours it covers."""
    first = int(label[:2])
    return "hour", frozenset(str(first + h) for h in range(3))


# Coarse columns: the family each counts in, and the filter a shown value means.
_COARSE_VALUES = (
    ("time", "assault_band", lambda v: [_band_hours(v)], BANDS),
    ("method", "assault_method", lambda v: [("method", _one(v))], METHODS),
    ("place", "location_class", lambda v: [("class", _one(v))], LOCATION_CLASSES),
)


def _possible(low: float, high: float) -> int:
    """How many of the values 1..7 lie in low..high (what protection counts)."""
    return int(_possible_all(np.array([low]), np.array([high]))[0])


def _possible_all(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    low, high = np.ceil(low - 1e-6), np.floor(high + 1e-6)
    return np.maximum(0, np.minimum(high, 7) - np.maximum(low, 1) + 1)


def _weeks(period: Period) -> list[_Span]:
    """The period's weeks as the coarse rows cut them: from each Monday, clipped to the period."""
    starts = [period.start] + [
        period.start + dt.timedelta(days=i)
        for i in range(1, (period.end - period.start).days)
        if (period.start + dt.timedelta(days=i)).isoweekday() == 1
    ]
    ends = [*starts[1:], period.end]
    return [_Span(s, e) for s, e in zip(starts, ends, strict=True)]


@dataclass(frozen=True)
class _Span:
    start: dt.date
    end: dt.date
