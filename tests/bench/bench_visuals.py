"""Benchmark: the charts, map and briefing of one bundle (what publishing adds per partner).

Not part of `make test`: run `PYTHONPATH=. .venv/bin/python tests/bench/bench_visuals.py`.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from anonymiser.disclosure import load_policy
from exports.briefing import BriefingContext
from exports.maps import load_background
from exports.visuals import MapInputs, write_visuals
from istv.synth import generate
from tests.visual_tables import disclosed_tables
from transforms.gazetteer import load_gazetteer

RUNS = 3


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-visuals-"))
    generate(root, dt.date(2026, 10, 1), 1, rows_per_night=50, seed=3)
    gazetteer = load_gazetteer(root / "reference")
    area = set(gazetteer.lsoas["lsoa21cd"])
    background = load_background(root / "reference", area, gazetteer)
    context = BriefingContext(
        "Bench partner",
        "2026-10",
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
        load_policy(),
        "v1",
        "first publication",
        {},
        "istv-pipeline bench",
    )
    tables = disclosed_tables()
    times = []
    for run in range(RUNS):
        start = time.perf_counter()
        files = write_visuals(
            tables, context, root / f"out{run}", lambda: MapInputs(background, None, None)
        )
        times.append(time.perf_counter() - start)
    print(f"{len(files)} visual files for one bundle: best of {RUNS} {min(times):.2f} s")


if __name__ == "__main__":
    main()
