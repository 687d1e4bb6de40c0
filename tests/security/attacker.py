"""An independent differencing attacker: what can a partner prove from everything published?

Deliberately separate from the production release gate (it must catch the gate's mistakes), it
reads only what a partner could know: the CSV files and manifest.json of published bundles, the
partners file (who has which area) and the public LSOA -> LAD lookup. It models the restricted
records as non-negative counts of atoms per (time segment, area piece) and solves linear
programmes (scipy's HiGHS) for the least and greatest true value of every suppressed cell and of
derived quantities (a cell restricted to one area piece or one ISO week, a v2 minus its v1).

Atoms of one (segment, piece) group, in families that must agree on the group's total:
  T (weekday, hour, night-time-economy flag)   time_of_day, peak_times, trend, istv_records
  L (location_class, place_id or "")           location_classes, hotspots, istv_records
  M (method,)                                  methods, method_trend, istv_records
  A (age_band, sex)                            demographics
Segments are the intersections of every period in view (weeks cut by months, and the nights a
later version names as changed). Atoms have a state: "base", or "late" (records added between
a v1 and a later version, only on the nights the later version's reason names).
Left out: prescribed_return (residents, a different population: its cells keep 1..7).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from istv.periods import parse_period

NIGHT_TIME_ECONOMY = ("licensed_premises", "street")  # products.yaml: the time_of_day segment
WITHHELD = "withheld"
SECONDARY = "x"
BAND_HOURS = 3
INF = math.inf


@dataclass(frozen=True)
class Rule:
    suppress_up_to: int = 7
    rounding_base: int = 5
    symbol: str = "*"

    def bounds(self, shown: str) -> tuple[float, float] | None:
        """The true counts a shown value allows; None for a blank (no constraint)."""
        if shown == "":
            return None
        if shown == self.symbol:
            return 1, self.suppress_up_to
        if shown == SECONDARY:
            return 0, INF
        value = int(shown)
        if value == 0:
            return 0, 0
        half = self.rounding_base / 2  # halves round up: v - b/2 <= t < v + b/2
        return max(math.ceil(value - half), self.suppress_up_to + 1), math.ceil(value + half) - 1


@dataclass
class Bundle:
    partner: str
    period: str
    version: int
    published_at: str
    reason: str
    rules: dict[str, Rule]
    default: Rule
    tables: dict[str, pd.DataFrame]

    def rule(self, product: str) -> Rule:
        return self.rules.get(product, self.default)

    def changed_nights(self) -> list[dt.date]:
        return [dt.date.fromisoformat(d) for d in re.findall(r"\d{4}-\d{2}-\d{2}", self.reason)]


def read_published(published: Path) -> list[Bundle]:
    """Every bundle under published/<partner>/<period>/<version>/ (its CSV files)."""
    bundles = []
    for manifest in sorted(published.glob("*/*/v*/manifest.json")):
        meta = json.loads(manifest.read_text(encoding="utf-8"))
        policy = meta["policy"]

        def rule(raw: dict) -> Rule:
            return Rule(raw["suppress_up_to"], raw["rounding_base"], raw["suppressed_symbol"])

        tables = {
            f.stem: pd.read_csv(f, dtype=str, keep_default_na=False)
            for f in sorted(manifest.parent.glob("*.csv"))
        }
        bundles.append(
            Bundle(
                partner=manifest.parents[2].name,
                period=manifest.parents[1].name,
                version=int(manifest.parent.name[1:]),
                published_at=meta.get("published_at", ""),
                reason=meta.get("reason", ""),
                rules={p: rule(r) for p, r in policy.get("overrides", {}).items()},
                default=rule(policy["default"]),
                tables=tables,
            )
        )
    return bundles


def area_pieces(partners_file: Path, lsoas_csv: Path) -> tuple[dict[str, str], dict[str, set]]:
    """(LSOA -> piece, partner -> its pieces): a piece is the LSOAs shared by the same partners."""
    partners = yaml.safe_load(partners_file.read_text(encoding="utf-8"))["partners"]
    lookup = pd.read_csv(lsoas_csv, dtype=str)
    members: dict[str, list[str]] = defaultdict(list)
    for p in partners:
        area = p["area"]
        lads, extra = set(area.get("lads") or []), set(area.get("lsoas") or [])
        for lsoa, lad in zip(lookup["lsoa21cd"], lookup["lad_code"], strict=True):
            if lad in lads or lsoa in extra:
                members[lsoa].append(p["id"])
    piece_of = {lsoa: "+".join(sorted(ids)) for lsoa, ids in members.items()}
    pieces: dict[str, set] = defaultdict(set)
    for ids in members.values():
        for partner in ids:
            pieces[partner].add("+".join(sorted(ids)))
    return piece_of, dict(pieces)


@dataclass
class Finding:
    kind: str  # suppressed, piece, week, version
    label: str
    lo: int
    hi: int

    @property
    def exposed(self) -> bool:
        return 1 <= self.lo <= 7 and self.hi - self.lo + 1 < 5


@dataclass
class Report:
    view: str
    suppressed: int = 0
    narrowed: int = 0
    pinned: int = 0
    derived: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def exposed(self) -> list[Finding]:
        return [f for f in self.findings if f.exposed]

    def summary(self) -> str:
        kinds = defaultdict(int)
        for f in self.exposed:
            kinds[f.kind] += 1
        return (
            f"{self.view}: {self.suppressed} suppressed cells, {self.narrowed} narrowed, "
            f"{self.pinned} pinned; {self.derived} derived quantities; exposed {dict(kinds)}"
        )


class Model:
    """Atoms, published constraints and the quantities to bound, for one view."""

    def __init__(self, bundles: list[Bundle], piece_of: dict[str, str], pieces: dict[str, set]):
        self.bundles = bundles
        self.piece_of = piece_of
        self.pieces = pieces
        self.view_pieces = sorted({p for b in bundles for p in pieces[b.partner]})
        self.places: dict[str, tuple[str, str]] = {}  # place_id -> (class, piece)
        self.names: dict[tuple[str, str], str] = {}  # (place_name, lsoa) -> place_id
        for b in bundles:
            for row in b.tables.get("hotspots", pd.DataFrame()).itertuples():
                if row.lsoa21cd in piece_of:
                    self.places[row.place_id] = (row.location_class, piece_of[row.lsoa21cd])
                    self.names[(row.place_name, row.lsoa21cd)] = row.place_id
        self.categories = self._categories()
        late = sorted({n for b in bundles if b.version > 1 for n in b.changed_nights()})
        self.late_nights = set(late)
        cuts = {n for n in late} | {n + dt.timedelta(days=1) for n in late}
        for b in bundles:
            for label in self._periods_of(b):
                p = parse_period(label)
                cuts |= {p.start, p.end}
                if "hotspots" in b.tables:
                    cuts |= {p.previous().start}
        self.cuts = sorted(cuts)
        self.final_from = min(
            (b.published_at for b in bundles if b.version > 1 and b.changed_nights()),
            default=None,
        )
        self.columns: dict[tuple, int] = {}
        self.rows: list[tuple[np.ndarray, float, float]] = []
        self.families: dict[str, list[tuple]] = {}
        self._atoms()

    # --- the atom space -------------------------------------------------------------------

    def _categories(self) -> dict[str, list[tuple]]:
        classes, methods, demo = set(NIGHT_TIME_ECONOMY), set(), set()
        for b in self.bundles:
            t = b.tables
            if "location_classes" in t:
                classes |= set(t["location_classes"]["location_class"])
            if "methods" in t:
                methods |= set(t["methods"]["assault_method"])
            if "method_trend" in t:
                methods |= set(t["method_trend"]["assault_method"])
            if "demographics" in t:
                demo |= set(
                    zip(t["demographics"]["age_band"], t["demographics"]["sex"], strict=True)
                )
        totals = {"total"}
        classes, methods = classes - totals, methods - totals
        demo = {d for d in demo if d[0] not in totals}
        return {
            "T": [(w, h, n) for w in range(1, 8) for h in range(24) for n in (0, 1)],
            "L": [(c, "") for c in sorted(classes)],
            "M": [(m,) for m in sorted(methods)],
            "A": sorted(demo),
        }

    def _periods_of(self, b: Bundle) -> list[str]:
        labels = [b.period]
        for name in ("trend", "method_trend"):
            if name in b.tables:
                labels += list(b.tables[name]["period"].unique())
        return labels

    def segments(self, start: dt.date, end: dt.date) -> list[int]:
        return [i for i in range(len(self.cuts) - 1) if start <= self.cuts[i] < end]

    def _atoms(self) -> None:
        for s in range(len(self.cuts) - 1):
            states = ["base"]
            day = self.cuts[s]
            if day in self.late_nights and self.cuts[s + 1] == day + dt.timedelta(days=1):
                states.append("late")
            for piece in self.view_pieces:
                for state in states:
                    for fam, cats in self.categories.items():
                        if fam == "A" and not cats:
                            continue
                        keys = list(cats)
                        if fam == "L":
                            keys += [
                                (c, pid) for pid, (c, pc) in self.places.items() if pc == piece
                            ]
                        for cat in keys:
                            self.columns[(state, s, piece, fam, cat)] = len(self.columns)
        self.keys = list(self.columns)
        self.frame = pd.DataFrame(self.keys, columns=["state", "seg", "piece", "fam", "cat"])
        self._arrays = {c: self.frame[c].to_numpy() for c in ("state", "seg", "piece", "fam")}
        self._arrays["cat"] = [k[4] for k in self.keys]

    def select(self, fam: str, segs: list[int], pieces, states, match=None) -> np.ndarray:
        """Column indices of the family's atoms in those segments/pieces/states matching."""
        f = self._arrays
        mask = (
            (f["fam"] == fam)
            & np.isin(f["seg"], segs)
            & np.isin(f["piece"], list(pieces))
            & np.isin(f["state"], list(states))
        )
        idx = np.flatnonzero(mask)
        if match is not None:
            cats = f["cat"]
            idx = idx[np.fromiter((bool(match(cats[i])) for i in idx), bool, len(idx))]
        return idx

    # --- constraints ------------------------------------------------------------------------

    def add(self, cols: np.ndarray, lo: float, hi: float) -> None:
        self.rows.append((cols, lo, hi))

    def link_families(self) -> None:
        """Every family counts the same records of a (segment, piece, state) group."""
        fams = [f for f in self.categories if f != "A" or self.categories["A"]]
        for _, group in self.frame.groupby(["state", "seg", "piece"]):
            by = {f: group.index[group["fam"] == f].to_numpy() for f in fams}
            for f in fams[1:]:
                self.rows.append((("diff", by["T"], by[f]), 0, 0))
            nte_t = group.index[
                (group["fam"] == "T")
                & group["cat"].map(lambda c: c[2] == 1 if len(c) == 3 else False)
            ].to_numpy()
            nte_l = group.index[
                (group["fam"] == "L") & group["cat"].map(lambda c: c[0] in NIGHT_TIME_ECONOMY)
            ].to_numpy()
            self.rows.append((("diff", nte_t, nte_l), 0, 0))


