"""Synthetic, seeded ED extracts for the fictional town of Nembridge (postcode area NB).

Why: the pipeline must be built, demonstrated and tested without a single real patient. The
generator writes what a trust would hand over (nightly exports in the input contract's shape,
reference geography) plus what no trust has (ground truth for every assault location and a
list of deliberately bad rows), byte-identical for the same arguments.

    generate(out_dir, first_night, nights)   reference/, landing/inbox/, landing/ground_truth/
    write_benchmark_csv(path)                one large export for speed tests
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from istv.synth import attendances as att
from istv.synth.benchmark import write_benchmark_csv
from istv.synth.csvio import write_frame
from istv.synth.defects import (
    BAD_SITE_CODE,
    DEFECTS,
    NON_ASSAULT_DEFECTS,
    DefectBudget,
    apply,
)
from istv.synth.gazetteer import Gazetteer, build_gazetteer
from istv.synth.locations import LocationWriter

__all__ = ["DEFECTS", "NightSummary", "SynthSummary", "generate", "write_benchmark_csv"]

# The ED drop folder and the generator's ground truth sit in landing/, the identifiable zone.
INBOX = Path("landing") / "inbox"
GROUND_TRUTH = Path("landing") / "ground_truth"
BAD_ASSAULT_SHARE = 0.02
BAD_OTHER_SHARE = 0.004
TRUTH_COLUMNS = ["site_code", "attendance_id", "text", "true_place_id", "true_location_class",
                 "true_lsoa21cd"]
BAD_ROW_COLUMNS = ["site_code", "attendance_id", "defect"]


@dataclass(frozen=True)
class NightSummary:
    """One night's files and counts (assaults and bad rows include the duplicate copies)."""

    night: date
    extract: Path
    truth: Path
    bad_rows_file: Path
    rows: int
    assaults: int
    bad_rows: int
    bad_assault_rows: int


@dataclass(frozen=True)
class SynthSummary:
    """Everything generate() wrote."""

    out_dir: Path
    reference: tuple[Path, ...]
    nights: tuple[NightSummary, ...] = field(default_factory=tuple)
    unknown_postcodes: tuple[str, ...] = ()

    @property
    def paths(self) -> list[Path]:
        out = list(self.reference)
        for n in self.nights:
            out += [n.extract, n.truth, n.bad_rows_file]
        return out

    @property
    def rows(self) -> int:
        return sum(n.rows for n in self.nights)

    @property
    def assaults(self) -> int:
        return sum(n.assaults for n in self.nights)

    @property
    def bad_rows(self) -> int:
        return sum(n.bad_rows for n in self.nights)

    @property
    def bad_assault_rows(self) -> int:
        return sum(n.bad_assault_rows for n in self.nights)


def generate(out_dir: Path, first_night: date, nights: int, rows_per_night: int = 400,
             seed: int = 2026) -> SynthSummary:
    """Write reference data and `nights` nightly exports from first_night; return a summary.

    About 2% of assault rows (and 0.4% of the others) carry exactly one deliberate defect,
    spread evenly over the run by an accumulator; see landing/ground_truth/bad_rows_YYYY-MM-DD.csv.
    """
    if nights < 0 or rows_per_night < 1:
        raise ValueError("nights must be >= 0 and rows_per_night >= 1")
    out_dir = Path(out_dir)
    gaz = build_gazetteer(seed)
    reference = gaz.write(out_dir)
    unknown_path = write_frame(pd.DataFrame({"pcds": list(gaz.unknown_postcodes)}),
                               out_dir / GROUND_TRUTH / "unknown_postcodes.csv")
    writer = LocationWriter(gaz, np.random.default_rng([seed, 6]), popularity_seed=seed)
    counters = {str(s): 0 for s in att.SITES}
    assault_budget = DefectBudget(BAD_ASSAULT_SHARE, DEFECTS)
    other_budget = DefectBudget(BAD_OTHER_SHARE, NON_ASSAULT_DEFECTS)
    summaries = []
    for k in range(nights):
        night = first_night + timedelta(days=k)
        rng = np.random.default_rng([seed, 2, night.toordinal()])
        writer.rng = rng
        summaries.append(_night(rng, gaz, writer, night, rows_per_night, counters,
                                assault_budget, other_budget, out_dir))
    return SynthSummary(out_dir, tuple(reference) + (unknown_path,), tuple(summaries),
                        gaz.unknown_postcodes)


