"""Generative: whatever the count, what is published is safe under the policy."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from anonymiser.disclosure import (
    DEFAULT_RULE,
    Rule,
    can_publish_count,
    can_publish_derived,
    disclose,
    disclose_change,
    disclose_counts,
)

counts = st.integers(min_value=0, max_value=10**12)
rules = st.builds(
    Rule,
    suppress_up_to=st.integers(min_value=0, max_value=50),
    rounding_base=st.integers(min_value=1, max_value=50),
)


@given(counts)
def test_default_never_publishes_1_to_7_and_always_a_multiple_of_5(n):
    published = disclose(n, DEFAULT_RULE)
    if published == DEFAULT_RULE.suppressed_symbol:
        assert 1 <= n
        return
    assert isinstance(published, int)
    assert published == 0 or published >= 8
    assert published % 5 == 0


@given(counts, rules)
def test_published_count_always_passes_the_check(n, rule):
    assert can_publish_count(disclose(n, rule), rule)


@given(counts, rules)
def test_published_count_is_within_half_a_base(n, rule):
    published = disclose(n, rule)
    if published != rule.suppressed_symbol:
        assert abs(published - n) <= rule.rounding_base / 2
    assert (published == 0) == (n == 0)


@given(st.lists(counts, max_size=30), rules)
def test_vectorised_matches_scalar(values, rule):
    out = disclose_counts(pd.Series(values, dtype="int64"), rule)
    assert out.tolist() == [disclose(v, rule) for v in values]


@given(counts, counts, rules)
def test_change_of_published_counts_is_publishable(a, b, rule):
    change = disclose_change(disclose(a, rule), disclose(b, rule), rule)
    assert can_publish_derived(change, rule)
