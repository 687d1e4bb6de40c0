"""The attacker's-view release gate: no count may be worked out from everything released.

Every published cell is a sum over atoms of the restricted records (exports/release_model.py).
Before a bundle is published, the gate puts every cell already released (the release ledger)
and the new bundle's cells into one linear program per view: each partner alone, and the
partners who may share (the policy's `sharing`, by default all partners together). Then, for
every suppressed cell and every quantity a recipient could derive from a cell (the cell
restricted to one area piece, to one block of days, or both), it solves the smallest and the
largest true value consistent with everything in the view (HiGHS, `highspy`). A quantity is
exposed when its true value is 1..7 and the attacker can rule out all but fewer than the
policy's `protection` of the values 1..7 (default: at least 5 of the 7 must stay possible).

Protection, not only blocking: when a quantity is exposed, the gate withholds ("x", any count)
the cheapest cell of the new bundle whose constraint binds the bound (its dual is non-zero): a
"*" first, then a 0, then the smallest shown count; it repeats until the quantity is safe.
Withholding only removes constraints, so a quantity found safe stays safe. A quantity that
earlier releases expose without the new bundle is reported (`prior`), not blocked on: nothing
this bundle withholds can take it back, and the data team must hear of it (it is a defect).

The atoms, per block of days (days between any two period edges in the view) and area piece
(the intersections of every released area), come in families that share only their totals:
  time    weekday (of the assault), hour, night-time economy (time_of_day, peak_times)
  place   location class, place (location_classes, hotspots; a known place not listed: 0..7)
  method  method, residence piece and outward code (methods, method_trend, prescribed_return)
  people  age band, sex (demographics)
  total   per block and piece (trend, totals rows)
Each family sums to the total of its block and piece, and the time and place families agree on
the night-time economy. No published table crosses two families, so every family table with
these totals can be joined into records: the model loses nothing a linear attacker could use.
Record-level data at full resolution (a partner with a data sharing agreement) makes its
time, place, method and total atoms known in every view holding it; that partner's own cells
over its area are not protected against itself (it holds the records). Coarse rows are
counted as known too (more than they say: the safe side for everyone else's counts), and the
view is then checked a second time without them, so the holder's own cells are protected
against the tables.

Versions are linked releases: a night re-run after a release changes the records under it, so
the atoms are kept apart by version label (exports/linked_versions.py: the releases that did
not count them), each release's cells sum the labels it counted, and the late records of a
cell (a v2 minus its v1) are a quantity protected like the others.

The LP is the linear relaxation: bounds are rounded inwards (ceil, floor) to integers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from anonymiser.disclosure import WITHHELD, Rule, disclose_changes
from anonymiser.generalise import UNKNOWN, age_band_labels
from exports.linked_versions import LABEL
from exports.products import (
    METHODS,
    NIGHT_TIME_ECONOMY,
    PEAK_BAND_HOURS,
    TIMEZONE,
    assault_weekdays,
)
from exports.release_model import Cell, Release, interval, row_key
from schemas import codes
from transforms.gazetteer import LOCATION_CLASSES

NO_PIECE = "-"  # assaults outside every released area, or with no LSOA
FAMILIES = ("time", "place", "method", "people", "total")
_FAMILY_OF_KEY = {
    "weekday": "time",
    "hour": "time",
    "band": "time",
    "nte": "time",
    "class": "place",
    "place": "place",
    "method": "method",
    "outcode": "method",
    "age_band": "people",
    "sex": "people",
}
_INF = highspy.kHighsInf
_POINTS = 48  # feasible points kept to skip solves (each a full solution vector)


@dataclass(frozen=True)
class Exposure:
    """A quantity the attacker pins: what it is, never its value or bounds."""

    view: str
    partner: str
    period: str
    product: str
    row: str
    column: str
    restricted_to: str  # "" (the cell), "piece", "days", "piece and days", "version"...

    def __str__(self) -> str:
        part = f" restricted to one {self.restricted_to}" if self.restricted_to else ""
        return (
            f"{self.partner} {self.period} {self.product} [{self.row}] {self.column}{part} "
            f"(view: {self.view})"
        )


@dataclass
class GateResult:
    withheld: set[tuple[str, str, str]] = field(default_factory=set)  # (product, row, column)
    exposures: list[Exposure] = field(default_factory=list)  # left exposed: block
    prior: list[Exposure] = field(default_factory=list)  # exposed by earlier releases alone
    checked: int = 0  # quantities solved


def check_release(
    new: Release,
    released: Sequence[Release],
    records: pd.DataFrame,
    rule_for: Callable[[str], Rule],
    protection: int,
    views: Sequence[frozenset[str]],
    record_holders: Sequence[tuple[str, frozenset[str]]] = (),
    edges: Iterable[dt.date] = (),
    carried: Iterable[tuple[str, str, str]] = (),
    coarse_holders: Collection[str] = (),
    hidden_from: Sequence[frozenset[int]] = (frozenset(),),
) -> GateResult:
    """Withhold cells of `new` until no view can narrow a count below `protection` values.

    released  earlier releases (every partner, every version) that overlap `new` in time
    records   restricted records covering every day of the releases (true values)
    views     sets of partner ids that may share what they receive (each partner alone is
              added); only views holding `new`'s partner are checked
    record_holders  (partner id, area) of every partner entitled to record-level data: a
              view holding one knows its area's records, before or after they are published
    edges     the first days of every period any partner is or will be sent (weeks, months):
              records are known by the day, so blocks must already be cut where a later
              release's cells will be cut
    carried   cells of `new` withheld before solving: the same count was withheld before
    coarse_holders  the record holders whose rows are coarse (k-anonymous weeks and bands)
    hidden_from  with `records` carrying linked_versions.LABEL: per label, the positions (in
              `released`, then `new`) of the releases that did not count its records
    """
    result = GateResult(withheld=set(carried))
    everyone = [*released, new]
    model = _Model(everyone, records, [area for _, area in record_holders], edges, hidden_from)
    seen: set[frozenset[str]] = set()
    for view in [frozenset({new.partner}), *views]:
        if new.partner not in view or view in seen:
            continue
        seen.add(view)
        in_view = [(i, r) for i, r in enumerate(everyone) if r.partner in view]
        holders = [area for partner, area in record_holders if partner in view]
        _check_view(model, in_view, new, rule_for, protection, view, holders, result)
        if any(partner in view for partner in coarse_holders):
            # Coarse rows do not tell their holder its own hours, days or places: counted as
            # known above (which protects everyone else's counts), they would leave the
            # holder's own cells open to the tables. So the view is checked again with only
            # full-resolution records known.
            full = [a for p, a in record_holders if p in view and p not in coarse_holders]
            _check_view(model, in_view, new, rule_for, protection, view, full, result)
    return result


# --- the atoms --------------------------------------------------------------------------------


class _Model:
    """Blocks, pieces, the variables of every family, and the true value of each variable."""

    def __init__(
        self,
        releases: Sequence[Release],
        records: pd.DataFrame,
        more_areas: Sequence[frozenset[str]] = (),
        more_edges: Iterable[dt.date] = (),
        hidden_from: Sequence[frozenset[int]] = (frozenset(),),
    ) -> None:
        edges = {d for r in releases for c in r.cells for d in (c.start, c.end)}
        if edges:
            edges |= {d for d in more_edges if min(edges) < d < max(edges)}
        self.edges = np.array(sorted(edges), dtype="datetime64[D]")
        areas = sorted({r.area for r in releases} | set(more_areas), key=sorted)
        self.areas = areas
        self.piece_of_lsoa = _pieces(areas)
        self.places = {
            dict(c.where)["place"]: (dict(c.where)["class"], dict(c.where)["lsoa"])
            for r in releases
            for c in r.cells
            if c.product == "hotspots"
        }
        self.outcodes = sorted(
            {dict(c.where)["outcode"] for r in releases for c in r.cells if c.residents}
        )
        self.blocks = len(self.edges) - 1
        # visible[release, label]: the release counted the label's records (linked_versions)
        self.visible = np.array(
            [[i not in hidden for hidden in hidden_from] for i in range(len(releases))], dtype=bool
        ).reshape(len(releases), len(hidden_from))
        records = records.assign(block=self._block_of(records))
        if LABEL not in records.columns:
            records[LABEL] = 0
        records = records[(records["block"] >= 0) & (records["block"] < self.blocks)]
        self.tables: dict[str, pd.DataFrame] = {}
        self.offset: dict[str, int] = {}
        self._build_variables(records.groupby(LABEL)["block"].unique().to_dict())
        self._columns = {
            name: {c: table[c].to_numpy() for c in table.columns}
            for name, table in self.tables.items()
        }
        self._variables: dict[tuple[Cell, frozenset[str], int], np.ndarray] = {}
        self.truth = self._truth(records)

    def pieces_of(self, area: frozenset[str]) -> set[str]:
        return {self.piece_of_lsoa[lsoa] for lsoa in area if lsoa in self.piece_of_lsoa}

    def blocks_of(self, start: dt.date, end: dt.date) -> np.ndarray:
        lo = np.searchsorted(self.edges, np.datetime64(start, "D"))
        hi = np.searchsorted(self.edges, np.datetime64(end, "D"))
        return np.arange(lo, hi)

    def _block_of(self, records: pd.DataFrame) -> np.ndarray:
        if records.empty or self.blocks <= 0:
            return np.full(len(records), -1)
        days = _local_days(records["arrival_date"])
        return np.searchsorted(self.edges, days, side="right") - 1

    def _build_variables(self, label_blocks: dict[int, np.ndarray]) -> None:
        """Every family's atoms for label 0 (records every release counted), and again for
        each other label in the blocks where it has records."""
        pieces = sorted(set(self.piece_of_lsoa.values()))
        blocks = np.arange(self.blocks)
        # Every weekday in every block: the weekday is of the assault, the block of arrival.
        weekdays = [(b, w) for b in blocks for w in range(1, 8)]
        time = pd.DataFrame(weekdays, columns=["block", "weekday"])
        time = _cross(time, piece=pieces, hour=[str(h) for h in range(24)], nte=["0", "1"]).astype(
            {"weekday": str}
        )
        time["band"] = (time["hour"].astype(int) // PEAK_BAND_HOURS).astype(str)
        place_rows = [(c, "-") for c in LOCATION_CLASSES]
        place_rows += [(c, p) for p, (c, _) in self.places.items()]
        place = _cross(pd.DataFrame({"block": blocks}), piece=pieces)
        place = place.merge(pd.DataFrame(place_rows, columns=["class", "place"]), how="cross")
        place_piece = {
            p: self.piece_of_lsoa.get(lsoa, NO_PIECE) for p, (_, lsoa) in self.places.items()
        }
        place = place[(place["place"] == "-") | (place["place"].map(place_piece) == place["piece"])]
        residence = [(rp, o) for rp in pieces for o in [*self.outcodes, _OTHER]]
        method = _cross(pd.DataFrame({"block": blocks}), piece=[*pieces, NO_PIECE], method=METHODS)
        method = method.merge(
            pd.DataFrame([*residence, (NO_PIECE, NO_PIECE)], columns=["rpiece", "outcode"]),
            how="cross",
        )
        people = _cross(
            pd.DataFrame({"block": blocks}),
            piece=pieces,
            age_band=[*age_band_labels(), UNKNOWN],
            sex=codes("sex"),
        )
        total = _cross(pd.DataFrame({"block": blocks}), piece=[*pieces, NO_PIECE])
        start = 0
        for name, table in zip(FAMILIES, (time, place, method, people, total), strict=True):
            table["block"] = table["block"].astype(int)
            table = pd.concat(
                [table.assign(**{LABEL: 0})]
                + [
                    table[table["block"].isin(blocks)].assign(**{LABEL: label})
                    for label, blocks in sorted(label_blocks.items())
                    if label != 0
                ],
                ignore_index=True,
            )
            self.tables[name], self.offset[name] = table, start
            start += len(table)
        self.size = start

    def _truth(self, records: pd.DataFrame) -> np.ndarray:
        """The true count of every variable, from the restricted records."""
        truth = np.zeros(self.size)
        if records.empty:
            return truth
        frame = records
        block = frame["block"].to_numpy()
        label = frame[LABEL].to_numpy()
        lsoa = frame["lsoa21cd"].astype("string")
        piece = lsoa.map(self.piece_of_lsoa).fillna(NO_PIECE).astype(str).to_numpy()
        rlsoa = frame["residence_lsoa21cd"].astype("string")
        rpiece = rlsoa.map(self.piece_of_lsoa).fillna(NO_PIECE).astype(str).to_numpy()
        klass = frame["location_class"].astype("string").fillna(UNKNOWN).astype(str).to_numpy()
        weekday = assault_weekdays(frame)
        outcode = frame["residence_outcode"].astype("string").str.strip().str.upper()
        outcode = outcode.mask(outcode == "").fillna(UNKNOWN).astype(str)
        outcode = outcode.where(outcode.isin(self.outcodes), _OTHER).to_numpy()
        place_id = frame["place_id"].astype("string").fillna("-").astype(str)
        place_id = place_id.where(place_id.isin(list(self.places)), "-").to_numpy()
        keys = {
            "time": dict(
                block=block,
                **{LABEL: label},
                weekday=weekday.astype(str),
                piece=piece,
                hour=frame["assault_hour"].astype(int).astype(str).to_numpy(),
                nte=np.where(np.isin(klass, NIGHT_TIME_ECONOMY), "1", "0"),
            ),
            "place": dict(
                block=block, **{LABEL: label}, piece=piece, **{"class": klass}, place=place_id
            ),
            "method": dict(
                block=block,
                **{LABEL: label},
                piece=piece,
                method=frame["assault_method"].astype("string").fillna(UNKNOWN).to_numpy(),
                rpiece=rpiece,
                outcode=np.where(rpiece == NO_PIECE, NO_PIECE, outcode),
            ),
            "people": dict(
                block=block,
                **{LABEL: label},
                piece=piece,
                age_band=frame["age_band"].astype("string").fillna(UNKNOWN).to_numpy(),
                sex=frame["sex"].astype("string").str.strip().str.upper().fillna("X").to_numpy(),
            ),
            "total": dict(block=block, **{LABEL: label}, piece=piece),
        }
        for name, columns in keys.items():
            table = self.tables[name]
            where = pd.DataFrame(columns).astype(
                {c: str for c in columns if c not in ("block", LABEL)}
            )
            if name != "method":
                where = where[where["piece"] != NO_PIECE]
            counts = where.value_counts().rename("n").reset_index()
            index = table.reset_index().merge(counts, on=list(columns), how="inner")
            truth[self.offset[name] + index["index"].to_numpy()] = index["n"].to_numpy()
        return truth

    def variables(self, cell: Cell, area: frozenset[str], release: int) -> np.ndarray:
        """Indices of the variables a cell of the release at position `release` sums: the
        records that release counted (cached: every view asks again)."""
        key = (cell, area, release)
        if key not in self._variables:
            family = _family(cell)
            columns = self._columns[family]
            blocks = self.blocks_of(cell.start, cell.end)
            block = columns["block"]
            mask = (block >= blocks[0]) & (block <= blocks[-1]) if len(blocks) else block < 0
            pieces = list(self.pieces_of(area))
            mask &= np.isin(columns["rpiece" if cell.residents else "piece"], pieces)
            mask &= self.visible[release][columns[LABEL]]
            for name, value in cell.where:
                if name != "lsoa":
                    mask &= columns[name] == value
            self._variables[key] = self.offset[family] + np.flatnonzero(mask)
        return self._variables[key]


_OTHER = "(other)"  # a residence outcode no prescribed return lists


def _family(cell: Cell) -> str:
    families = {_FAMILY_OF_KEY[k] for k, _ in cell.where if k in _FAMILY_OF_KEY}
    if len(families) > 1:
        raise ValueError(f"{cell.product} [{cell.row}] crosses families {sorted(families)}")
    return families.pop() if families else "total"


def _pieces(areas: Sequence[frozenset[str]]) -> dict[str, str]:
    """LSOA -> piece: LSOAs in exactly the same released areas form one piece."""
    member: dict[str, list[int]] = {}
    for i, area in enumerate(areas):
        for lsoa in area:
            member.setdefault(lsoa, []).append(i)
    return {lsoa: "p" + ".".join(map(str, sig)) for lsoa, sig in member.items()}


def _cross(frame: pd.DataFrame, **columns: Iterable[str]) -> pd.DataFrame:
    for name, values in columns.items():
        frame = frame.merge(pd.DataFrame({name: list(values)}), how="cross")
    return frame


def _local_days(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]")


# --- one view ---------------------------------------------------------------------------------


@dataclass
class _Row:
    release: Release
    cell: Cell
    columns: np.ndarray
    low: int
    high: int | None
    new: bool
    fixed: bool = False  # a hotspot listed or not: never withheld (the list is all places >= 8)


def _check_view(
    model: _Model,
    releases: Sequence[tuple[int, Release]],
    new: Release,
    rule_for: Callable[[str], Rule],
    protection: int,
    view: frozenset[str],
    holders: Sequence[frozenset[str]],
    result: GateResult,
) -> None:
    rows = []
    for position, release in releases:
        for cell in release.cells:
            low, high = interval(cell.shown, rule_for(cell.product))
            if release is new and (cell.product, cell.row, cell.column) in result.withheld:
                low, high = 0, None  # withheld: no constraint, but its parts are still derived
            columns = model.variables(cell, release.area, position)
            listed = (cell.product, cell.column) == ("hotspots", "assaults")
            rows.append(_Row(release, cell, columns, low, high, release is new, listed))
        for cell in _unlisted_places(model, release):
            columns = model.variables(cell, release.area, position)
            high = rule_for("hotspots").suppress_up_to
            rows.append(_Row(release, cell, columns, 0, high, release is new, True))
    for row in rows:
        if row.new and not _fits(model, row):
            raise RuntimeError(
                f"release gate: {row.cell.product} [{row.cell.row}] {row.cell.column} is not "
                "what the model counts from the records; fail closed (a bug: report it)"
            )
    # An earlier cell the records no longer fit was counted from a version of the records
    # that is not kept (made before versions were kept, or past retention): it is left out.
    rows = [row for row in rows if row.new or _fits(model, row)]
    known = _known(model, holders)
    margins = _method_margins(model, known)
    lp = _Program(model, rows, known, margins)
    name = " + ".join(sorted(view))
    for row, columns, restricted in _targets(model, rows, known, margins):
        result.checked += 1
        if lp.safe_by_known_points(columns, protection):
            continue
        bounds, binding = lp.bounds(columns)
        if bounds is None or not _exposed(*bounds, protection):
            continue
        exposure = Exposure(
            name,
            row.release.partner,
            row.release.period,
            row.cell.product,
            row.cell.row,
            row.cell.column,
            restricted,
        )
        if _exposed(*lp.bounds_before(columns), protection):
            result.prior.append(exposure)  # out already: withholding new cells cannot help
            continue
        while bounds is not None and _exposed(*bounds, protection):
            choice = (
                _cheapest([rows[i] for i in binding if rows[i].new])
                or _cheapest([r for r in rows if r.new and np.intersect1d(r.columns, columns).size])
                or _cheapest([r for r in rows if r.new])
            )
            if choice is None:
                result.exposures.append(exposure)
                break
            result.withheld.add((choice.cell.product, choice.cell.row, choice.cell.column))
            lp.withhold(rows.index(choice))
            choice.low, choice.high = 0, None
            bounds, binding = lp.bounds(columns)


def _unlisted_places(model: _Model, release: Release) -> list[Cell]:
    """A place the view knows (a hotspot of any release) in the release's area but not in its
    hotspots holds fewer assaults than are listed (0..7) in the release's period."""
    listed = [c for c in release.cells if (c.product, c.column) == ("hotspots", "assaults")]
    if not listed:
        return []
    shown = {dict(c.where)["place"] for c in listed}
    start, end = listed[0].start, listed[0].end
    return [
        Cell("hotspots", f"place_id={place}", "unlisted", "", start, end, False,
             (("place", place), ("class", klass), ("lsoa", lsoa)))
        for place, (klass, lsoa) in sorted(model.places.items())
        if place not in shown and lsoa in release.area
    ]  # fmt: skip


