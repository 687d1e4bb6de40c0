"""Disclosure control: boundary values of the default rule, overrides, policy errors, changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anonymiser.disclosure import (
    DEFAULT_RULE,
    RECORD_K,
    ROUNDING_BASE,
    SUPPRESS_UP_TO,
    SUPPRESSED,
    DisclosureError,
    Policy,
    Rule,
    can_publish_count,
    can_publish_derived,
    check_count,
    check_derived,
    disclose,
    disclose_change,
    disclose_changes,
    disclose_counts,
    load_policy,
    policy_from_mapping,
)

BOUNDARIES = [
    (0, 0),
    (1, "*"),
    (7, "*"),
    (8, 10),
    (12, 10),
    (13, 15),
    (17, 15),
    (18, 20),
    (22, 20),
    (23, 25),
    (100, 100),
    (102, 100),
    (103, 105),
]


def test_default_constants_follow_nhs_digital_and_opensafely():
    assert (SUPPRESS_UP_TO, ROUNDING_BASE, SUPPRESSED) == (7, 5, "*")
    assert DEFAULT_RULE == Rule(7, 5, "*")


@pytest.mark.parametrize(("count", "published"), BOUNDARIES)
def test_disclose_boundaries(count, published):
    assert disclose(count, DEFAULT_RULE) == published


def test_disclose_accepts_numpy_integers():
    assert disclose(np.int64(13)) == 15
    assert type(disclose(np.int64(13))) is int


@pytest.mark.parametrize("bad", [-1, -8, 2.0, 7.5, "8", None, True, float("nan")])
def test_disclose_fails_closed_on_negative_or_non_integer(bad):
    with pytest.raises(DisclosureError):
        disclose(bad)


def test_halves_round_up_for_an_even_base():
    rule = Rule(suppress_up_to=7, rounding_base=10)
    assert [disclose(n, rule) for n in (14, 15, 16, 24, 25)] == [10, 20, 20, 20, 30]


def test_a_count_that_would_round_into_the_suppressed_range_is_suppressed():
    rule = Rule(suppress_up_to=10, rounding_base=10)
    assert [disclose(n, rule) for n in (10, 11, 14, 15)] == ["*", "*", "*", 20]


def test_disclose_counts_matches_disclose_and_keeps_index():
    counts = [n for n, _ in BOUNDARIES]
    series = pd.Series(counts, index=list("abcdefghijklm"), name="assaults")
    out = disclose_counts(series, DEFAULT_RULE)
    assert out.dtype == object
    assert out.tolist() == [p for _, p in BOUNDARIES]
    assert list(out.index) == list(series.index) and out.name == "assaults"
    assert all(type(v) in (int, str) for v in out)


def test_disclose_counts_nullable_and_object_ints():
    assert disclose_counts(pd.Series([0, 8], dtype="Int64")).tolist() == [0, 10]
    assert disclose_counts(pd.Series([3, 13], dtype=object)).tolist() == ["*", 15]


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1.0, 8.0]),
        pd.Series([1, None], dtype="Int64"),
        pd.Series([1, -3]),
        pd.Series([1, "x"], dtype=object),
        pd.Series([True, False]),
    ],
)
def test_disclose_counts_fails_closed(series):
    with pytest.raises(DisclosureError):
        disclose_counts(series)


def test_override_per_product():
    trend = Rule(suppress_up_to=10, rounding_base=10)
    policy = Policy(version="t", default=DEFAULT_RULE, overrides={"trend": trend})
    assert policy.rule_for("trend") is trend
    assert policy.rule_for("hotspots") == DEFAULT_RULE
    assert disclose(16, policy.rule_for("trend")) == 20
    assert disclose(16, policy.rule_for("hotspots")) == 15
    assert can_publish_count(15, policy.rule_for("hotspots"))
    assert not can_publish_count(15, policy.rule_for("trend"))
    assert not can_publish_count(10, policy.rule_for("trend"))


# --- checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["*", 0, "0", 10, "10", 15, "105", np.int64(20)])
def test_publishable_counts(value):
    check_count(value, DEFAULT_RULE)
    assert can_publish_count(value, DEFAULT_RULE)


@pytest.mark.parametrize(
    "value",
    [
        1,
        "3",
        7,
        "7",
        12,
        "12",
        8,
        "",
        " ",
        None,
        10.0,
        "10.0",
        "1e1",
        " 10",
        "010",
        "-5",
        "+10",
        "**",
        True,
        float("nan"),
    ],
)
def test_unpublishable_counts(value):
    assert not can_publish_count(value, DEFAULT_RULE)
    with pytest.raises(DisclosureError):
        check_count(value, DEFAULT_RULE)


def test_check_count_message_names_the_problem():
    with pytest.raises(DisclosureError, match=r"1\.\.7"):
        check_count("3")
    with pytest.raises(DisclosureError, match="multiple of 5"):
        check_count(12)
    with pytest.raises(DisclosureError, match="blank"):
        check_count("")


@pytest.mark.parametrize("value", ["*", 0, "0", -5, "-5", 5, "5", "-100", 35])
def test_publishable_derived(value):
    check_derived(value, DEFAULT_RULE)
    assert can_publish_derived(value, DEFAULT_RULE)


@pytest.mark.parametrize("value", ["3", 3, -3, "-0", "", None, "5.0", 5.0, "'-5", "=1+4"])
def test_unpublishable_derived(value):
    assert not can_publish_derived(value, DEFAULT_RULE)


# --- changes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "change"),
    [
        (15, 10, 5),
        (10, 15, -5),
        ("15", "10", 5),
        (0, 20, -20),
        ("*", 10, "*"),
        (10, "*", "*"),
        ("*", "*", "*"),
        (0, 0, 0),
    ],
)
def test_disclose_change(current, previous, change):
    assert disclose_change(current, previous, DEFAULT_RULE) == change
    assert can_publish_derived(change, DEFAULT_RULE)


@pytest.mark.parametrize(("current", "previous"), [(13, 10), (10, 3), (10, None)])
def test_disclose_change_refuses_unpublished_inputs(current, previous):
    with pytest.raises(DisclosureError):
        disclose_change(current, previous)


def test_disclose_changes_vectorised():
    cur = pd.Series([15, "*", 0, 20], name="assaults")
    prev = pd.Series([10, 10, "*", 0])
    assert disclose_changes(cur, prev).tolist() == [5, "*", "*", 20]
    with pytest.raises(DisclosureError):
        disclose_changes(pd.Series([13]), pd.Series([10]))


# --- the policy file -------------------------------------------------------------------------


def test_repo_policy_loads_with_the_default_rule():
    policy = load_policy()
    assert policy.default == DEFAULT_RULE
    assert policy.version


def test_record_k_is_one_more_than_the_threshold_and_only_stricter():
    assert load_policy().record_k == RECORD_K == SUPPRESS_UP_TO + 1 == 8
    base = {"version": "x", "default": DEFAULT_RULE.as_dict()}
    assert policy_from_mapping(base).record_k == 8  # manifests from before record_k
    assert policy_from_mapping({**base, "record_k": 12}).record_k == 12
    raised = {**base, "default": {**DEFAULT_RULE.as_dict(), "suppress_up_to": 10}}
    assert policy_from_mapping(raised).record_k == 11
    for bad, least in [(7, 8), (True, 8), ("9", 8), (None, 8)]:
        with pytest.raises(DisclosureError, match=f"record_k must be an integer >= {least}"):
            policy_from_mapping({**base, "record_k": bad})
    with pytest.raises(DisclosureError, match="record_k must be an integer >= 11"):
        policy_from_mapping({**raised, "record_k": 10})


def test_partial_override_inherits_from_default(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        'version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 5, suppressed_symbol: "*"}\n'
        "overrides:\n  trend: {suppress_up_to: 10, rounding_base: 10}\n"
    )
    policy = load_policy(path)
    assert policy.rule_for("trend") == Rule(10, 10, "*")
    assert policy_from_mapping(policy.as_dict()) == policy


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            'version: "x"\ndefault: {suppress_up_to: -1, rounding_base: 5, suppressed_symbol: "*"}',
            "suppress_up_to",
        ),
        (
            'version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 0, suppressed_symbol: "*"}',
            "rounding_base",
        ),
        (
            'version: "x"\n'
            'default: {suppress_up_to: 7.5, rounding_base: 5, suppressed_symbol: "*"}',
            "suppress_up_to",
        ),
        ('version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 5}', "suppressed_symbol"),
        (
            'version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 5, suppressed_symbol: "5"}',
            "suppressed_symbol",
        ),
        ('default: {suppress_up_to: 7, rounding_base: 5, suppressed_symbol: "*"}', "version"),
        ('version: "x"\n', "default"),
        (
            'version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 5, suppressed_symbol: "*"}\n'
            "overrides:\n  trend: {rounding_base: true}",
            "overrides.trend",
        ),
        (
            'version: "x"\ndefault: {suppress_up_to: 7, rounding_base: 5, suppressed_symbol: "*"}\n'
            "overrides:\n  trend: {threshold: 10}",
            "threshold",
        ),
        ("version: [unclosed", "YAML"),
    ],
)
def test_load_policy_errors_name_file_and_key(tmp_path: Path, text, key):
    path = tmp_path / "bad_policy.yaml"
    path.write_text(text)
    with pytest.raises(DisclosureError) as info:
        load_policy(path)
    assert "bad_policy.yaml" in str(info.value)
    assert key in str(info.value)


def test_load_policy_missing_file(tmp_path: Path):
    with pytest.raises(DisclosureError, match="nope.yaml"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"suppress_up_to": -1},
        {"rounding_base": 0},
        {"suppressed_symbol": ""},
        {"suppress_up_to": 7.0},
    ],
)
def test_rule_validates_itself(kwargs):
    with pytest.raises(DisclosureError):
        Rule(**kwargs)


@pytest.mark.parametrize(
    "rule",
    [
        {"suppress_up_to": 0, "rounding_base": 1, "suppressed_symbol": "*"},
        {"suppress_up_to": 7, "rounding_base": 2, "suppressed_symbol": "*"},
        {"suppress_up_to": 5, "rounding_base": 5, "suppressed_symbol": "*"},
    ],
)
def test_a_policy_weaker_than_the_minimum_is_refused(rule):
    from anonymiser.disclosure import policy_from_mapping

    with pytest.raises(DisclosureError, match="weaker than the minimum"):
        policy_from_mapping({"version": "weak", "default": rule})
    with pytest.raises(DisclosureError, match="weaker than the minimum"):
        policy_from_mapping(
            {
                "version": "weak",
                "overrides": {"trend": rule},
                "default": {"suppress_up_to": 7, "rounding_base": 5, "suppressed_symbol": "*"},
            }
        )


def test_a_blank_count_stays_blank_and_never_becomes_a_number():
    import pandas as pd

    from anonymiser.disclosure import disclose_changes, disclose_counts

    values = pd.Series([12, pd.NA, 3, 0], dtype="Int64")
    with pytest.raises(DisclosureError, match="blank"):
        disclose_counts(values)  # fail closed unless the column may be blank
    shown = disclose_counts(values, blank_ok=True)
    assert shown.tolist() == [10, None, "*", 0]
    objects = disclose_counts(pd.Series([None, 40], dtype=object), blank_ok=True)
    assert objects.tolist() == [None, 40]
    change = disclose_changes(
        pd.Series([10, 10, "*"], dtype=object), shown.iloc[:3].reset_index(drop=True),
        blank_ok=True,
    )  # fmt: skip
    assert change.tolist() == [0, None, "*"]
