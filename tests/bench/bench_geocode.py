"""Benchmark: distinct location strings read per second by the geocoder.

Not part of `make test`: run `python tests/bench/bench_geocode.py [--strings N]`. The target
is at least 10,000 distinct strings per second on a 2-core machine. Strings come from the
synthetic town's text generator, with extra typos and noise words so that most are distinct.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from istv.synth import generate
from istv.synth.gazetteer import build_gazetteer
from istv.synth.locations import text_pool, typo
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder
from transforms.location_text import clean_location_text

NOISE = ["", " pm", " am", " 2am", " approx", " - punched", " (alleged)", " x2", " nightime"]


def distinct_texts(count: int, seed: int = 5) -> pd.Series:
    rng = np.random.default_rng(seed)
    pool = [t.text for t in text_pool(build_gazetteer(2026), seed, count)]
    noisy = {typo(rng, text) + NOISE[int(rng.integers(len(NOISE)))] for text in pool}
    noisy |= set(pool)
    return pd.Series(sorted(noisy)[:count], dtype="string")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strings", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="istv-bench-") as scratch:
        generate(Path(scratch), dt.date(2026, 10, 19), 1, seed=2026)
        start = time.perf_counter()
        geocoder = Geocoder(load_gazetteer(Path(scratch) / "reference"))
        print(f"gazetteer load + index: {time.perf_counter() - start:.2f} s")
    texts = distinct_texts(args.strings)
    cleaned = clean_location_text(texts).nunique()
    print(
        f"{len(texts):,} distinct raw strings, {cleaned:,} distinct after cleaning (the cache key)"
    )
    start = time.perf_counter()
    located = geocoder.geocode(texts)
    seconds = time.perf_counter() - start
    print(
        f"{len(texts):,} distinct strings in {seconds:.2f} s: "
        f"{len(texts) / seconds:,.0f} strings/s (target 10,000)"
    )
    print(located["location_class"].value_counts().to_string())


if __name__ == "__main__":
    main()
