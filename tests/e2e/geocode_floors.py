"""The floors the geocoder must hold on every scored set (issue 10): no home is ever a place or
a point, homes are found, places are right and found."""

from __future__ import annotations

HOME_RECALL = 0.995
PLACE_PRECISION = 0.98
PLACE_RECALL = 0.95


def assert_floors(scores: dict) -> None:
    summary = {k: scores[k] for k in ("texts", "private_given_place", "private_given_point",
                                      "private_dwelling_recall", "place_precision",
                                      "place_recall")}
    assert scores["private_given_place"] == 0, summary
    assert scores["private_given_point"] == 0, summary
    assert scores["private_dwelling_recall"] >= HOME_RECALL, summary
    assert scores["place_precision"] >= PLACE_PRECISION, summary
    assert scores["place_recall"] >= PLACE_RECALL, summary
