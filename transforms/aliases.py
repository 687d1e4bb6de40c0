"""Reviewed aliases: location texts the trust's data team has read by hand, in
`<reference>/aliases.csv` (docs/gazetteer.md).

Each row says how one text is to be read: `text`, `target_id` (a place_id, street_id or
locality_id of the gazetteer, or blank for a class only), `location_class`, `added_on` (the date
it was added) and `reviewed_from` (the night whose review queue it came from). `istv geocode
review --apply` appends to it; the Geocoder gives a text whose cleaned form equals an alias's
cleaned form that alias's reading (match_method `reviewed_alias`).

Unlike every other reference file, aliases.csv holds ED location texts: it is personal data.
Errors therefore name the file, row and column, never a value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transforms.gazetteer import (
    ALIAS_COLUMNS,
    LOCATION_CLASSES,
    GazetteerError,
    empty_aliases,
)
from transforms.team_files import read_rows

ALIASES_FILE = "aliases.csv"
FILE_COLUMNS = ("text", "target_id", "location_class", "added_on", "reviewed_from")
PRIVATE = "private_dwelling"
# The class a reading of a street or a locality has (transforms/geocode.py gives these).
STREET_CLASS = "street"
LOCALITY_CLASS = "unknown"  # a locality says where, not what kind of place
FIX = "Correct it in aliases.csv (it is under version control: see the history)."

__all__ = [
    "ALIASES_FILE", "ALIAS_COLUMNS", "FILE_COLUMNS", "AliasError", "check_targets",
    "cleaned_forms", "empty_aliases", "load_aliases", "normalise_class", "target_class",
]


class AliasError(GazetteerError):
    """aliases.csv is unusable: names the file, row and column, never the text."""


def load_aliases(reference_dir: Path) -> pd.DataFrame:
    """Rows of `<reference_dir>/aliases.csv` as text, target_id (NA when blank), location_class.

    The index is the row in the file (the header is row 1). No file: an empty frame. Every row
    needs a text with words in it and a location_class of LOCATION_CLASSES; a private_dwelling
    never has a target_id. Two rows whose texts clean to the same words must give the same
    reading; the later of two identical ones is dropped, so cleaned texts are unique. Whether a
    target_id exists is checked against the gazetteer by `check_targets` (load_gazetteer does).
    """
    path = Path(reference_dir) / ALIASES_FILE
    if not path.is_file():
        return empty_aliases()
    rows = read_rows(
        path, ("text", "location_class"), ("target_id", "added_on", "reviewed_from"), AliasError,
        "aliases.csv has columns " + ", ".join(FILE_COLUMNS) + ". See docs/gazetteer.md.",
    )
    _fail_where(path, rows["text"].isna(), "text", "is blank; every alias needs its text")
    classes = normalise_class(rows["location_class"])
    _fail_where(
        path, ~classes.isin(LOCATION_CLASSES).fillna(False).astype(bool), "location_class",
        f"must be one of {', '.join(LOCATION_CLASSES)}",
    )
    _fail_where(
        path, (classes == PRIVATE) & rows["target_id"].notna(), "target_id",
        "a private_dwelling alias never has a target_id (a home is never a place); blank it",
    )
    aliases = pd.DataFrame(
        {"text": rows["text"], "target_id": rows["target_id"], "location_class": classes},
        index=rows.index,
    ).astype("string")
    cleaned = cleaned_forms(aliases["text"])
    _fail_where(
        path, cleaned == "", "text",
        "has no words once cleaned (only punctuation or blanks), so it would match every such "
        "text; remove the row",
    )
    reading = aliases["target_id"].fillna("") + "|" + aliases["location_class"]
    repeated = cleaned.duplicated(keep=False)
    for form in cleaned[repeated].unique():
        same = cleaned == form
        if reading[same].nunique() > 1:
            rows_named = ", ".join(str(r) for r in aliases.index[same])
            raise AliasError(
                f"{path}: rows {rows_named}, column 'text': the same text (once cleaned) is "
                f"read differently. Keep one reading. {FIX}"
            )
    aliases = aliases[~cleaned.duplicated()]
    aliases.index.name = "row"
    return aliases[list(ALIAS_COLUMNS)]


def check_targets(
    aliases: pd.DataFrame,
    places: pd.DataFrame,
    streets: pd.DataFrame,
    localities: pd.DataFrame,
    path: Path,
) -> None:
    """Every target_id must be exactly one place_id, street_id or locality_id, and an alias of a
    place or street must have its class (a locality's alias gives its own): else AliasError
    naming the first bad row (the index of `aliases` is the row in the file)."""
    given = aliases["target_id"].notna()
    if not given.any():
        return
    ids = aliases.loc[given, "target_id"]
    hits = (
        ids.isin(places["place_id"]).astype(int)
        + ids.isin(streets["street_id"]).astype(int)
        + ids.isin(localities["locality_id"]).astype(int)
    )
    unknown = hits == 0
    if unknown.any():
        raise AliasError(
            f"{path}: row {int(ids.index[unknown.to_numpy()][0])}, column 'target_id': not a "
            f"place_id, street_id or locality_id of the gazetteer ({int(unknown.sum())} rows). "
            f"Correct the id, or blank it to give only the class. {FIX}"
        )
    shared = hits > 1
    if shared.any():
        raise AliasError(
            f"{path}: row {int(ids.index[shared.to_numpy()][0])}, column 'target_id': this id "
            "names more than one kind of thing in the gazetteer (a place and a street, ...). "
            "Give the reference files distinct ids. See docs/gazetteer.md."
        )
    own = ids.map(places.set_index("place_id")["location_class"]).astype("string")
    own = own.mask(ids.isin(streets["street_id"]), STREET_CLASS)
    differs = (own.notna() & (own != aliases.loc[given, "location_class"])).fillna(False)
    if differs.any():
        row = int(ids.index[differs.to_numpy()][0])
        raise AliasError(
            f"{path}: row {row}, column 'location_class': differs from the class of its "
            f"target_id ({own[row]}); a place or street is read with its own class. Use that "
            f"class, or correct the class in the reference files. {FIX}"
        )


def target_class(gazetteer, target_id: str) -> str | None:
    """The location_class a reading of this gazetteer id has; None when the id is unknown."""
    places = gazetteer.places
    found = places.loc[places["place_id"] == target_id, "location_class"]
    if len(found):
        return str(found.iloc[0])
    if (gazetteer.streets["street_id"] == target_id).any():
        return STREET_CLASS
    if (gazetteer.localities["locality_id"] == target_id).any():
        return LOCALITY_CLASS
    return None


def normalise_class(values: pd.Series) -> pd.Series:
    """Class names as written by people: case, surrounding blanks, spaces or hyphens for '_'."""
    return (
        values.astype("string").str.strip().str.lower()
        .str.replace(r"[\s\-]+", "_", regex=True)
    )


def cleaned_forms(texts: pd.Series) -> pd.Series:
    """The words a text is matched on (transforms/location_text.py), '' when there are none."""
    from transforms.location_text import clean_location_text

    cleaned = clean_location_text(texts.astype("string")).fillna("")
    return cleaned.astype(str).str.split().str.join(" ").fillna("")


def _fail_where(path: Path, bad: pd.Series, column: str, problem: str) -> None:
    bad = bad.fillna(False).astype(bool)
    if bad.any():
        row = int(bad.index[bad.to_numpy()][0])
        count = int(bad.sum())
        more = f" ({count} rows like this)" if count > 1 else ""
        raise AliasError(f"{path}: row {row}, column '{column}': {problem}{more}. {FIX}")
