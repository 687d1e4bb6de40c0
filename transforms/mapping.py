"""Map a trust's own export columns and date formats onto the input contract.

A mapping is a small YAML file the data team writes once (see schemas/mappings/example.yaml):

    columns:                        # contract column: export column, or a list joined by a space
      attendance_id: AttendanceNo
      arrival_datetime: [ArrivalDate, ArrivalTime]
    constants:                      # contract column: one value for every row
      site_code: RXX01
    formats:                        # contract column: strftime format of the mapped text
      arrival_datetime: "%d/%m/%Y %H:%M"

Without a mapping, export columns are matched to contract names ignoring case and spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from schemas import Contract, load_contract
from transforms.ingest import ROW_COLUMN


class MappingError(Exception):
    """The mapping and the export do not fit together; says which column and what to do."""


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    source: str = "(no mapping file)"

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        unknown = set(raw) - {"columns", "constants", "formats"}
        if unknown:
            raise MappingError(
                f"{path}: unknown sections {sorted(unknown)}; "
                "a mapping has only columns, constants and formats"
            )
        contract = load_contract()
        for section in ("columns", "constants", "formats"):
            for name in raw.get(section) or {}:
                if name not in contract.names:
                    raise MappingError(
                        f"{path}: '{name}' under {section} is not a contract column; "
                        f"use one of {contract.names}"
                    )
        columns = {
            name: [source] if isinstance(source, str) else [str(s) for s in source]
            for name, source in (raw.get("columns") or {}).items()
        }
        return cls(
            columns=columns,
            constants={k: str(v) for k, v in (raw.get("constants") or {}).items()},
            formats={k: str(v) for k, v in (raw.get("formats") or {}).items()},
            source=str(path),
        )


def to_contract(
    table: pa.Table, mapping: Mapping, origin: str, contract: Contract | None = None
) -> pa.Table:
    """Return `_row` plus every contract column, in contract order, as strings.

    Optional columns the export lacks become nulls; a missing required column is a MappingError
    naming the contract column and the mapped name, never the export's own header values.
    """
    contract = contract or load_contract()
    by_key = {_key(name): name for name in table.column_names}
    columns: dict[str, pa.ChunkedArray] = {ROW_COLUMN: table[ROW_COLUMN]}
    for item in contract.fields:
        if item.name in mapping.constants:
            columns[item.name] = pa.chunked_array(
                [pa.array([mapping.constants[item.name]] * table.num_rows, pa.string())]
            )
            continue
        sources = mapping.columns.get(item.name, [item.name])
        found = [by_key.get(_key(source)) for source in sources]
        if all(found):
            columns[item.name] = _join([table[name] for name in found])
        elif item.name in mapping.columns or item.required:
            missing = [s for s, f in zip(sources, found, strict=True) if f is None]
            # The export's own header is not quoted: in a file without a header row it is a
            # patient's row, and this message reaches task logs.
            raise MappingError(
                f"{origin}: column {missing} for '{item.name}' not found among the export's "
                f"{table.num_columns - 1} columns (check its first row is the header). "
                f"Map it in the mapping file ({mapping.source}) under columns: or constants:."
            )
        else:
            columns[item.name] = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    return pa.table(columns)


def _join(parts: list[pa.ChunkedArray]) -> pa.ChunkedArray:
    """Join split columns (a date and a time) with a space; blanks count as missing."""
    cleaned = [pc.if_else(pc.equal(pc.utf8_trim_whitespace(p), ""), None, p) for p in parts]
    if len(cleaned) == 1:
        return cleaned[0]
    # "skip" drops all-null rows (not length-preserving in pyarrow), so replace and trim
    joined = pc.utf8_trim_whitespace(
        pc.binary_join_element_wise(*cleaned, " ", null_handling="replace", null_replacement="")
    )
    return pc.if_else(pc.equal(joined, ""), None, joined)


def _key(name: str) -> str:
    return "".join(name.lower().split()).replace("_", "")
