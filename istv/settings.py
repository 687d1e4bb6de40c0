"""Settings from the environment, so Airflow workers, the CLI and tests share one source.

Secrets (the HMAC key) are not here: see anonymiser/keys.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_ROOT = Path("data")
DEFAULT_QUARANTINE_MAX_SHARE = 0.05
# A type 1 ED sees about ten assaults a night, so one bad row is 10%: the gate is for broken
# exports, and a night with this many quarantined rows or fewer never stops on share alone.
DEFAULT_QUARANTINE_GRACE_ROWS = 5
# Volume guard (istv/volume.py): ~10 assaults a night is Poisson-like, so a real night below a
# quarter of the median (2 or fewer of 10) comes about once a year; an empty night about never.
DEFAULT_MIN_NIGHT_ROWS = 1
DEFAULT_MIN_NIGHT_RATIO = 0.25
DEFAULT_SOURCE_PATTERN = "landing/inbox/ed_export_{night}.csv"
# Each published version is a release to difference against the one before, so a period's late
# records wait this long after it ends (or after its latest re-run) and go out as one version.
DEFAULT_SETTLING_DAYS = 7


@dataclass(frozen=True)
class Settings:
    """Where data lives and how strict a run is.

    data_root        every zone lives under it (landing/, quarantine/, restricted/, reports/, ...)
    ledger_url       SQLAlchemy URL of the run ledger; SQLite under the data root by default
    audit_url        SQLAlchemy URL of the disclosure audit log (append-only); SQLite by default
    audit_anchor     the audit log's latest signed checkpoint, kept outside the database so a
                     deleted or truncated log is noticed (istv/audit_chain.py); under the data
                     root by default
    source           file pattern relative to data_root ({night} is YYYY-MM-DD) or a SQLAlchemy
                     URL; with a URL, source_query is run with :night_start and :night_end
    mapping          optional mapping YAML from the trust's export columns to the contract
    postcodes        optional postcode lookup CSV (pcds, lsoa21cd, ...) for LSOA of residence
    quarantine_max_share  a night fails when more than this share of in-scope rows is quarantined
    quarantine_grace_rows ... and more than this many rows are
    demo             demo mode: may generate its own pseudonymisation key
    map_tile_url     optional tile URL template ({z}/{x}/{y}) for the HTML hotspot map's base
                     map; without it the map has no base layer and needs no network
    map_tile_attribution  the attribution the tile provider requires (HTML allowed)
    min_night_rows   a night with fewer in-scope rows stops before anything is replaced
    min_night_ratio  ... as does one below this share of the last 28 stored nights' median
    allow_shrink     nights (YYYY-MM-DD) a person checked: a small or shrinking run of one of
                     them may replace it; naming the night means a value left on a worker
                     never waves through another night (the DAG takes allow_shrink per run)
    settling_days    a period is published on schedule this many days after it ends, and a
                     published one's corrections this many days after its latest re-run
                     (exports/schedule.py); a period asked for by hand is not held
    """

    data_root: Path
    ledger_url: str
    audit_url: str
    source: str
    source_query: str | None
    mapping: Path | None
    postcodes: Path | None
    reference_dir: Path
    quarantine_max_share: float
    quarantine_grace_rows: int
    demo: bool
    map_tile_url: str | None = None
    map_tile_attribution: str | None = None
    min_night_rows: int = DEFAULT_MIN_NIGHT_ROWS
    min_night_ratio: float = DEFAULT_MIN_NIGHT_RATIO
    allow_shrink: frozenset[str] = frozenset()
    settling_days: int = DEFAULT_SETTLING_DAYS
    audit_anchor: Path | None = None

    @property
    def audit_anchor_path(self) -> Path:
        return self.audit_anchor or self.data_root / "audit_anchor.json"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        root = Path(env.get("ISTV_DATA_ROOT", str(DEFAULT_DATA_ROOT))).resolve()
        share = float(env.get("ISTV_QUARANTINE_MAX_SHARE", DEFAULT_QUARANTINE_MAX_SHARE))
        if not 0 <= share <= 1:
            raise ValueError(
                f"ISTV_QUARANTINE_MAX_SHARE must be a share between 0 and 1, not {share}"
            )
        ratio = float(env.get("ISTV_MIN_NIGHT_RATIO", DEFAULT_MIN_NIGHT_RATIO))
        if not 0 <= ratio <= 1:
            raise ValueError(f"ISTV_MIN_NIGHT_RATIO must be a share between 0 and 1, not {ratio}")
        min_rows = int(env.get("ISTV_MIN_NIGHT_ROWS", DEFAULT_MIN_NIGHT_ROWS))
        if min_rows < 0:
            raise ValueError(f"ISTV_MIN_NIGHT_ROWS must be 0 or more, not {min_rows}")
        return cls(
            data_root=root,
            ledger_url=env.get("ISTV_LEDGER_URL") or f"sqlite:///{root / 'ledger.sqlite'}",
            audit_url=env.get("ISTV_AUDIT_URL") or f"sqlite:///{root / 'audit.sqlite'}",
            source=env.get("ISTV_SOURCE", DEFAULT_SOURCE_PATTERN),
            source_query=env.get("ISTV_SOURCE_QUERY"),
            mapping=_optional_path(env.get("ISTV_MAPPING")),
            postcodes=_optional_path(env.get("ISTV_POSTCODES"))
            or _existing(root / "reference" / "postcodes.csv"),
            reference_dir=_optional_path(env.get("ISTV_REFERENCE")) or root / "reference",
            quarantine_max_share=share,
            quarantine_grace_rows=int(
                env.get("ISTV_QUARANTINE_GRACE_ROWS", DEFAULT_QUARANTINE_GRACE_ROWS)
            ),
            demo=env.get("ISTV_DEMO", "").lower() in {"1", "true", "yes"},
            map_tile_url=env.get("ISTV_MAP_TILE_URL") or None,
            map_tile_attribution=env.get("ISTV_MAP_TILE_ATTRIBUTION") or None,
            min_night_rows=min_rows,
            min_night_ratio=ratio,
            allow_shrink=_nights(env, "ISTV_ALLOW_SHRINK"),
            settling_days=_days(env, "ISTV_SETTLING_DAYS", DEFAULT_SETTLING_DAYS),
            audit_anchor=_optional_path(env.get("ISTV_AUDIT_ANCHOR")),
        )


def _days(env: dict[str, str], name: str, default: int) -> int:
    """A whole number of days, 0 or more, so "7d" or "-1" is an error rather than a surprise."""
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal():
        raise ValueError(f"{name} must be a whole number of days, 0 or more, not {value!r}")
    return int(value)


def _nights(env: dict[str, str], name: str) -> frozenset[str]:
    """A comma-separated list of nights (YYYY-MM-DD), checked so a typo is not silently none."""
    import datetime as dt

    nights = frozenset(part.strip() for part in env.get(name, "").split(",") if part.strip())
    for night in nights:
        try:
            dt.date.fromisoformat(night)
        except ValueError:
            raise ValueError(
                f"{name} must list nights as YYYY-MM-DD separated by commas, not {night!r}"
            ) from None
    return nights


def _optional_path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None