def _states(model: Model, b: Bundle) -> list[str]:
    """The latest version published after a change sees the late records; others do not."""
    latest = max(x.version for x in model.bundles if (x.partner, x.period) == (b.partner, b.period))
    if model.final_from is not None and b.version == latest and b.published_at >= model.final_from:
        return ["base", "late"]
    return ["base"]


def published_cells(model: Model, b: Bundle) -> list[tuple[str, str, np.ndarray, str, Rule]]:
    """(product, label, atom columns, shown value, rule) of every count cell of a bundle."""
    states = _states(model, b)
    mine = model.pieces[b.partner] & set(model.view_pieces)
    period = parse_period(b.period)
    segs = model.segments(period.start, period.end)
    out = []

    def cell(product, label, fam, match, shown, segments=segs, pieces=mine):
        cols = model.select(fam, segments, pieces, states, match)
        out.append(
            (
                product,
                f"{b.partner}/{b.period}/v{b.version} {product} {label}",
                cols,
                shown,
                b.rule(product),
            )
        )

    t = b.tables
    if "time_of_day" in t:
        for r in t["time_of_day"].itertuples():
            w, h, nte = int(r.weekday), int(r.hour), r.segment == "night_time_economy"
            cell(
                "time_of_day",
                f"{r.segment} d{w} h{h}",
                "T",
                lambda c, w=w, h=h, n=nte: c[0] == w and c[1] == h and (c[2] == 1 or not n),
                r.assaults,
            )
    if "peak_times" in t:
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        for r in t["peak_times"].itertuples():
            if r.weekday != "all":
                w = days.index(r.weekday) + 1
                cell("peak_times", r.weekday, "T", lambda c, w=w: c[0] == w, r.assaults)
            else:
                first = int(r.hours[:2])
                cell(
                    "peak_times",
                    r.hours,
                    "T",
                    lambda c, f=first: f <= c[1] < f + BAND_HOURS,
                    r.assaults,
                )
    for product, key, fam in (
        ("methods", "assault_method", "M"),
        ("location_classes", "location_class", "L"),
    ):
        if product in t:
            for r in t[product].itertuples():
                value = getattr(r, key)
                match = (lambda c: True) if value == "total" else (lambda c, v=value: c[0] == v)
                cell(product, value, fam, match, r.assaults)
    if "demographics" in t:
        for r in t["demographics"].itertuples():
            match = (
                (lambda c: True)
                if r.age_band == "total"
                else (lambda c, a=r.age_band, s=r.sex: c == (a, s))
            )
            cell("demographics", f"{r.age_band} {r.sex}", "A", match, r.assaults)
    for product in ("trend", "method_trend"):
        if product in t:
            for r in t[product].itertuples():
                p = parse_period(r.period)
                segments = model.segments(p.start, p.end)
                if product == "trend":
                    cell(product, r.period, "T", None, r.assaults, segments)
                else:
                    cell(
                        product,
                        f"{r.period} {r.assault_method}",
                        "M",
                        lambda c, m=r.assault_method: c[0] == m,
                        r.assaults,
                        segments,
                    )
    if "hotspots" in t:
        shown = set(t["hotspots"]["place_id"])
        before = model.segments(period.previous().start, period.start)
        for r in t["hotspots"].itertuples():
            match = lambda c, pid=r.place_id: c[1] == pid  # noqa: E731
            cell("hotspots", r.place_id, "L", match, r.assaults)
            cell("hotspots", f"{r.place_id} previous", "L", match, r.previous_assaults, before)
        for pid, (_, piece) in model.places.items():  # listed nowhere here: 0..7
            if pid not in shown and piece in mine:
                cols = model.select("L", segs, mine, states, lambda c, pid=pid: c[1] == pid)
                model.add(cols, 0, b.rule("hotspots").suppress_up_to)
    return out


