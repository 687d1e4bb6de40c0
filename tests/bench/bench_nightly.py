"""Benchmark: read, validate and depersonalise a 1,000,000-row synthetic export.

Prints seconds and rows per second for each stage. Not part of `make test`: run `make bench`
(or `python tests/bench/bench_nightly.py --rows N`). The target is validation plus
depersonalisation within 6 s on a 2-core machine; the GX report is timed separately.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from anonymiser.depersonalise import depersonalise
from anonymiser.keys import PseudonymKey
from istv.synth import write_benchmark_csv
from transforms.ingest import read_export
from transforms.mapping import Mapping
from transforms.parse import TIMEZONE
from transforms.rules import Window
from transforms.validate import validate


def timed(label: str, rows: int, work):
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {rows / seconds:>12,.0f} rows/s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--gx", action="store_true", help="also time the GX report")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="istv-bench-") as scratch:
        path = Path(scratch) / "ed_export.csv"
        write_benchmark_csv(path, rows=args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB of CSV")
        window = Window(latest=pd.Timestamp.now(tz=TIMEZONE))
        key = PseudonymKey(b"bench-key-" + b"0" * 32)

        extract, read_s = timed(
            "read CSV (all columns as text)", args.rows, lambda: read_export(path)
        )
        result, validate_s = timed(
            "scope + rules (validate)",
            args.rows,
            lambda: validate(extract, Mapping(), window, path.name),
        )
        table, depersonalise_s = timed(
            "depersonalise (in-scope rows)",
            args.rows,
            lambda: depersonalise(result.accepted, result.parsed, key),
        )
        print(
            f"{'validate + depersonalise':<34} {validate_s + depersonalise_s:7.2f} s  "
            f"{args.rows / (validate_s + depersonalise_s):>12,.0f} rows/s  (target 6 s)"
        )
        print(
            f"{'read + validate + depersonalise':<34} "
            f"{read_s + validate_s + depersonalise_s:7.2f} s"
        )
        print(f"counts: {result.counts}; restricted rows: {table.num_rows}")
        if args.gx:
            from istv.data_docs import run_expectations
            from schemas import load_contract

            names = load_contract().names
            frame = result.accepted[names]
            timed(
                "GX report (accepted rows)",
                len(frame),
                lambda: run_expectations(frame, "2026-01-01", Path(scratch) / "reports"),
            )


if __name__ == "__main__":
    main()