def _fits(model: _Model, row: _Row) -> bool:
    true = model.truth[row.columns].sum()
    return row.low <= true and (row.high is None or true <= row.high)


def _known(model: _Model, holders: Sequence[frozenset[str]]) -> np.ndarray:
    """Variables that record-level data in the view makes known exactly: for each holder's
    area, the time, place and total atoms of every block (the records carry the assault's
    day, hour, class and place, not age, sex or residence)."""
    known = np.zeros(model.size, dtype=bool)
    for area in holders:
        pieces = model.pieces_of(area)
        for family in ("time", "place", "total"):
            mask = model.tables[family]["piece"].isin(pieces).to_numpy()
            known[model.offset[family] + np.flatnonzero(mask)] = True
    return known


def _method_margins(model: _Model, known: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Records also carry the method: in a known block and piece, each method's count is
    known, though not how it splits by residence."""
    table = model.tables["method"]
    total = model.tables["total"]
    known_total = {
        key
        for key, k in zip(
            zip(total["block"], total["piece"], total[LABEL], strict=True),
            known[model.offset["total"] : model.offset["total"] + len(total)],
            strict=True,
        )
        if k
    }
    margins = []
    for (*key, _), rows in table.groupby(["block", "piece", LABEL, "method"]).indices.items():
        if tuple(key) in known_total:
            columns = model.offset["method"] + rows
            margins.append((columns, float(model.truth[columns].sum())))
    return margins


def _targets(
    model: _Model,
    rows: list[_Row],
    known: np.ndarray,
    margins: list[tuple[np.ndarray, float]],
):
    """(row, variables, restriction) of every quantity worth solving, each once.

    Only quantities whose true value is 1..7 are protected: a suppressed or withheld cell, and
    the parts of any cell. A quantity is what the view does
    not hold already: the atoms and method margins its record-level data gives are taken out
    (a cell wholly held is skipped), so knowing one's own records is not a disclosure."""
    unheld = _Unheld(model.size, known, margins)
    done: set[bytes] = set()
    for row in rows:
        # not published: shown "*", or withheld (a "*" withheld before its own turn came)
        suppressed = row.high is None or (row.low >= 1 and row.high <= 7)
        parts = [("", row.columns)] if suppressed else []
        if len(row.columns) > 1:
            parts += _restrictions(model, row.columns)
        for restricted, columns in parts:
            columns = unheld(columns)
            if not 1 <= model.truth[columns].sum() <= 7:
                continue
            digest = hashlib.sha1(np.sort(columns).tobytes()).digest()
            if digest in done:
                continue
            done.add(digest)
            yield row, columns, restricted


class _Unheld:
    """The part of a sum the view does not hold: known atoms out, and every method margin
    (a known block, piece and method) the sum covers whole."""

    def __init__(self, size: int, known: np.ndarray, margins: list[tuple[np.ndarray, float]]):
        self.known = known
        self.group = np.full(size, -1)
        self.group_size = np.array([len(columns) for columns, _ in margins], dtype=int)
        for i, (columns, _) in enumerate(margins):
            self.group[columns] = i

    def __call__(self, columns: np.ndarray) -> np.ndarray:
        columns = columns[~self.known[columns]]
        groups = self.group[columns]
        if (groups < 0).all():
            return columns
        ids, counts = np.unique(groups[groups >= 0], return_counts=True)
        whole = ids[counts == self.group_size[ids]]
        return columns[~np.isin(groups, whole)]


def _restrictions(model: _Model, columns: np.ndarray):
    """The cell restricted to each area piece, each block of days, and each of both; and to
    the records of each version label (the late records a later version adds, and the part
    an earlier version counted)."""
    family = next(f for f in FAMILIES if columns[0] < model.offset[f] + len(model.tables[f]))
    table = model.tables[family].iloc[columns - model.offset[family]]
    piece, block = table["piece"].to_numpy(), table["block"].to_numpy()
    label = table[LABEL].to_numpy()
    # each version's part: the late records, and the records an earlier version counted
    for value in sorted(set(label)) if len(set(label)) > 1 else ():
        yield "version", columns[label == value]
        for b in sorted(set(block[label == value])) if len(set(block)) > 1 else ():
            yield "version and days", columns[(label == value) & (block == b)]
    many_pieces, many_blocks = len(set(piece)) > 1, len(set(block)) > 1
    if many_pieces:
        for p in sorted(set(piece)):
            yield "piece", columns[piece == p]
    if many_blocks:
        for b in sorted(set(block)):
            yield "days", columns[block == b]
    if many_pieces and many_blocks:
        for p in sorted(set(piece)):
            for b in sorted(set(block)):
                yield "piece and days", columns[(piece == p) & (block == b)]


def _exposed(low: int, high: float, protection: int) -> bool:
    """Fewer than `protection` of the values 1..7 are still possible."""
    possible = min(high, 7) - max(low, 1) + 1
    return 0 < possible < protection


def _cheapest(rows: list[_Row]) -> _Row | None:
    """The new cell to withhold that loses least: a "*", then a 0, then the smallest count;
    among equals the one covering most atoms."""
    open_rows = [r for r in rows if r.high is not None and not r.fixed]
    if not open_rows:
        return None

    def cost(row: _Row) -> tuple[int, int]:
        rank = 0 if row.low >= 1 and row.high <= 7 else 1 if row.high == 0 else 2 + row.low
        return rank, -len(row.columns)

    return min(open_rows, key=cost)


class _Program:
    """One HiGHS model for a view: a column per variable, a row per cell and per link."""

    def __init__(
        self,
        model: _Model,
        rows: list[_Row],
        known: np.ndarray,
        exact: list[tuple[np.ndarray, float]],
    ) -> None:
        starts, indices, values, lows, highs = [], [], [], [], []
        for row in rows:
            starts.append(len(indices))
            indices += row.columns.tolist()
            values += [1.0] * len(row.columns)
            lows.append(row.low)
            highs.append(_INF if row.high is None else row.high)
        self.cell_rows = len(rows)
        for a, b in _links(model):
            starts.append(len(indices))
            indices += [*a.tolist(), *b.tolist()]
            values += [1.0] * len(a) + [-1.0] * len(b)
            lows.append(0)
            highs.append(0)
        for columns, value in exact:
            starts.append(len(indices))
            indices += columns.tolist()
            values += [1.0] * len(columns)
            lows.append(value)
            highs.append(value)
        lp = highspy.HighsLp()
        lp.num_col_ = model.size
        lp.num_row_ = len(starts)
        lp.col_cost_ = np.zeros(model.size)
        lp.col_lower_ = np.where(known, model.truth, 0.0)
        lp.col_upper_ = np.where(known, model.truth, _INF)
        lp.row_lower_ = np.array(lows, dtype=float)
        lp.row_upper_ = np.array(highs, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array([*starts, len(indices)], dtype=np.int32)
        lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values)
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        # Most solves change only the cost (or relax a withheld row), so the last vertex stays
        # feasible and primal simplex starts from it: ~100x faster than the default here.
        self.highs.setOptionValue("simplex_strategy", 4)
        self.highs.passModel(lp)
        self.size = model.size
        self.cost = np.zeros(model.size)
        self.row_lower, self.row_upper = np.array(lows, dtype=float), np.array(highs, dtype=float)
        self.new_rows = [i for i, row in enumerate(rows) if row.new]
        self.withheld: set[int] = set()
        self.points = np.zeros((_POINTS, model.size))
        self.points[0], self.filled, self.keep_points = model.truth, 1, True

    def withhold(self, index: int) -> None:
        self.highs.changeRowBounds(index, 0.0, _INF)
        self.withheld.add(index)

    def bounds_before(self, columns: np.ndarray) -> tuple[int, float]:
        """The bounds from earlier releases alone: every new cell relaxed, then restored."""
        rows = np.array(sorted(set(self.new_rows) - self.withheld), dtype=np.int32)
        lows, highs = self.row_lower[rows], self.row_upper[rows]
        self.highs.changeRowsBounds(len(rows), rows, np.zeros(len(rows)), np.full(len(rows), _INF))
        self.keep_points = False  # a point without the new cells may break them
        try:
            bounds, _ = self.bounds(columns)
        finally:
            self.highs.changeRowsBounds(len(rows), rows, lows, highs)
            self.keep_points = True
        return bounds if bounds is not None else (0, _INF)

    def safe_by_known_points(self, columns: np.ndarray, protection: int) -> bool:
        """True when points already known to be feasible (the truth, earlier solutions) spread
        the sum of `columns` over at least `protection` of the values 1..7: the exact bounds
        can only be wider, so no solve is needed."""
        sums = self.points[: self.filled][:, columns].sum(axis=1)
        low, high = int(np.ceil(sums.min() - 1e-6)), int(np.floor(sums.max() + 1e-6))
        return min(high, 7) - max(low, 1) + 1 >= protection

    def bounds(self, columns: np.ndarray) -> tuple[tuple[int, float] | None, set[int]]:
        """(lowest, highest) of the sum of `columns`, and the cell rows binding them."""
        self.cost[:] = 0.0
        self.cost[columns] = 1.0
        self.highs.changeColsCost(self.size, np.arange(self.size, dtype=np.int32), self.cost)
        low, binding = self._solve(highspy.ObjSense.kMinimize)
        if low is None:
            return None, set()
        low = int(np.ceil(low - 1e-6))
        if low > 7:
            return (low, _INF), binding
        high, binding_high = self._solve(highspy.ObjSense.kMaximize)
        high = _INF if high is None else float(np.floor(high + 1e-6))
        return (low, high), binding | binding_high

    def _solve(self, sense) -> tuple[float | None, set[int]]:
        self.highs.changeObjectiveSense(sense)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return None, set()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"release gate: the LP did not solve ({status}); fail closed")
        solution = self.highs.getSolution()
        duals = np.asarray(solution.row_dual[: self.cell_rows])
        value = self.highs.getInfo().objective_function_value
        if self.keep_points:  # feasible now, so feasible after any later withholding
            self.points[self.filled % len(self.points)] = solution.col_value
            self.filled = min(self.filled + 1, len(self.points))
        return value, set(np.flatnonzero(np.abs(duals) > 1e-9).tolist())


