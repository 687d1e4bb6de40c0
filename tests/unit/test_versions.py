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


def test_the_reason_names_the_nights_whose_own_records_changed_never_how_many():
    after = [entry("hotspots.csv", "A", product="hotspots"), *BEFORE[1:]]
    reason = change_reason("v1", BEFORE, after, ["2026-10-12", "2026-10-14"])
    assert reason == "since v1: late or corrected records for 2026-10-12 and 2026-10-14"
    assert change_reason("v3", BEFORE, after, ["2026-10-12"]) == (
        "since v3: late or corrected records for 2026-10-12"
    )


def test_a_new_policy_is_named():
    reason = change_reason("v1", BEFORE, BEFORE, [], "disclosure policy 1 -> 2")
    assert reason == "since v1: disclosure policy 1 -> 2"


def test_what_a_version_was_built_from_compares_own_records_not_the_ledger_mark(tmp_path):
    from istv.versions import BuiltFrom, built_from, record_built_from

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    v1 = BuiltFrom({"2026-10-12": "a", "2026-10-14": "b"}, ("trend",), ("trend.csv",), "1", 7)
    assert built_from(url, "p", "2026-W42", "v1") is None  # a version from before the record
    record_built_from(url, "p", "2026-W42", "v1", v1)
    stored = built_from(url, "p", "2026-W42", "v1")
    assert stored == v1
    rerun = BuiltFrom(dict(v1.nights), v1.products, v1.files, "1", 9)
    assert stored.same_publication(rerun)  # a re-run with the same records: unchanged
    nights = {"2026-10-12": "a", "2026-10-14": "B", "2026-10-15": "c"}
    late = BuiltFrom(nights, v1.products, v1.files, "1", 9)
    assert not stored.same_publication(late)
    assert stored.changed_nights(late) == ["2026-10-14", "2026-10-15"]
    record_built_from(url, "p", "2026-W42", "v1", rerun)  # replaced, not duplicated
    assert built_from(url, "p", "2026-W42", "v1").ledger_mark == 9


def test_a_new_format_of_the_same_products_is_named_as_files():
    after = [*BEFORE, entry("trend.parquet", "p", product="trend")]
    assert change_reason("v1", BEFORE, after, []) == "since v1: files added: trend.parquet"