def record_constraints(model: Model, b: Bundle) -> None:
    """istv_records: each row is one record; a withheld attribute says nothing."""
    if "istv_records" not in b.tables:
        return
    rows = b.tables["istv_records"]
    states = _states(model, b)
    mine = sorted(model.pieces[b.partner] & set(model.view_pieces))
    period = parse_period(b.period)
    for s in model.segments(period.start, period.end):
        start, end = model.cuts[s], model.cuts[s + 1]
        day = pd.to_datetime(rows["arrival_date"], errors="coerce").dt.date
        here = rows[(day >= start) & (day < end)]
        for fam in ("T", "L", "M"):
            model.add(model.select(fam, [s], mine, states), len(here), len(here))
        patterns: dict[tuple, int] = defaultdict(int)
        for r in here.itertuples():
            piece = model.piece_of.get(r.lsoa21cd) if r.lsoa21cd not in ("", WITHHELD) else None
            known = lambda v: v not in ("", WITHHELD)  # noqa: E731
            week = (
                dt.date.fromisoformat(r.assault_date).isoweekday()
                if known(r.assault_date)
                else None
            )
            hour = int(r.assault_hour) if known(r.assault_hour) else None
            cls = r.location_class if known(r.location_class) else None
            nte = None if cls is None else int(cls in NIGHT_TIME_ECONOMY)
            pid = model.names.get((r.place_name, r.lsoa21cd)) if known(r.place_name) else ""
            method = r.assault_method if known(r.assault_method) else None
            patterns[("T", piece, (week, hour, nte))] += 1
            patterns[("L", piece, (cls, pid))] += 1
            patterns[("M", piece, (method,))] += 1
        for (fam, piece, pattern), n in patterns.items():

            def match(c, p=pattern):
                return all(want is None or got == want for got, want in zip(c, p, strict=True))

            cols = model.select(fam, [s], [piece] if piece else mine, states, match)
            model.add(cols, n, INF)


