"""The geocoding review queue: the texts a night's geocoding was unsure of, for the data team to
read by hand, and their corrections turned into reviewed aliases (transforms/aliases.py).

`build_review(data_root, reference_dir, night)` reads restricted/attendances/arrival_date=NIGHT/
and writes restricted/geocode_review/night=NIGHT.csv: one row per distinct location text whose
reading needs a look, because nothing matched (no_match), several places fitted (ambiguous), the
dwelling cues contradicted the place found (conflict: match_method dwelling_conflict), or the
confidence match_score is below REVIEW_BELOW (low_confidence). Columns REVIEW_COLUMNS; the team
fills correct_id (a place_id, street_id or locality_id) and/or correct_class. Texts that already
have a reviewed alias are left out.

`apply_review(file, data_root, reference_dir, today)` checks every filled row and appends the
corrections to <reference>/aliases.csv, which the geocoder uses from the next run on.

Both files hold location texts, personal data: they live under restricted/ and the reference
folder only, and every message and summary holds counts, rows, columns and paths, never a text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from exports.writers import neutralise_frame, restore_text
from istv.zones import Zones, write_atomic
from transforms.aliases import (
    ALIASES_FILE,
    FILE_COLUMNS,
    PRIVATE,
    cleaned_forms,
    load_aliases,
    normalise_class,
    target_class,
)
from transforms.gazetteer import LOCATION_CLASSES, GazetteerError, load_gazetteer
from transforms.team_files import header_key, read_rows

# A reading whose calibrated confidence (match_score, 0-1) is below this goes to the queue.
REVIEW_BELOW = 0.6
REVIEW_DIR = "geocode_review"
REVIEW_COLUMNS = (
    "text", "records", "location_class", "place_id", "place_name", "match_method",
    "match_score", "reason", "correct_id", "correct_class",
)
# Reasons, most pressing first: a text flagged for several reasons is listed under the first.
REASONS = ("no_match", "ambiguous", "conflict", "low_confidence")
METHOD_REASONS = {"no_match": "no_match", "ambiguous": "ambiguous",
                  "dwelling_conflict": "conflict"}
TEXT = "assault_location_description"
READING = ("location_class", "place_id", "place_name", "match_method", "match_score")
FILE_NAME = re.compile(r"night=(\d{4}-\d{2}-\d{2})\.(?:csv|xlsx)", re.IGNORECASE)


class ReviewError(ValueError):
    """The queue cannot be written or applied; `problems` are one line each (file, row, column,
    what to do), never a text."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class ReviewQueue:
    """What `build_review` wrote: texts and records per reason, and texts left out because
    they already have a reviewed alias."""

    night: str
    path: Path
    texts: dict[str, int]
    records: dict[str, int]
    already_reviewed: int


@dataclass(frozen=True)
class Applied:
    """What `apply_review` did: aliases added, texts skipped because already in aliases.csv."""

    path: Path
    night: str
    added: int
    already_there: int
    unfilled: int
    classes: dict[str, int] = field(default_factory=dict)


def review_path(data_root: Path, night: dt.date) -> Path:
    return Zones(data_root).restricted / REVIEW_DIR / f"night={night.isoformat()}.csv"


def build_review(data_root: Path, reference_dir: Path, night: dt.date, force: bool = False
                 ) -> ReviewQueue:
    """Write the night's review queue (module docstring); returns the counts.

    Refuses to replace a queue for the same night that already has corrections filled in,
    unless `force`: that would throw away the team's work.
    """
    target = review_path(data_root, night)
    aliases = load_aliases(reference_dir)
    known = set(cleaned_forms(aliases["text"]))
    if target.exists() and not force:
        waiting = _unapplied_rows(target, known)
        if waiting:
            raise ReviewError(
                f"{target}: {waiting} filled-in corrections are not in aliases.csv yet. Apply "
                "them first (istv geocode review --apply FILE), or pass --force to replace the "
                "file and lose them."
            )
    records = read_night(data_root, night)
    reason = _reasons(records)
    flagged = records[reason.notna()].assign(reason=reason[reason.notna()])
    flagged = flagged[flagged[TEXT].notna() & (flagged[TEXT].str.strip() != "")]
    queue = _one_row_per_text(flagged)
    reviewed = cleaned_forms(queue["text"]).isin(known) if known else queue["text"].isna()
    queue = queue[~reviewed.to_numpy()]
    write_atomic(target, lambda tmp: _write_csv(queue, tmp))
    texts = {name: int((queue["reason"] == name).sum()) for name in REASONS}
    counts = {name: int(queue.loc[queue["reason"] == name, "records"].sum()) for name in REASONS}
    return ReviewQueue(night.isoformat(), target, texts, counts, int(reviewed.sum()))


