"""The geocoding review queue on a real restricted partition: the queue file, filled-in
corrections applied to aliases.csv, load_gazetteer returning them, and no text in any output."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from istv.cli import app
from istv.geocode_review import (
    REVIEW_BELOW,
    REVIEW_COLUMNS,
    ReviewError,
    apply_review,
    build_review,
    review_path,
)
from istv.settings import Settings
from istv.zones import Zones
from schemas import restricted_schema
from tests.conftest import FIRST_NIGHT
from tests.e2e.helpers import ingest_nights
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder

NIGHT = dt.date(2026, 10, 24)
CANARY = "CANARY-REVIEW-5Z8 by the bins behind the old mill"
AMBIGUOUS = "near the bus stn thing"
FUZZY = "kettle-ish place"
CONFLICT = "high st by the flats"
# text, records, location_class, place_id, match_method, match_score
RECORDS = [
    (CANARY, 2, "unknown", None, "no_match", None),
    (CANARY, 1, "licensed_premises", "KETTLE", "place_fuzzy", 0.3),  # same text, lower reason
    (AMBIGUOUS, 1, "unknown", None, "ambiguous", 0.4),
    (FUZZY, 2, "licensed_premises", "KETTLE", "place_fuzzy", 0.45),
    (CONFLICT, 1, "private_dwelling", None, "dwelling_conflict", None),
    ("o/s copper kettle", 4, "licensed_premises", "KETTLE", "place_exact", 0.98),
    ("just at the threshold", 1, "licensed_premises", "KETTLE", "place_fuzzy", REVIEW_BELOW),
    ("pts home", 2, "private_dwelling", None, "dwelling_home_word", None),
    (None, 1, "unknown", None, "no_text", None),
]


@pytest.fixture
def kettle(data_root):
    places = load_gazetteer(data_root / "reference").places
    return places[places["name"] == "The Copper Kettle"].iloc[0]


@pytest.fixture
def night(data_root, kettle):
    """A geocoded restricted partition written by hand with every column of the schema."""
    rows = []
    for text, count, location_class, place_id, method, score in RECORDS:
        place = kettle["place_id"] if place_id == "KETTLE" else None
        name = kettle["name"] if place else None
        rows += [(text, location_class, place, name, method, score)] * count
    schema = restricted_schema()
    given = dict(zip(
        ("assault_location_description", "location_class", "place_id", "place_name",
         "match_method", "match_score"),
        zip(*rows, strict=True), strict=True,
    ))
    columns = {
        f.name: pa.array(given[f.name], type=f.type) if f.name in given
        else pa.nulls(len(rows), type=f.type)
        for f in schema
    }
    partition = Zones(data_root).restricted_partition(NIGHT.isoformat())
    partition.mkdir(parents=True)
    pq.write_table(pa.table(columns, schema=schema), partition / "part-0.parquet")
    return NIGHT


def read_queue(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_queue(path, rows):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REVIEW_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def review(*args):
    return CliRunner().invoke(app, ["geocode", "review", *args])


def test_review_queue_lists_each_text_needing_a_look(data_root, night, kettle):
    result = review("--night", night.isoformat(), "--data-root", str(data_root))
    assert result.exit_code == 0, result.output
    path = review_path(data_root, night)
    assert path == data_root / "restricted" / "geocode_review" / "night=2026-10-24.csv"
    rows = read_queue(path)
    assert list(rows[0]) == list(REVIEW_COLUMNS)
    assert [(r["text"], r["records"], r["reason"]) for r in rows] == [
        (CANARY, "3", "no_match"),
        (FUZZY, "2", "low_confidence"),
        (CONFLICT, "1", "conflict"),
        (AMBIGUOUS, "1", "ambiguous"),
    ]
    fuzzy = rows[1]
    assert fuzzy["place_id"] == kettle["place_id"] and fuzzy["place_name"] == kettle["name"]
    assert fuzzy["match_method"] == "place_fuzzy" and float(fuzzy["match_score"]) == 0.45
    assert rows[0]["match_method"] == "no_match" and rows[0]["match_score"] == ""
    assert all(r["correct_id"] == "" and r["correct_class"] == "" for r in rows)
    # Counts and the path only: the texts stay in restricted/.
    assert "CANARY" not in result.output
    assert all(text not in result.output for text in (AMBIGUOUS, FUZZY, CONFLICT))
    assert str(path) in result.output
    for reason, texts, records in (("no_match", 1, 3), ("ambiguous", 1, 1), ("conflict", 1, 1),
                                   ("low_confidence", 1, 2)):
        assert f"{reason:<16} {texts:>6} texts {records:>6} records" in result.output
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # atomic, no temp


def test_filled_corrections_become_aliases_the_gazetteer_returns(data_root, night, kettle):
    reference = data_root / "reference"
    street = load_gazetteer(reference).streets.iloc[0]
    queue = build_review(data_root, reference, night)
    rows = read_queue(queue.path)
    fill = {CANARY: (street["street_id"], ""), FUZZY: (kettle["place_id"], ""),
            CONFLICT: ("", "private_dwelling")}
    for row in rows:
        row["correct_id"], row["correct_class"] = fill.get(row["text"], ("", ""))
    write_queue(queue.path, rows)

    result = review("--apply", str(queue.path), "--data-root", str(data_root))
    assert result.exit_code == 0, result.output
    assert "aliases added: 3" in result.output and "CANARY" not in result.output
    with (reference / "aliases.csv").open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    today = dt.date.today().isoformat()
    assert {(r["text"], r["target_id"], r["location_class"]) for r in written} == {
        (CANARY, street["street_id"], "street"),
        (FUZZY, kettle["place_id"], kettle["location_class"]),
        (CONFLICT, "", "private_dwelling"),
    }
    assert {(r["added_on"], r["reviewed_from"]) for r in written} == {(today, "2026-10-24")}
    gazetteer = load_gazetteer(reference)
    aliases = gazetteer.aliases
    assert set(aliases["text"]) == {CANARY, FUZZY, CONFLICT}
    assert aliases.set_index("text").loc[CONFLICT].isna()["target_id"]
    # The next night's geocoder reads them as the team did.
    read = Geocoder(gazetteer).geocode(pd.Series([CANARY, CONFLICT.upper()], dtype="string"))
    assert list(read["match_method"]) == ["reviewed_alias", "reviewed_alias"]
    assert read["place_id"].iloc[0] == street["street_id"]
    assert read["location_class"].iloc[1] == "private_dwelling"
    assert read[["place_id", "easting", "northing"]].iloc[1].isna().all()

    again = apply_review(queue.path, data_root, reference, dt.date.today())
    assert (again.added, again.already_there, again.unfilled) == (0, 3, 1)
    assert len(load_gazetteer(reference).aliases) == 3
    # Reviewed texts leave the queue; the applied file may be replaced without --force.
    requeued = build_review(data_root, reference, night)
    assert requeued.already_reviewed == 3
    assert [r["text"] for r in read_queue(requeued.path)] == [AMBIGUOUS]
    assert not [p for p in reference.iterdir() if p.name.startswith(".")]


def test_existing_aliases_file_is_kept_and_extended(data_root, night, kettle):
    reference = data_root / "reference"
    (reference / "aliases.csv").write_text(
        "Text,Target ID,Location Class,added_on,reviewed_from,note\n"
        "the rec,,public_place,2026-09-01,2026-08-30,kept by hand\n",
        encoding="utf-8",
    )
    queue = build_review(data_root, reference, night)
    rows = read_queue(queue.path)
    for row in rows:
        if row["text"] == AMBIGUOUS:
            row["correct_class"] = "Public Place"
    write_queue(queue.path, rows)
    assert apply_review(queue.path, data_root, reference, dt.date(2026, 11, 2)).added == 1
    lines = (reference / "aliases.csv").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["Text,Target ID,Location Class,added_on,reviewed_from,note",
                         "the rec,,public_place,2026-09-01,2026-08-30,kept by hand"]
    assert lines[2] == f"{AMBIGUOUS},,public_place,2026-11-02,2026-10-24,"


def test_bad_corrections_are_refused_one_line_each(data_root, night, kettle):
    reference = data_root / "reference"
    queue = build_review(data_root, reference, night)
    rows = read_queue(queue.path)
    by_text = {r["text"]: r for r in rows}
    by_text[CANARY]["correct_id"] = "NO-SUCH-PLACE"
    by_text[FUZZY]["correct_class"] = "pub"
    by_text[CONFLICT].update(correct_id=kettle["place_id"], correct_class="private_dwelling")
    by_text[AMBIGUOUS].update(text=AMBIGUOUS.upper() + " (edited)", correct_class="street")
    write_queue(queue.path, rows)

    result = review("--apply", str(queue.path), "--data-root", str(data_root))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 4
    expected = {2: "'correct_id'", 3: "'correct_class'", 4: "'correct_id'", 5: "'text'"}
    for line, (row, column) in zip(lines, expected.items(), strict=True):
        assert line.startswith(f"istv geocode review: {queue.path}: row {row}, column {column}")
    assert "CANARY" not in result.output and "NO-SUCH-PLACE" not in result.output
    assert "EDITED" not in result.output.upper() and "Traceback" not in result.output
    assert not (reference / "aliases.csv").exists()  # nothing written


def test_a_queue_with_unapplied_corrections_is_not_replaced(data_root, night):
    reference = data_root / "reference"
    queue = build_review(data_root, reference, night)
    rows = read_queue(queue.path)
    rows[0]["correct_class"] = "unknown"
    write_queue(queue.path, rows)
    result = review("--night", night.isoformat(), "--data-root", str(data_root))
    assert result.exit_code == 2 and "--force" in result.output
    assert read_queue(queue.path)[0]["correct_class"] == "unknown"
    forced = review("--night", night.isoformat(), "--data-root", str(data_root), "--force")
    assert forced.exit_code == 0, forced.output
    assert read_queue(queue.path)[0]["correct_class"] == ""


def test_review_errors(data_root, night, tmp_path):
    missing = review("--night", "2026-10-01", "--data-root", str(data_root))
    assert missing.exit_code == 2 and "no restricted records for night 2026-10-01" in missing.output
    assert review("--night", "24/10/2026", "--data-root", str(data_root)).exit_code == 2
    assert review("--data-root", str(data_root)).exit_code == 2
    renamed = tmp_path / "my corrections.csv"
    renamed.write_text("text,correct_id,correct_class\n")
    result = review("--apply", str(renamed), "--data-root", str(data_root))
    assert result.exit_code == 2 and "night=YYYY-MM-DD.csv" in result.output
    with pytest.raises(ReviewError, match="row 1, column 'correct_class'"):
        bad = tmp_path / "night=2026-10-24.csv"
        bad.write_text(f"text,correct_id\n{CANARY},\n")
        apply_review(bad, data_root, data_root / "reference", dt.date.today())


def test_review_of_a_night_run_by_the_real_stages(data_root):
    """The nightly stages write the partition; the queue reads it and prints no text."""
    ingest_nights(Settings.from_env(), [FIRST_NIGHT], "review")
    records = pq.read_table(
        Zones(data_root).restricted_partition(FIRST_NIGHT.isoformat())
    ).to_pandas()
    texts = set(records["assault_location_description"].dropna())
    result = review("--night", FIRST_NIGHT.isoformat())  # ISTV_DATA_ROOT from the fixture
    assert result.exit_code == 0, result.output
    rows = read_queue(review_path(data_root, FIRST_NIGHT))
    assert {r["text"] for r in rows} <= texts
    assert {r["reason"] for r in rows} <= {"no_match", "ambiguous", "conflict", "low_confidence"}
    printed = result.output.replace(str(review_path(data_root, FIRST_NIGHT)), "").lower()
    assert not [t for t in texts if len(t) > 3 and t.lower() in printed]


def test_a_class_other_than_the_places_own_is_refused(data_root, night, kettle):
    reference = data_root / "reference"
    queue = build_review(data_root, reference, night)
    rows = read_queue(queue.path)
    other = "retail" if kettle["location_class"] != "retail" else "other"
    for row in rows:
        if row["text"] == FUZZY:
            row.update(correct_id=kettle["place_id"], correct_class=other)
    write_queue(queue.path, rows)
    with pytest.raises(ReviewError) as raised:
        apply_review(queue.path, data_root, reference, dt.date.today())
    assert raised.value.problems == [
        f"{queue.path}: row 3, column 'correct_class': differs from the class of correct_id "
        f"({kettle['location_class']}); a place or street is read with its own class. Blank "
        "correct_class, or correct the class in the reference files."
    ]


def test_a_formula_like_text_is_inert_in_the_queue_and_still_applies(data_root, kettle):
    """Texts are typed by hand: one that starts like a formula opens as text in Excel (a
    leading apostrophe), and the correction made on it still matches the night's text."""
    formula = "=HYPERLINK(\"x\") outside kettle"
    schema = restricted_schema()
    given = {"assault_location_description": [formula], "location_class": ["unknown"],
             "match_method": ["no_match"]}
    columns = {
        f.name: pa.array(given[f.name], type=f.type) if f.name in given
        else pa.nulls(1, type=f.type)
        for f in schema
    }
    night = dt.date(2026, 10, 26)
    partition = Zones(data_root).restricted_partition(night.isoformat())
    partition.mkdir(parents=True)
    pq.write_table(pa.table(columns, schema=schema), partition / "part-0.parquet")

    queue = build_review(data_root, data_root / "reference", night)
    rows = read_queue(queue.path)
    assert [r["text"] for r in rows] == ["'" + formula]
    rows[0]["correct_id"] = kettle["place_id"]
    write_queue(queue.path, rows)
    applied = apply_review(queue.path, data_root, data_root / "reference", dt.date.today())
    assert applied.added == 1
    assert set(load_gazetteer(data_root / "reference").aliases["text"]) == {formula}
