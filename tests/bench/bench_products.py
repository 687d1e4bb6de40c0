"""Benchmark: building every partner product from 100,000 restricted records.

Not part of `make test`: run `PYTHONPATH=. .venv/bin/python tests/bench/bench_products.py`.
"""

from __future__ import annotations

import time

from exports.products import PRODUCT_NAMES, build_products
from istv.periods import parse_period
from tests.unit.test_products import AREA, synthetic


def main() -> None:
    quarter = parse_period("2026-Q4")
    records = synthetic(100_000)
    build_products(records, AREA, quarter, records, records, [quarter], list(PRODUCT_NAMES))
    start = time.perf_counter()
    build_products(records, AREA, quarter, records, records, quarter.last(12),
                   list(PRODUCT_NAMES))
    print(f"100,000 records, every product: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