def attack(bundles: list[Bundle], piece_of: dict, pieces: dict, view: str) -> Report:
    """Bound every suppressed cell and derived quantity of the view's bundles."""
    model = Model(bundles, piece_of, pieces)
    cells = []
    for b in bundles:
        cells += published_cells(model, b)
        record_constraints(model, b)
    for _, _, cols, shown, rule in cells:
        bounds = rule.bounds(shown)
        if bounds is not None and len(cols):
            model.add(cols, *bounds)
        elif bounds is not None and bounds[0] > 0:
            raise ValueError("a published non-zero cell has no atoms: the model is too coarse")
    model.link_families()
    solver = Solver(len(model.columns), model.rows)
    report = Report(view)
    seen: set[tuple] = set()

    def bound(kind: str, label: str, cols: np.ndarray, skip_zero: bool) -> Finding | None:
        key = (kind, tuple(cols))
        if key in seen or not len(cols):
            return None
        seen.add(key)
        lo = solver.bound(cols, minimise=True)
        if skip_zero and lo <= 0:
            return None
        hi = solver.bound(cols, minimise=False)
        finding = Finding(kind, label, lo, hi)
        report.findings.append(finding)
        return finding

    for _, label, cols, shown, rule in cells:
        if shown == rule.symbol or shown == SECONDARY:
            found = bound("suppressed", label, cols, skip_zero=False)
            if found is None:
                continue
            report.suppressed += 1
            report.narrowed += found.lo > 1 or found.hi < rule.suppress_up_to
            report.pinned += found.lo == found.hi
    for product, label, cols, _, _ in _small(cells):
        sub = model.frame.iloc[cols]
        if len(set(sub["piece"])) > 1:
            for piece in sorted(set(sub["piece"])):
                report.derived += 1
                bound(
                    "piece", f"{label} in {piece}", cols[(sub["piece"] == piece).to_numpy()], True
                )
        weeks = _weeks(model, sorted(set(sub["seg"])))
        if product in ("time_of_day", "peak_times") and len(weeks) > 1:
            for week, segs in weeks.items():
                report.derived += 1
                bound("week", f"{label} in {week}", cols[sub["seg"].isin(segs).to_numpy()], True)
        if "late" in set(sub["state"]):
            report.derived += 1
            bound("version", f"{label} since v1", cols[(sub["state"] == "late").to_numpy()], True)
    return report


