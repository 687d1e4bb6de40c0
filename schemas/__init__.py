"""The contracts as data: the input contract (contract.yaml) and code lists (codelists/*.csv).

Every rule that checks or protects a field reads it from here, so a trust changes data, not code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SCHEMAS_DIR = Path(__file__).resolve().parent
CODELISTS_DIR = SCHEMAS_DIR / "codelists"


@dataclass(frozen=True)
class Field:
    """One canonical column of the input contract."""

    name: str
    kind: str
    required: bool = False
    personal: bool = False
    pattern: str | None = None
    codelist: str | None = None
    max_length: int | None = None
    separator: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    version: int
    timezone: str
    fields: tuple[Field, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def personal(self) -> list[str]:
        """Columns whose values identify a person, or may."""
        return [f.name for f in self.fields if f.personal]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{name!r} is not a column of the input contract")


@cache
def load_contract(path: Path | None = None) -> Contract:
    """Read the input contract (schemas/contract.yaml unless a path is given)."""
    raw = yaml.safe_load((path or SCHEMAS_DIR / "contract.yaml").read_text(encoding="utf-8"))
    fields = tuple(Field(name=name, **spec) for name, spec in raw["fields"].items())
    return Contract(version=raw["version"], timezone=raw["timezone"], fields=fields)


@cache
def load_codelist(name: str, directory: Path | None = None) -> tuple[dict[str, str], ...]:
    """Rows of codelists/NAME.csv as dicts; every code list carries a provenance column."""
    path = (directory or CODELISTS_DIR) / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = tuple(csv.DictReader(handle))
    if rows and "provenance" not in rows[0]:
        raise ValueError(
            f"{path}: code lists need a 'provenance' column saying where codes came from"
        )
    return rows


@cache
def restricted_schema(geocoded: bool = True):
    """The Arrow schema of restricted/ records, read from restricted.yaml.

    `geocoded=False` leaves out the columns the geocode task adds (marked `geocode: true`).
    """
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int8": pa.int8(),
        "float": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz=load_contract().timezone),
    }
    raw = yaml.safe_load((SCHEMAS_DIR / "restricted.yaml").read_text(encoding="utf-8"))
    return pa.schema(
        [
            (name, types[spec["type"]])
            for name, spec in raw["columns"].items()
            if geocoded or not spec.get("geocode", False)
        ]
    )


@cache
def load_products() -> dict[str, dict]:
    """schemas/products.yaml: product -> description, keys, counts and derived columns."""
    raw = yaml.safe_load((SCHEMAS_DIR / "products.yaml").read_text(encoding="utf-8"))
    return raw["products"]


def codes(name: str, **where: str) -> list[str]:
    """The codes of a code list, optionally only rows whose columns equal the given values."""
    return [
        row["code"]
        for row in load_codelist(name)
        if all(row.get(column) == value for column, value in where.items())
    ]