def _links(model: _Model):
    """(a, b): the variables of a must sum to those of b. Every family sums to its block and
    piece's total; the time family's night-time economy equals its location classes."""
    total = model.tables["total"]
    keys = ["block", "piece", LABEL]
    hub = {key: rows for key, rows in total.groupby(keys).indices.items()}
    links = []
    for family in ("time", "place", "method", "people"):
        table = model.tables[family]
        for key, rows in table.groupby(keys).indices.items():
            links.append((model.offset[family] + rows, model.offset["total"] + hub[key]))
    time, place = model.tables["time"], model.tables["place"]
    time_nte = time.index[time["nte"] == "1"].to_numpy()
    place_nte = place.index[place["class"].isin(NIGHT_TIME_ECONOMY)].to_numpy()
    by_time = time.iloc[time_nte].groupby(keys).indices
    by_place = place.iloc[place_nte].groupby(keys).indices
    for key, rows in by_time.items():
        if key in by_place:
            links.append(
                (
                    model.offset["time"] + time_nte[rows],
                    model.offset["place"] + place_nte[by_place[key]],
                )
            )
    return links


def withhold(
    tables: dict[str, pd.DataFrame],
    withheld: set[tuple[str, str, str]],
    rule: Callable[[str], Rule],
) -> dict[str, pd.DataFrame]:
    """The bundle's tables with the gate's withheld cells shown as "x" (a hotspot's count is
    never withheld, only its previous count, and then its change is withheld too)."""
    out = {}
    for product, frame in tables.items():
        mine = {(row, column) for p, row, column in withheld if p == product}
        frame = frame.reset_index(drop=True).copy()
        if not mine:
            out[product] = frame
            continue
        keys = row_key(product, frame)
        for row, column in sorted(mine):
            hit = (keys == row).to_numpy()
            frame[column] = frame[column].astype(object).where(~hit, WITHHELD)
        if product == "hotspots":
            frame["change"] = disclose_changes(
                frame["assaults"], frame["previous_assaults"], rule(product), blank_ok=True
            )
        out[product] = frame
    return out