def _night(rng: np.random.Generator, gaz: Gazetteer, writer: LocationWriter, night: date,
           rows_per_night: int, counters: dict[str, int], assault_budget: DefectBudget,
           other_budget: DefectBudget, out_dir: Path) -> NightSummary:
    weekday = night.weekday()
    n = max(1, round(rows_per_night * att.DAY_VOLUME[weekday] * rng.uniform(0.95, 1.05)))
    lo = math.ceil(0.0205 * n)
    hi = max(lo, math.floor(0.04 * n) - 1)
    n_assault = int(np.clip(round(n * att.assault_share(weekday) * rng.uniform(0.9, 1.1)), lo, hi))
    days = np.full(n, np.datetime64(night.isoformat(), "D"))
    arrival = np.concatenate([
        att.sample_times(rng, days[:n_assault], att.assault_hour_weights(weekday)),
        att.sample_times(rng, days[n_assault:], att.ED_HOURS),
    ])
    kind = np.concatenate([np.full(n_assault, "assault", dtype=object),
                           att._choice(rng, att.NON_ASSAULT_KINDS, n - n_assault,
                                       att.NON_ASSAULT_P).astype(object)])
    site = att._choice(rng, att.SITES, n, att.SITE_P)
    order = np.lexsort((site, arrival))
    arrival, kind, site = arrival[order], kind[order], site[order]
    assault = kind == "assault"

    ids = np.empty(n, dtype=object)
    for s in att.SITES:
        mask = site == s
        start = counters[str(s)]
        ids[mask] = [f"A{i:08d}" for i in range(start + 1, start + 1 + int(mask.sum()))]
        counters[str(s)] = start + int(mask.sum())

    ppl = att.people(rng, arrival, assault, gaz.postcodes, gaz.unknown_postcodes)
    hours = (arrival - arrival.astype("datetime64[D]")).astype(int) // 60
    truths = {}
    for i in np.flatnonzero(assault):
        is_night = bool(hours[i] >= 20 or hours[i] < 6)
        truths[int(i)] = writer.sample(is_night, str(ppl["home_lsoa"].iloc[i]))
    place_class = np.array([truths[i].location_class if i in truths else "" for i in range(n)],
                           dtype=object)
    clin = att.clinical(rng, arrival, kind, place_class)
    text = pd.Series([truths[i].text if i in truths else "" for i in range(n)], dtype="str")
    frame = att.contract_frame({
        "site_code": pd.Series(site), "attendance_id": pd.Series(ids),
        "arrival_datetime": att.fmt_datetime(arrival),
        "assault_location_description": text,
        **{k: v for k, v in ppl.items() if k != "home_lsoa"}, **clin,
    })

    frame, truths, bad = _inject(rng, frame, assault, truths, night, writer,
                                 assault_budget.take(n_assault), other_budget.take(n - n_assault))
    truth = pd.DataFrame(
        [{"site_code": frame.at[i, "site_code"], "attendance_id": frame.at[i, "attendance_id"],
          "text": t.text, "true_place_id": t.place_id, "true_location_class": t.location_class,
          "true_lsoa21cd": t.lsoa21cd} for i, t in truths],
        columns=TRUTH_COLUMNS)
    bad_frame = pd.DataFrame([b[:3] for b in bad], columns=BAD_ROW_COLUMNS)
    stamp = night.isoformat()
    extract = write_frame(frame, out_dir / INBOX / f"ed_export_{stamp}.csv")
    truth_path = write_frame(truth, out_dir / GROUND_TRUTH / f"ground_truth_{stamp}.csv")
    bad_path = write_frame(bad_frame, out_dir / GROUND_TRUTH / f"bad_rows_{stamp}.csv")
    n_assault_rows = int((frame["injury_intent"] == att.ASSAULT).sum())
    bad_assault = sum(1 for row in bad if row[3])
    return NightSummary(night, extract, truth_path, bad_path, len(frame), n_assault_rows,
                        len(bad), bad_assault)


def _inject(rng, frame, assault, truths, night, writer, assault_defects, other_defects):
    """Apply the night's defects to distinct rows; return frame, ordered truth, bad-row list."""
    picks: list[tuple[int, str]] = []
    for pool, defects in ((np.flatnonzero(assault), assault_defects),
                          (np.flatnonzero(~assault), other_defects)):
        k = min(len(pool), len(defects))
        rows = rng.choice(pool, size=k, replace=False) if k else []
        picks += [(int(r), d) for r, d in zip(rows, defects[:k], strict=True)]
    truths = dict(truths)
    bad = []
    for row, defect in sorted(picks, reverse=True):  # bottom-up: inserted copies shift nothing
        frame = apply(rng, frame, row, defect, night)
        if defect == "location_text_too_long":
            truths[row] = writer.too_long(truths[row])
            frame.at[row, "assault_location_description"] = truths[row].text
        site = BAD_SITE_CODE if defect == "site_code_invalid" else frame.at[row, "site_code"]
        bad.append((site, frame.at[row, "attendance_id"], defect, bool(assault[row])))
    # row numbers in truths still refer to the frame before copies were inserted
    inserted = sorted(r for r, d in picks if d == "duplicate_attendance_id")
    ordered = [(row + sum(1 for r in inserted if r < row), t) for row, t in sorted(truths.items())]
    bad.sort(key=lambda b: (str(b[1]), b[2]))
    return frame, ordered, bad