def read_night(data_root: Path, night: dt.date) -> pd.DataFrame:
    """The night's geocoded restricted records: the text and its reading."""
    partition = Zones(data_root).restricted_partition(night.isoformat())
    files = sorted(partition.glob("*.parquet")) if partition.is_dir() else []
    if not files:
        raise ReviewError(
            f"{partition}: no restricted records for night {night}. Run the nightly pipeline "
            "for that night first, or check --data-root / ISTV_DATA_ROOT."
        )
    frames = []
    for file in files:
        names = set(pq.read_schema(file).names)
        if "match_method" not in names:
            raise ReviewError(
                f"{file}: not geocoded yet (no match_method column). Let the night's geocode "
                "task finish, then run the review again."
            )
        wanted = [TEXT, *READING]
        frames.append(pq.read_table(file, columns=[c for c in wanted if c in names]).to_pandas())
    records = pd.concat(frames, ignore_index=True)
    for column in (TEXT, *READING):
        if column not in records:
            records[column] = pd.NA
    records[TEXT] = records[TEXT].astype("string")
    records["match_method"] = records["match_method"].astype("string")
    records["match_score"] = pd.to_numeric(records["match_score"], errors="coerce")
    return records


def _reasons(records: pd.DataFrame) -> pd.Series:
    """Each record's review reason (REASONS), NA when its reading needs no look."""
    reason = records["match_method"].map(METHOD_REASONS).astype("string")
    low = (records["match_score"] < REVIEW_BELOW).fillna(False).astype(bool)
    return reason.mask(reason.isna() & low, "low_confidence")


