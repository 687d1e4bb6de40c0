"""Disclosure control for every published number: suppress small counts, round the rest.

A pure module (only `load_policy` touches the disk). The default rule follows NHS Digital's
HES/ECDS sub-national rule and OpenSAFELY: counts 1-7 are shown as "*", every other count is
rounded to the nearest 5 (halves up), and zero is shown as 0. Suppressing up to 7 *before*
rounding to 5 matters: suppressing only up to 5 would let a published 5 be read as 6 or 7.

Checks follow OpenSAFELY airlock: `check_*` functions raise `DisclosureError` (the message says
what is wrong with the value; the caller adds where it is) and `can_*` twins return a bool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from schemas import SCHEMAS_DIR

DEFAULT_POLICY_PATH = SCHEMAS_DIR / "disclosure_policy.yaml"

# NHS Digital / OpenSAFELY: the largest count that is never shown.
SUPPRESS_UP_TO = 7
# Every shown count is a multiple of this, so a change of one between runs is not visible.
ROUNDING_BASE = 5
# What a suppressed cell shows instead of its count.
SUPPRESSED = "*"
# What a cell withheld by the release gate shows (exports/release_gate.py): secondary
# suppression, so that another cell cannot be worked out from it. It may hold any count.
WITHHELD = "x"

# Record-level rows without a data sharing agreement are k-anonymous with at least this k: one
# more than the suppression threshold, so any count formed from the rows is 0 or >= 8, never a
# value the tables suppress (exports/coarse_records.py).
RECORD_K = SUPPRESS_UP_TO + 1

RULE_KEYS = ("suppress_up_to", "rounding_base", "suppressed_symbol")

# A count as text: canonical decimal digits only (no sign, spaces, leading zeros or decimals).
_COUNT_TEXT = re.compile(r"0|[1-9][0-9]*")
# A derived value as text: the same, optionally negative ("-0" is not canonical).
_DERIVED_TEXT = re.compile(r"0|-?[1-9][0-9]*")

Value = int | str


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


class DisclosureError(ValueError):
    """A value would disclose, or cannot be shown to be safe. Always fail closed on it."""


@dataclass(frozen=True)
class Rule:
    """One product's rule: counts 1..suppress_up_to become the symbol, others are rounded."""

    suppress_up_to: int = SUPPRESS_UP_TO
    rounding_base: int = ROUNDING_BASE
    suppressed_symbol: str = SUPPRESSED

    def __post_init__(self) -> None:
        for name in ("suppress_up_to", "rounding_base"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise DisclosureError(f"{name} must be an integer >= 0, got {value!r}")
        if self.rounding_base < 1:
            raise DisclosureError(f"rounding_base must be >= 1, got {self.rounding_base!r}")
        symbol = self.suppressed_symbol
        if (
            not isinstance(symbol, str)
            or not symbol
            or symbol == WITHHELD
            or _DERIVED_TEXT.fullmatch(symbol)
        ):
            raise DisclosureError(
                f"suppressed_symbol must be a non-empty, non-numeric string other than "
                f"{WITHHELD!r} (the withheld symbol), got {symbol!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in RULE_KEYS}

    def at_least_as_strict_as(self, other: Rule) -> bool:
        """True when everything this rule publishes the other would also allow."""
        return (
            self.suppress_up_to >= other.suppress_up_to
            and self.rounding_base % other.rounding_base == 0
        )


DEFAULT_RULE = Rule()


# The release gate's least protection: of the values 1..7, how many a suppressed or derived
# count must still be able to take whatever a recipient combines (exports/release_gate.py).
PROTECTION = 5


@dataclass(frozen=True)
class Policy:
    """A versioned default rule plus per-product overrides (recorded in every manifest), and
    the release gate's settings: `protection` and `sharing` (groups of partner ids who may pool
    what they receive; None: all partners of the deployment together), and the k of the coarse
    record-level product."""

    version: str
    default: Rule = DEFAULT_RULE
    overrides: Mapping[str, Rule] = field(default_factory=dict)
    protection: int = PROTECTION
    sharing: tuple[frozenset[str], ...] | None = None

    def views(self, partners: list[str]) -> list[frozenset[str]]:
        """The groups of recipients the gate checks together (each alone is always checked)."""
        return [frozenset(partners)] if self.sharing is None else list(self.sharing)

    record_k: int = RECORD_K

    def rule_for(self, product: str) -> Rule:
        return self.overrides.get(product, self.default)

    def as_dict(self) -> dict[str, Any]:
        """The form a manifest records (and `policy_from_mapping` reads back)."""
        return {
            "version": self.version,
            "default": self.default.as_dict(),
            "overrides": {p: r.as_dict() for p, r in sorted(self.overrides.items())},
            "protection": self.protection,
            "sharing": "all" if self.sharing is None else [sorted(g) for g in self.sharing],
            "record_k": self.record_k,
        }


def _rule_from_mapping(raw: object, base: Rule | None, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise DisclosureError(f"{where}: expected a mapping of {', '.join(RULE_KEYS)}")
    unknown = sorted(set(map(str, raw)) - set(RULE_KEYS))
    if unknown:
        raise DisclosureError(f"{where}: unknown key(s) {', '.join(unknown)}")
    values = base.as_dict() if base is not None else {}
    missing = [k for k in RULE_KEYS if k not in raw and k not in values]
    if missing:
        raise DisclosureError(f"{where}: missing {', '.join(missing)}")
    values.update(raw)
    for key in ("suppress_up_to", "rounding_base"):
        value = values[key]
        if not _is_int(value) or value < 0:
            raise DisclosureError(f"{where}.{key}: must be an integer >= 0, got {value!r}")
    if values["rounding_base"] < 1:
        raise DisclosureError(f"{where}.rounding_base: must be >= 1, got {values['rounding_base']}")
    try:
        return Rule(**values)
    except DisclosureError as exc:
        raise DisclosureError(f"{where}: {exc}") from None


def policy_from_mapping(raw: object, source: str = "policy") -> Policy:
    """Build and validate a Policy from parsed YAML or a manifest's "policy" object.

    Overrides may be partial: missing keys come from the default rule. `record_k` must exceed
    the default rule's suppression threshold (and be at least RECORD_K), so no count formed
    from the rows is one the tables suppress; left out (manifests from before it) it is the
    least such value.
    """
    if not isinstance(raw, Mapping):
        raise DisclosureError(f"{source}: expected a mapping with version, default, overrides")
    if raw.get("version") in (None, ""):
        raise DisclosureError(f"{source}: missing key 'version'")
    if "default" not in raw:
        raise DisclosureError(f"{source}: missing key 'default'")
    default = _rule_from_mapping(raw["default"], None, f"{source}: default")
    overrides_raw = raw.get("overrides") or {}
    if not isinstance(overrides_raw, Mapping):
        raise DisclosureError(f"{source}: overrides must be a mapping of product -> rule")
    overrides = {
        str(product): _rule_from_mapping(rule, default, f"{source}: overrides.{product}")
        for product, rule in overrides_raw.items()
    }
    for where, rule in [
        ("default", default),
        *((f"overrides.{p}", r) for p, r in overrides.items()),
    ]:
        if not rule.at_least_as_strict_as(DEFAULT_RULE):
            raise DisclosureError(
                f"{source}: {where} is weaker than the minimum this software allows (counts "
                f"1-{SUPPRESS_UP_TO} suppressed, others rounded to a multiple of {ROUNDING_BASE}); "
                "a policy may only be made stricter"
            )
    least = max(RECORD_K, default.suppress_up_to + 1)
    record_k = raw.get("record_k", least)
    if not _is_int(record_k) or record_k < least:
        raise DisclosureError(
            f"{source}: record_k must be an integer >= {least} (one more than the default "
            f"suppression threshold, at least {RECORD_K}), got {record_k!r}; a policy may only "
            "be made stricter"
        )
    protection = raw.get("protection", PROTECTION)
    if not _is_int(protection) or not PROTECTION <= protection <= SUPPRESS_UP_TO:
        raise DisclosureError(
            f"{source}: protection must be an integer from {PROTECTION} to {SUPPRESS_UP_TO} "
            f"(how many of the values 1-{SUPPRESS_UP_TO} a count must keep), got {protection!r}"
        )
    return Policy(
        version=str(raw["version"]),
        default=default,
        overrides=overrides,
        record_k=int(record_k),
        protection=int(protection),
        sharing=_sharing(raw.get("sharing", "all"), source),
    )


def _sharing(raw: object, source: str) -> tuple[frozenset[str], ...] | None:
    """`all` (every partner may pool with every other: the safe default) or a list of groups
    of partner ids."""
    if raw == "all":
        return None
    if not isinstance(raw, list) or not all(
        isinstance(group, list) and group and all(isinstance(p, str) for p in group)
        for group in raw
    ):
        raise DisclosureError(
            f"{source}: sharing must be 'all' or a list of lists of partner ids, got {raw!r}"
        )
    return tuple(frozenset(group) for group in raw)


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate the policy file (default schemas/disclosure_policy.yaml)."""
    path = Path(path) if path is not None else DEFAULT_POLICY_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DisclosureError(f"{path}: cannot read the disclosure policy ({exc})") from exc
    except yaml.YAMLError as exc:
        raise DisclosureError(f"{path}: not valid YAML ({exc})") from exc
    return policy_from_mapping(raw, str(path))


# --- disclosing ------------------------------------------------------------------------------


def _round_half_up(n: int, base: int) -> int:
    """Nearest multiple of base, halves up, in integers (no float error for big counts)."""
    return (2 * n + base) // (2 * base) * base


def disclose(count: int, rule: Rule = DEFAULT_RULE) -> Value:
    """The published form of a true count: 0, the symbol, or a rounded count.

    A count whose rounded value would itself fall in 1..suppress_up_to (possible only when an
    override's base is large next to its threshold, e.g. 11 under {10, 10}) is suppressed too,
    so a published number never looks like a suppressed one.
    """
    if not _is_int(count):
        raise DisclosureError(f"a count must be an integer, got {type(count).__name__}")
    n = int(count)
    if n < 0:
        raise DisclosureError(f"a count cannot be negative, got {n}")
    if n == 0:
        return 0
    rounded = _round_half_up(n, rule.rounding_base)
    if n <= rule.suppress_up_to or rounded <= rule.suppress_up_to:
        return rule.suppressed_symbol
    return rounded


def disclose_counts(
    values: pd.Series, rule: Rule = DEFAULT_RULE, blank_ok: bool = False
) -> pd.Series:
    """`disclose` over a Series of true counts: object dtype of Python ints and the symbol.

    A blank (null) is "no data", not a count: refused unless `blank_ok`, and then kept as None,
    never turned into a number (fail closed: a missing count must not be published as 0).
    """
    if blank_ok:
        blank = values.isna().to_numpy(dtype=bool)
        out = pd.Series([None] * len(values), index=values.index, name=values.name, dtype=object)
        if (~blank).any():
            out[~blank] = disclose_counts(values[~blank], rule).to_numpy(dtype=object)
        return out
    if pd.api.types.is_object_dtype(values.dtype):
        if not all(_is_int(v) for v in values):
            raise DisclosureError("counts must all be integers (found a non-integer or blank)")
        array = np.asarray(values.tolist(), dtype=np.int64)
    elif pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        if values.isna().any():
            raise DisclosureError("counts must not be blank (found a missing value)")
        array = values.to_numpy(dtype=np.int64)
    else:
        raise DisclosureError(f"counts must have an integer dtype, got {values.dtype}")
    if (array < 0).any():
        raise DisclosureError("a count cannot be negative")
    base = rule.rounding_base
    rounded = (2 * array + base) // (2 * base) * base
    suppressed = (array > 0) & ((array <= rule.suppress_up_to) | (rounded <= rule.suppress_up_to))
    out = np.where(array == 0, 0, rounded).astype(object)
    out = np.array([int(v) for v in out], dtype=object)
    out[suppressed] = rule.suppressed_symbol
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def disclose_change(current: Value, previous: Value, rule: Rule = DEFAULT_RULE) -> Value:
    """Change between two PUBLISHED counts; the symbol when either side is suppressed.

    Computed from published values, never true ones, so the change reveals nothing the two
    published cells do not. Both inputs must pass `check_count` (a raw count is refused).
    """
    check_count(current, rule)
    check_count(previous, rule)
    if {rule.suppressed_symbol, WITHHELD} & {current, previous}:
        return rule.suppressed_symbol
    return _as_int(current) - _as_int(previous)


def disclose_changes(
    current: pd.Series, previous: pd.Series, rule: Rule = DEFAULT_RULE, blank_ok: bool = False
) -> pd.Series:
    """`disclose_change` element-wise over two aligned Series of published counts. With
    `blank_ok`, a change with a blank ("no data") side is blank (None), never a number."""
    if not current.index.equals(previous.index):
        raise DisclosureError("current and previous must have the same index")
    if blank_ok:
        blank = (current.isna() | previous.isna()).to_numpy(dtype=bool)
        out = pd.Series([None] * len(current), index=current.index, name=current.name, dtype=object)
        if (~blank).any():
            known = disclose_changes(current[~blank], previous[~blank], rule)
            out[~blank] = known.to_numpy(dtype=object)
        return out
    for series in (current, previous):
        bad = [v for v in series if not can_publish_count(v, rule)]
        if bad:
            raise DisclosureError(f"not a published count: {_show(bad[0])}")
    symbol = rule.suppressed_symbol
    cur = current.to_numpy(dtype=object)
    prev = previous.to_numpy(dtype=object)
    either = (cur == symbol) | (prev == symbol) | (cur == WITHHELD) | (prev == WITHHELD)
    out = np.empty(len(cur), dtype=object)
    out[either] = symbol
    keep = ~either
    out[keep] = [_as_int(a) - _as_int(b) for a, b in zip(cur[keep], prev[keep], strict=True)]
    return pd.Series(out, index=current.index, name=current.name, dtype=object)


# --- checking published values ---------------------------------------------------------------


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 20 else text[:19] + "…"


def _as_int(value: object) -> int:
    return int(value)  # type: ignore[call-overload]


def _parse(value: object, pattern: re.Pattern[str], what: str) -> int:
    """An int from an int or canonical integer text; anything else is an error.

    Floats are refused even when integral (10.0, "10.0"): the writers emit integers, so a float
    means the value went through float arithmetic or gap filling that nobody checked.
    """
    if _is_int(value):
        return int(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        if value == "" or value.isspace():
            raise DisclosureError(f"{what} is blank")
        if pattern.fullmatch(value):
            return int(value)
        raise DisclosureError(f"{what} {_show(value)} is not an integer or the suppression symbol")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise DisclosureError(f"{what} is blank")
    raise DisclosureError(f"{what} {_show(value)} is a {type(value).__name__}, not an integer")


def check_count(value: object, rule: Rule = DEFAULT_RULE) -> None:
    """A published count cell: the symbol, the withheld symbol, 0, or a multiple of the base
    above the threshold."""
    if value in (rule.suppressed_symbol, WITHHELD) and isinstance(value, str):
        return
    n = _parse(value, _COUNT_TEXT, "count")
    if n == 0:
        return
    if n <= rule.suppress_up_to:
        raise DisclosureError(
            f"count {_show(value)} is in 1..{rule.suppress_up_to} and must be shown as "
            f"{rule.suppressed_symbol!r}"
        )
    if n % rule.rounding_base:
        raise DisclosureError(f"count {_show(value)} is not a multiple of {rule.rounding_base}")


def can_publish_count(value: object, rule: Rule = DEFAULT_RULE) -> bool:
    try:
        check_count(value, rule)
    except DisclosureError:
        return False
    return True


def check_derived(value: object, rule: Rule = DEFAULT_RULE) -> None:
    """A published difference of published counts: the symbol or any multiple of the base."""
    if value == rule.suppressed_symbol and isinstance(value, str):
        return
    n = _parse(value, _DERIVED_TEXT, "derived value")
    if n % rule.rounding_base:
        raise DisclosureError(
            f"derived value {_show(value)} is not a multiple of {rule.rounding_base}"
        )


def can_publish_derived(value: object, rule: Rule = DEFAULT_RULE) -> bool:
    try:
        check_derived(value, rule)
    except DisclosureError:
        return False
    return True
