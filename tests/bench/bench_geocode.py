"""Benchmark: distinct location strings read per second by the geocoder.

Not part of `make test`: run `python tests/bench/bench_geocode.py [--strings N]`. The target
is at least 10,000 distinct strings per second on a 2-core machine. Strings come from the
synthetic town's text generator, with extra typos and noise words so that most are distinct.

With `--county` the gazetteer is county-sized, as a trust's is: the demo town plus
`istv.synth.county.write_county_reference` (40 towns, ~24,000 Open Names roads and a national
postcode directory of `--postcodes` rows, 1,700,000 by default). The target there is at least
50,000 distinct strings per second on 2 cores.
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
from istv.synth.county import write_county_reference
from istv.synth.gazetteer import build_gazetteer
from istv.synth.locations import text_pool, typo
from transforms.gazetteer import load_gazetteer
from transforms.geocode import Geocoder
from transforms.location_text import clean_location_text

NOISE = ["", " pm", " am", " 2am", " approx", " - punched", " (alleged)", " x2", " nightime"]
TOWN_TARGET = 10_000
COUNTY_TARGET = 50_000
COUNTY_POSTCODES = 1_700_000


def distinct_texts(count: int, seed: int = 5) -> pd.Series:
    rng = np.random.default_rng(seed)
    pool = [t.text for t in text_pool(build_gazetteer(2026), seed, count)]
    noisy = {typo(rng, text) + NOISE[int(rng.integers(len(NOISE)))] for text in pool}
    noisy |= set(pool)
    return pd.Series(sorted(noisy)[:count], dtype="string")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strings", type=int, default=20_000)
    parser.add_argument("--county", action="store_true",
                        help="a county-sized gazetteer (demo town + Open Names + national NSPL)")
    parser.add_argument("--postcodes", type=int, default=None,
                        help=f"postcode rows with --county (default {COUNTY_POSTCODES:,})")
    args = parser.parse_args()
    if args.postcodes is not None and not args.county:
        parser.error("--postcodes needs --county")
    target = COUNTY_TARGET if args.county else TOWN_TARGET
    with tempfile.TemporaryDirectory(prefix="istv-bench-") as scratch:
        reference = Path(scratch) / "reference"
        generate(Path(scratch), dt.date(2026, 10, 19), 1, seed=2026)
        if args.county:
            start = time.perf_counter()
            county = write_county_reference(
                reference, seed=2026, postcodes=args.postcodes or COUNTY_POSTCODES)
            print(f"county reference written: {len(county.towns)} towns, {county.roads:,} roads, "
                  f"{county.postcodes:,} postcode rows in {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        gazetteer = load_gazetteer(reference)
        loaded = time.perf_counter() - start
        geocoder = Geocoder(gazetteer)
        indexed = time.perf_counter() - start
        print(
            f"gazetteer: {len(gazetteer.places):,} places, {len(gazetteer.streets):,} streets, "
            f"{len(gazetteer.localities):,} localities, {len(gazetteer.postcodes):,} postcodes"
        )
        print(f"gazetteer load: {loaded:.2f} s; load + index: {indexed:.2f} s")
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
        f"{len(texts) / seconds:,.0f} strings/s (target {target:,})"
    )
    print(located["location_class"].value_counts().to_string())


if __name__ == "__main__":
    main()