def _small(cells):
    """Cells that may hold an assault (shown "*", "x" or a rounded count): only these can have a
    piece, week or version share of at least one."""
    for cell in cells:
        shown, rule = cell[3], cell[4]
        bounds = rule.bounds(shown)
        if bounds is not None and bounds[0] >= 1:
            yield cell


def _weeks(model: Model, segs: list[int]) -> dict[str, list[int]]:
    weeks: dict[str, list[int]] = defaultdict(list)
    for s in segs:
        year, week, _ = model.cuts[s].isocalendar()
        weeks[f"{year}-W{week:02d}"].append(s)
    return weeks


class Solver:
    """min / max of a sum of atoms under the model's constraints: one HiGHS model, kept
    between queries (only the objective changes), so each solve starts from the last basis."""

    def __init__(self, n: int, rows: list[tuple]):
        """n atoms; rows are (columns, lo, hi) or (("diff", plus, minus), lo, hi)."""
        data, ri, ci, lo, hi = [], [], [], [], []
        fixed = np.zeros(n, dtype=bool)
        for cols, _, b in rows:
            if not isinstance(cols, tuple) and b == 0:
                fixed[cols] = True
        r = 0
        for cols, a, b in rows:
            if isinstance(cols, tuple):
                _, plus, minus = cols
                entries = [(c, 1.0) for c in plus] + [(c, -1.0) for c in minus]
            else:
                entries = [(c, 1.0) for c in cols]
            entries = [(c, v) for c, v in entries if not fixed[c]]
            if not entries:
                if a > 0:
                    raise ValueError("published constraints contradict each other")
                continue
            for c, v in entries:
                ri.append(r)
                ci.append(c)
                data.append(v)
            lo.append(a)
            hi.append(b)
            r += 1
        keep = np.flatnonzero(~fixed)
        self.index = np.full(n, -1)
        self.index[keep] = np.arange(len(keep))
        matrix = sp.csc_matrix(
            (data, (ri, self.index[np.asarray(ci, dtype=int)])), shape=(r, len(keep))
        )
        self.n = len(keep)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, r
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_, lp.col_upper_ = np.zeros(self.n), np.full(self.n, highspy.kHighsInf)
        lp.row_lower_ = np.asarray(lo, dtype=float)
        lp.row_upper_ = np.where(np.isfinite(hi), hi, highspy.kHighsInf).astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.cost = np.zeros(self.n)

    def bound(self, cols: np.ndarray, minimise: bool) -> int:
        idx = self.index[cols]
        idx = idx[idx >= 0]
        if not len(idx):
            return 0
        cost = np.zeros(self.n)
        cost[idx] = 1.0 if minimise else -1.0
        changed = np.flatnonzero(cost != self.cost)
        self.highs.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
        self.cost = cost
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return 10**9
        if status != highspy.HighsModelStatus.kOptimal:
            raise ValueError(f"the attacker's LP failed: {self.highs.modelStatusToString(status)}")
        value = self.highs.getInfo().objective_function_value
        value = value if minimise else -value
        return math.ceil(value - 1e-6) if minimise else math.floor(value + 1e-6)
