"""`istv geocode-eval`: how well the geocoder reads location text, against known answers.

Known answers are the synthetic ground truth (landing/ground_truth/ground_truth_*.csv) or a
trust's hand-labelled sample (a CSV with columns text, place_id, location_class). Scores:
- place precision: of texts given a place (venue, landmark or street), the share given the right one
- place recall: of texts that name a gazetteer place, the share given that place
- private-dwelling recall: of private dwellings, the share read as private dwellings
- placed share: texts given a place or at least an area (LSOA)
- per class precision and recall of location_class.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transforms.geocode import Geocoder

LABEL_COLUMNS = {"text", "place_id", "location_class"}


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
    """A hand-labelled sample: text, place_id (blank when none), location_class."""
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = LABEL_COLUMNS - set(labels.columns)
    if missing:
        raise ValueError(
            f"{path}: missing columns {sorted(missing)}; "
            "a labels file needs text, place_id and location_class"
        )
    return labels[sorted(LABEL_COLUMNS)]


def evaluate(labels: pd.DataFrame, geocoder: Geocoder) -> dict:
    """Scores of the geocoder's reading of `labels.text` against the labels."""
    located = geocoder.geocode(labels["text"].where(labels["text"] != "", None))
    true_place = labels["place_id"].replace("", None)
    got_place = located["place_id"]
    right = got_place.notna() & (got_place == true_place)
    named, given = true_place.notna(), got_place.notna()
    private = labels["location_class"] == "private_dwelling"
    placed = given | located["lsoa21cd"].notna()
    return {
        "texts": len(labels),
        "place_precision": _share(right.sum(), given.sum()),
        "place_recall": _share(right.sum(), named.sum()),
        "private_dwelling_recall": _share(
            (private & (located["location_class"] == "private_dwelling")).sum(), private.sum()
        ),
        "private_read_as_place": int((private & given).sum()),
        "placed_share": _share(placed.sum(), len(labels)),
        "classes": _per_class(labels["location_class"], located["location_class"]),
    }


def _per_class(truth: pd.Series, predicted: pd.Series) -> dict:
    scores = {}
    for name in sorted(set(truth) | set(predicted.dropna())):
        hit = ((truth == name) & (predicted == name)).sum()
        scores[name] = {
            "texts": int((truth == name).sum()),
            "precision": _share(hit, (predicted == name).sum()),
            "recall": _share(hit, (truth == name).sum()),
        }
    return scores


def _share(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def describe(scores: dict) -> str:
    lines = [
        f"{scores['texts']} texts",
        f"place precision        {_percent(scores['place_precision'])}",
        f"place recall           {_percent(scores['place_recall'])}",
        f"private-dwelling recall {_percent(scores['private_dwelling_recall'])} "
        f"({scores['private_read_as_place']} private dwellings read as a place)",
        f"placed (place or area) {_percent(scores['placed_share'])}",
        "",
        f"{'class':<18} {'texts':>6} {'precision':>10} {'recall':>8}",
    ]
    for name, s in scores["classes"].items():
        lines.append(
            f"{name:<18} {s['texts']:>6} {_percent(s['precision']):>10} {_percent(s['recall']):>8}"
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
