"""`istv geocode-eval`: how well the geocoder reads location text, against known answers.

Known answers are the synthetic ground truth (landing/ground_truth/ground_truth_*.csv) or a
trust's hand-labelled sample: a CSV or .xlsx with columns text, place_id (blank when the text
names no gazetteer place or street) and location_class, plus any others; a `category` column
(e.g. the ED site or the month) gets every score per category as well. Scores:
- private_given_place / private_given_point: private dwellings given a place (id or name) / a
  point (easting or northing). A home must never be either: both must be 0.
- place precision: of texts given a place (venue, landmark or street), the share given the right one
- place recall: of texts that name a gazetteer place, the share given that place
- private-dwelling recall: of private dwellings, the share read as private dwellings
  (private_read_as_place, kept for existing callers, counts homes given a place id)
- placed share: texts given a place or at least an area (LSOA)
- distance_m: for texts whose true place_id is a gazetteer place or street and that got a
  point, metres between that point and the true one (median, 90th percentile, max), so a
  wrong place 2 km away shows even when precision looks good
- per class precision and recall of location_class, and the confusions (true class -> class
  read), off-diagonal pairs largest first
- methods: how many texts each match_method read (reviewed_alias counts the data team's own
  corrections: score a sample they were not made from)
Labels are personal data (they hold ED texts): errors name the file, row and column, never a
value, and the report holds only counts, shares, distances and class names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from transforms.aliases import normalise_class
from transforms.gazetteer import LOCATION_CLASSES, Gazetteer
from transforms.geocode import Geocoder
from transforms.team_files import read_rows

LABEL_COLUMNS = {"text", "place_id", "location_class"}
CATEGORY = "category"
BLANK_CATEGORY = "(blank)"
CONFIDENCE_BANDS = ((0.0, 0.6), (0.6, 0.8), (0.8, 0.9), (0.9, 1.01))  # [low, high)
PRIVATE = "private_dwelling"
LABELS_HELP = (
    "A labels file needs the columns text, place_id (blank when the text names no gazetteer "
    "place or street) and location_class; category is optional. See README.md."
)


class LabelsError(ValueError):
    """The labels file is unusable: one line naming file, row and column, never a value."""


def load_ground_truth(data_root: Path) -> pd.DataFrame:
    """The synthetic ground truth, renamed to the hand-label columns."""
    files = sorted((data_root / "landing" / "ground_truth").glob("ground_truth_*.csv"))
    if not files:
        raise FileNotFoundError(
            f"No ground truth under {data_root / 'landing' / 'ground_truth'}: "
            "run `istv synth --out DATA_ROOT` first, or pass --labels FILE."
        )
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    truth = pd.concat(frames, ignore_index=True)
    return truth.rename(
        columns={"true_place_id": "place_id", "true_location_class": "location_class"}
    )[sorted(LABEL_COLUMNS)]


def load_labels(path: Path) -> pd.DataFrame:
    """A hand-labelled sample: text, place_id (NA when none), location_class (+ category).

    Raises LabelsError (file, row, column, what to do) for an unreadable file, a missing
    column, a location_class not in LOCATION_CLASSES, or a private dwelling with a place_id.
    """
    path = Path(path)
    rows = read_rows(path, ("text", "place_id", "location_class"), (CATEGORY,), LabelsError,
                     LABELS_HELP)
    if rows.empty:
        raise LabelsError(f"{path}: no labelled rows below the header. Add rows to score.")
    classes = normalise_class(rows["location_class"])
    bad = ~classes.isin(LOCATION_CLASSES).fillna(False).astype(bool)
    _fail(path, bad, "location_class", f"must be one of {', '.join(LOCATION_CLASSES)}")
    _fail(path, (classes == PRIVATE) & rows["place_id"].notna(), "place_id",
          "a private_dwelling is never a place; blank the place_id")
    labels = pd.DataFrame(
        {"text": rows["text"], "place_id": rows["place_id"], "location_class": classes}
    ).astype("string")
    if rows[CATEGORY].notna().any():
        labels[CATEGORY] = rows[CATEGORY].fillna(BLANK_CATEGORY)
    return labels.reset_index(drop=True)


def _fail(path: Path, bad: pd.Series, column: str, problem: str) -> None:
    if bad.any():
        row = int(bad.index[bad.to_numpy()][0])
        count = int(bad.sum())
        more = f" ({count} rows like this)" if count > 1 else ""
        raise LabelsError(f"{path}: row {row}, column '{column}': {problem}{more}. "
                          "Correct the labels file and run again.")


def evaluate(labels: pd.DataFrame, geocoder: Geocoder, gazetteer: Gazetteer | None = None
             ) -> dict:
    """Scores of the geocoder's reading of `labels.text` against the labels (module docstring).

    With a `category` column, `categories` holds the same scores for each category.
    """
    gazetteer = gazetteer if gazetteer is not None else geocoder.gazetteer
    labels = labels.reset_index(drop=True)
    text = labels["text"].astype("string")
    located = geocoder.geocode(text.mask(text.str.strip() == "", pd.NA))
    located = located.reset_index(drop=True)
    truth = pd.DataFrame({
        "place_id": _blank_to_na(labels["place_id"]),
        "location_class": labels["location_class"].astype("string"),
    })
    points = _true_points(gazetteer)
    known = set(points.index) | set(gazetteer.localities["locality_id"].dropna())
    scores = _scores(truth, located, points, known)
    if CATEGORY in labels:
        category = labels[CATEGORY].astype("string").fillna(BLANK_CATEGORY)
        scores["categories"] = {
            str(name): _scores(truth[category == name], located[category == name], points, known)
            for name in sorted(category.unique())
        }
    return scores


def _scores(truth: pd.DataFrame, located: pd.DataFrame, points: pd.DataFrame, known: set
            ) -> dict:
    true_place = truth["place_id"]
    got_place = located["place_id"].astype("string")
    right = (got_place.notna() & (got_place == true_place)).fillna(False).astype(bool)
    named, given = true_place.notna(), got_place.notna()
    private = (truth["location_class"] == PRIVATE).fillna(False).astype(bool)
    placed = given | located["lsoa21cd"].notna()
    predicted = located["location_class"].astype("string").fillna("unknown")
    given_place = given | located["place_name"].notna()
    given_point = located["easting"].notna() | located["northing"].notna()
    return {
        "texts": len(truth),
        "private_given_place": int((private & given_place).sum()),
        "private_given_point": int((private & given_point).sum()),
        "place_precision": _share(right.sum(), given.sum()),
        "place_recall": _share(right.sum(), named.sum()),
        "private_dwelling_recall": _share((private & (predicted == PRIVATE)).sum(),
                                          private.sum()),
        "private_read_as_place": int((private & given).sum()),
        "placed_share": _share(placed.sum(), len(truth)),
        "distance_m": _distances(true_place, located, points),
        "labels_not_in_gazetteer": int((named & ~true_place.isin(known)).sum()),
        "classes": _per_class(truth["location_class"], predicted),
        "confusions": _confusions(truth["location_class"], predicted),
        "confidence": _calibration(right, given, located["match_score"]),
        "methods": {
            str(k): int(v)
            for k, v in located["match_method"].astype("string").fillna("none")
            .value_counts().sort_index().items()
        },
    }


def _calibration(right: pd.Series, given: pd.Series, score: pd.Series) -> list[dict]:
    """Place precision by band of match_score, for texts given a place: a calibrated score
    means the share right rises with the band (the review queue takes those below 0.6)."""
    score = pd.to_numeric(score, errors="coerce")
    bands = []
    for low, high in CONFIDENCE_BANDS:
        inside = given & (score >= low) & (score < high)
        bands.append({"band": f"{low:.2f}-{min(high, 1.0):.2f}", "placed": int(inside.sum()),
                      "precision": _share((right & inside).sum(), inside.sum())})
    return bands


def _true_points(gazetteer: Gazetteer) -> pd.DataFrame:
    """easting, northing of every place and street, by id (localities are areas: no distance
    is measured for them)."""
    places = gazetteer.places.set_index("place_id")[["easting", "northing"]]
    streets = gazetteer.streets.set_index("street_id")[["easting", "northing"]]
    frame = pd.concat([places, streets])
    return frame[~frame.index.duplicated()]


def _distances(true_place: pd.Series, located: pd.DataFrame, points: pd.DataFrame) -> dict:
    true_e = true_place.map(points["easting"]).astype("float64")
    true_n = true_place.map(points["northing"]).astype("float64")
    got_e = pd.to_numeric(located["easting"], errors="coerce").astype("float64")
    got_n = pd.to_numeric(located["northing"], errors="coerce").astype("float64")
    measured = true_e.notna() & true_n.notna() & got_e.notna() & got_n.notna()
    metres = np.hypot((got_e - true_e)[measured], (got_n - true_n)[measured]).to_numpy()
    if not len(metres):
        return {"texts": 0, "median": None, "p90": None, "max": None}
    return {
        "texts": int(len(metres)),
        "median": round(float(np.median(metres)), 1),
        "p90": round(float(np.percentile(metres, 90)), 1),
        "max": round(float(metres.max()), 1),
    }


def _per_class(truth: pd.Series, predicted: pd.Series) -> dict:
    scores = {}
    truth = truth.fillna("unknown")
    for name in sorted(set(truth) | set(predicted.dropna())):
        hit = ((truth == name) & (predicted == name)).sum()
        scores[name] = {
            "texts": int((truth == name).sum()),
            "precision": _share(hit, (predicted == name).sum()),
            "recall": _share(hit, (truth == name).sum()),
        }
    return scores


def _confusions(truth: pd.Series, predicted: pd.Series) -> list[dict]:
    """Off-diagonal (true class, class read) pairs with their counts, largest first."""
    pairs = pd.DataFrame({"true": truth.fillna("unknown").astype(str),
                          "predicted": predicted.astype(str)})
    pairs = pairs[pairs["true"] != pairs["predicted"]]
    counts = pairs.value_counts().rename("texts").reset_index()
    counts = counts.sort_values(["texts", "true", "predicted"], ascending=[False, True, True])
    return [
        {"true": row.true, "predicted": row.predicted, "texts": int(row.texts)}
        for row in counts.itertuples(index=False)
    ]


def _blank_to_na(values: pd.Series) -> pd.Series:
    values = values.astype("string").str.strip()
    return values.mask(values == "", pd.NA)


def _share(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def describe(scores: dict) -> str:
    """The scores as text for a data team: the two must-be-zero counts first."""
    lines = [f"{scores['texts']} texts", ""]
    lines += _dwelling_lines(scores)
    lines += [
        "",
        f"place precision         {_percent(scores['place_precision'])}",
        f"place recall            {_percent(scores['place_recall'])}",
        f"private-dwelling recall {_percent(scores['private_dwelling_recall'])}",
        f"placed (place or area)  {_percent(scores['placed_share'])}",
        "distance from the true place: " + _distance_text(scores["distance_m"]),
    ]
    if scores["labels_not_in_gazetteer"]:
        lines.append(
            f"note: {scores['labels_not_in_gazetteer']} labelled place_id values are not in "
            "the gazetteer (typing errors, or places to add to the reference folder); those "
            "texts can never be placed right"
        )
    reviewed = scores["methods"].get("reviewed_alias", 0)
    if reviewed:
        lines.append(
            f"note: {reviewed} texts were read by the data team's reviewed aliases; to judge "
            "the matcher, score a sample they were not made from"
        )
    lines += ["", f"{'class':<18} {'texts':>6} {'precision':>10} {'recall':>8}"]
    for name, s in scores["classes"].items():
        lines.append(
            f"{name:<18} {s['texts']:>6} {_percent(s['precision']):>10} {_percent(s['recall']):>8}"
        )
    lines += ["", "confusions (true class -> read as), largest first:"]
    if not scores["confusions"]:
        lines.append("  none: every text got its true class")
    for pair in scores["confusions"]:
        lines.append(f"  {pair['true'] + ' -> ' + pair['predicted']:<38} {pair['texts']:>6}")
    lines += ["", "place precision by confidence (match_score):"]
    for band in scores["confidence"]:
        lines.append(f"  {band['band']:<12} {band['placed']:>6} placed  "
                     f"{_percent(band['precision']):>7} right")
    lines += ["", "match methods:"]
    for method, count in scores["methods"].items():
        lines.append(f"  {method:<36} {count:>6}")
    if "categories" in scores:
        lines += ["", "by category (--json has every score of each):", _category_table(scores)]
    return "\n".join(lines)


def _dwelling_lines(scores: dict) -> list[str]:
    lines = ["PRIVATE DWELLINGS (both must be 0: a home is never a place or a point)"]
    for key, label in (("private_given_place", "given a place"),
                       ("private_given_point", "given a point")):
        value = scores[key]
        verdict = "ok" if value == 0 else "FAIL: do not publish until fixed"
        lines.append(f"  homes {label:<14} {value:>6}   {verdict}")
    return lines


def _category_table(scores: dict) -> str:
    header = (f"  {'category':<20} {'texts':>6} {'homes@place':>11} {'homes@point':>11} "
              f"{'precision':>9} {'recall':>7} {'dwelling':>8} {'placed':>7} {'median m':>9} "
              f"{'p90 m':>8} {'max m':>8}")
    lines = [header]
    for name, s in scores["categories"].items():
        d = s["distance_m"]
        lines.append(
            f"  {name[:20]:<20} {s['texts']:>6} {s['private_given_place']:>11} "
            f"{s['private_given_point']:>11} {_percent(s['place_precision']):>9} "
            f"{_percent(s['place_recall']):>7} {_percent(s['private_dwelling_recall']):>8} "
            f"{_percent(s['placed_share']):>7} {_metres(d['median']):>9} {_metres(d['p90']):>8} "
            f"{_metres(d['max']):>8}"
        )
    return "\n".join(lines)


def _distance_text(d: dict) -> str:
    if not d["texts"]:
        return "no labelled place got a point"
    return (f"median {_metres(d['median'])} m, 90th percentile {_metres(d['p90'])} m, "
            f"max {_metres(d['max'])} m ({d['texts']} texts with a point)")


def _metres(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