def _one_row_per_text(flagged: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct text: its most pressing reason and that reading, with the number
    of the night's flagged records holding it; records descending, then text."""
    if flagged.empty:
        empty = pd.DataFrame({column: pd.Series(dtype="string") for column in REVIEW_COLUMNS})
        return empty.astype({"records": "int64", "match_score": "float64"})
    rank = flagged["reason"].map({name: i for i, name in enumerate(REASONS)})
    ordered = flagged.assign(_rank=rank).sort_values(
        [TEXT, "_rank", "match_method", "place_id"], kind="stable", na_position="last"
    )
    first = ordered.drop_duplicates(TEXT).set_index(TEXT)
    counts = flagged.groupby(TEXT).size()
    queue = pd.DataFrame({
        "text": first.index.astype(str),
        "records": counts.reindex(first.index).to_numpy(),
        **{column: first[column].to_numpy() for column in READING},
        "reason": first["reason"].to_numpy(),
        "correct_id": "",
        "correct_class": "",
    })
    queue = queue.sort_values(["records", "text"], ascending=[False, True], kind="stable")
    return queue[list(REVIEW_COLUMNS)].reset_index(drop=True)


def _write_csv(queue: pd.DataFrame, tmp: Path) -> None:
    out = neutralise_frame(queue)  # the texts are typed by hand: never live formulas in Excel
    out["match_score"] = pd.to_numeric(out["match_score"], errors="coerce").round(3)
    # UTF-8 with a BOM, so Excel shows accented letters; apply reads it back either way.
    out.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")


def _unapplied_rows(path: Path, known: set[str]) -> int:
    """Rows of an existing queue with a correction whose text has no alias yet."""
    try:
        rows = read_rows(path, ("text", "correct_id", "correct_class"), error=ReviewError)
    except ReviewError:
        return 0  # not a queue any more (emptied, header changed): nothing to keep
    filled = rows[rows["correct_id"].notna() | rows["correct_class"].notna()]
    texts = restore_text(filled["text"]).fillna("")
    return int((~cleaned_forms(texts).isin(known)).sum())


def apply_review(file: Path, data_root: Path, reference_dir: Path, today: dt.date) -> Applied:
    """Append the filled rows of a review file to <reference>/aliases.csv (module docstring).

    Every filled row (correct_id and/or correct_class) is checked first: the text is one of the
    night's texts (unchanged by a spreadsheet), correct_id is a place_id, street_id or
    locality_id of the gazetteer, correct_class is a location class (default: the class of
    correct_id's target), and a private_dwelling has no correct_id. Any problem: ReviewError
    with one line per problem and nothing written. Texts already in aliases.csv are skipped.
    """
    file = Path(file)
    matched = FILE_NAME.fullmatch(file.name)
    if not matched:
        raise ReviewError(
            f"{file}: the file name must be night=YYYY-MM-DD.csv, as `istv geocode review` "
            "wrote it (the night is taken from it). Rename the file back."
        )
    night = _night(matched.group(1), file)
    rows = read_rows(file, ("text", "correct_id", "correct_class"), error=ReviewError,
                     what="Keep the header row of the review file as it was written.")
    rows["text"] = restore_text(rows["text"])
    filled = rows["correct_id"].notna() | rows["correct_class"].notna()
    try:
        gazetteer = load_gazetteer(reference_dir)
    except GazetteerError as error:
        raise ReviewError(str(error)) from None
    night_texts = set(_squeezed(read_night(data_root, night)[TEXT].dropna()))
    problems: list[str] = []
    new: list[dict] = []
    seen: dict[str, tuple[int, tuple]] = {}
    chosen = rows[filled]
    cleaned = cleaned_forms(chosen["text"].fillna(""))
    for (row, values), form in zip(chosen.iterrows(), cleaned, strict=True):
        where = f"{file}: row {row}"
        text, target = values["text"], values["correct_id"]
        if pd.isna(text):
            problems.append(f"{where}, column 'text': blank. Keep the text as it was written.")
            continue
        if _squeezed(pd.Series([text])).iloc[0] not in night_texts:
            problems.append(
                f"{where}, column 'text': not a location text of night {night}. Was it changed "
                "by a spreadsheet? Edit only correct_id and correct_class, and save as CSV."
            )
            continue
        if not form:
            problems.append(f"{where}, column 'text': has no words to match on; leave the "
                            "row's corrections blank.")
            continue
        location_class = None
        if pd.notna(values["correct_class"]):
            location_class = normalise_class(pd.Series([values["correct_class"]])).iloc[0]
            if location_class not in LOCATION_CLASSES:
                problems.append(f"{where}, column 'correct_class': must be one of "
                                f"{', '.join(LOCATION_CLASSES)}, or blank to take the class "
                                "of correct_id.")
                continue
        if pd.notna(target):
            if location_class == PRIVATE:
                problems.append(f"{where}, column 'correct_id': a private dwelling is never a "
                                "place; blank correct_id (the class alone is the correction).")
                continue
            found = target_class(gazetteer, target)
            if found is None:
                problems.append(f"{where}, column 'correct_id': not a place_id, street_id or "
                                "locality_id of the gazetteer. Look the id up in the "
                                "reference files, or blank it and give correct_class.")
                continue
            is_area = (gazetteer.localities["locality_id"] == target).any()
            if location_class and location_class != found and not is_area:
                problems.append(f"{where}, column 'correct_class': differs from the class of "
                                f"correct_id ({found}); a place or street is read with its own "
                                "class. Blank correct_class, or correct the class in the "
                                "reference files.")
                continue
            location_class = location_class or found
        reading = (target if pd.notna(target) else "", location_class)
        if form in seen:
            if seen[form][1] != reading:
                problems.append(f"{where}, column 'correct_id': the same text (once cleaned) "
                                f"has another correction in row {seen[form][0]}. Keep one.")
            continue
        seen[form] = (row, reading)
        new.append({"text": text, "target_id": reading[0], "location_class": location_class})
    if problems:
        raise ReviewError(problems)
    existing = set(cleaned_forms(gazetteer.aliases["text"]))
    fresh = [r for r, form in zip(new, cleaned_forms(pd.Series([r["text"] for r in new],
                                                              dtype="string")), strict=True)
             if form not in existing]
    aliases_path = Path(reference_dir) / ALIASES_FILE
    for alias in fresh:
        alias.update(added_on=today.isoformat(), reviewed_from=night.isoformat())
    if fresh:
        _append_aliases(aliases_path, fresh)
    classes: dict[str, int] = {}
    for alias in fresh:
        classes[alias["location_class"]] = classes.get(alias["location_class"], 0) + 1
    return Applied(aliases_path, night.isoformat(), len(fresh), len(new) - len(fresh),
                   int((~filled).sum()), dict(sorted(classes.items())))


def _night(text: str, file: Path) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ReviewError(f"{file}: the night in the file name is not a date (YYYY-MM-DD). "
                          "Rename the file back to the name the review wrote.") from None


def _squeezed(texts: pd.Series) -> pd.Series:
    """Texts with runs of blanks (line breaks a spreadsheet may change) as one space."""
    return texts.astype(str).str.split().str.join(" ")


def _append_aliases(path: Path, aliases: list[dict]) -> None:
    """aliases.csv with `aliases` appended, written atomically; existing rows and any extra
    columns are kept, missing standard columns added to the header."""
    header: list[str] = list(FILE_COLUMNS)
    rows: list[list[str]] = []
    if path.exists():
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("cp1252")
        parsed = list(csv.reader(io.StringIO(content, newline="")))
        if parsed:
            present = {header_key(name) for name in parsed[0]}
            header = parsed[0] + [c for c in FILE_COLUMNS if header_key(c) not in present]
            rows = [row + [""] * (len(header) - len(row)) for row in parsed[1:] if row]
    position = {header_key(name): i for i, name in reversed(list(enumerate(header)))}
    for alias in aliases:
        row = [""] * len(header)
        for column in FILE_COLUMNS:
            row[position[header_key(column)]] = alias[column]
        rows.append(row)

    mode = path.stat().st_mode & 0o777 if path.exists() else None

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        if mode is not None:  # keep the file's permissions (a new one is owner-only)
            os.chmod(tmp, mode)

    write_atomic(path, write)
