"""Why a new version is published: the reason printed in its manifest and briefing."""

from __future__ import annotations

from exports.publish import change_reason


def entry(path: str, digest: str, **extra) -> dict:
    return {"path": path, "sha256": digest, **extra}


BEFORE = [
    entry("hotspots.csv", "a", product="hotspots"),
    entry("trend.csv", "b", product="trend"),
    entry("p_2026-10.xlsx", "c", products=["hotspots", "trend"]),
]


def test_changed_cells_are_late_or_corrected_records():
    after = [BEFORE[0], entry("trend.csv", "B", product="trend"), entry("p_2026-10.xlsx", "C",
             products=["hotspots", "trend"])]  # fmt: skip
    assert (
        change_reason("v1", BEFORE, after) == "since v1: data changed (late or corrected records)"
    )


def test_a_new_entitlement_is_named_and_not_called_late_data():
    after = [
        *BEFORE[:2],
        entry("method_trend.csv", "d", product="method_trend"),
        entry("p_2026-10.xlsx", "E", products=["hotspots", "trend", "method_trend"]),
    ]
    assert change_reason("v1", BEFORE, after) == "since v1: products added: method_trend"


def test_a_dropped_product_with_changed_data_names_both():
    after = [entry("hotspots.csv", "A", product="hotspots"),
             entry("p_2026-10.xlsx", "F", products=["hotspots"])]  # fmt: skip
    assert change_reason("v2", BEFORE, after) == (
        "since v2: products dropped: trend; data changed (late or corrected records)"
    )
