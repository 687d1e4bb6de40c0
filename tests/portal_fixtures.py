"""A real published tree for the portal tests: one synthetic ISO week ingested night by night
and published for two weekly partners, built once per test process and shared (read-only) by
the unit and end-to-end portal tests. A test that alters files copies the tree first.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher

from exports.portal.config import PortalConfig
from exports.portal.store import open_store
from exports.portal.users import add_user
from exports.publish import publish
from istv.partners import load_partners
from istv.periods import parse_period
from istv.settings import Settings
from istv.synth import generate
from tests.e2e.helpers import ingest_nights

WEEK = parse_period("2026-W43")
PARTNER_A = "partner-a"
PARTNER_B = "partner-b"
PASSWORD = "correct horse battery staple"
USERS = {"alice": PARTNER_A, "bob": PARTNER_B}
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
# Real argon2id with small parameters, so a test's sign-ins take milliseconds; the app's default
# parameters (and the rehash to them) are tested on their own.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@dataclass(frozen=True)
class PublishedTree:
    root: Path  # the data root: published/<partner>/<period>/v1/ for both partners
    partners: Path  # the partners YAML (point ISTV_PARTNERS at it)

    def bundle(self, partner: str, period: str = WEEK.label, version: str = "v1") -> Path:
        return self.root / "published" / partner / period / version


def partners_config(root: Path) -> dict:
    """Two weekly partners: one per synthetic local authority, both delivered plain."""

    def partner(pid: str, name: str, lad: str) -> dict:
        return {
            "id": pid,
            "name": name,
            "area": {"lads": [lad]},
            "products": ["hotspots", "time_of_day", "methods", "location_classes", "trend"],
            "cadence": "weekly",
            "formats": ["csv", "xlsx", "geojson"],
            "delivery": {"type": "local", "path": str(root / "outbox")},
            "certificate": None,
            "allow_plain": True,
        }

    return {
        "version": 1,
        "partners": [
            partner(PARTNER_A, "Partner A tasking meeting", "E06990001"),
            partner(PARTNER_B, "Partner B CSP analysts", "E06990002"),
        ],
    }


@functools.cache
def published_tree() -> PublishedTree:
    """Build the tree once per process (about 20 s), in a temporary folder removed at exit."""
    home = Path(tempfile.mkdtemp(prefix="istv-portal-tests-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    root = home / "data"
    generate(root, WEEK.start, len(WEEK.nights()), rows_per_night=300, seed=43)
    partners_file = root.parent / "partners.yaml"
    partners_file.write_text(yaml.safe_dump(partners_config(root)), encoding="utf-8")
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    ingest_nights(settings, WEEK.nights(), "portal_fixture")
    for partner in load_partners(partners_file):
        publish(settings, partner, WEEK, "portal_fixture")
    return PublishedTree(root=root, partners=partners_file)


class Clock:
    """An injectable clock for the app: sessions expire without sleeping."""

    def __init__(self, now: dt.datetime = START):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def portal_config(tree: PublishedTree, folder: Path, **changes) -> PortalConfig:
    """A config over the shared tree with its own portal database and audit log in `folder`,
    and the users of USERS (password PASSWORD) added."""
    values = {
        "data_root": tree.root,
        "db_url": f"sqlite:///{folder / 'portal.sqlite'}",
        "audit_url": f"sqlite:///{folder / 'audit.sqlite'}",
        "partners_file": tree.partners,
        "idle": dt.timedelta(minutes=30),
        "lifetime": dt.timedelta(hours=8),
        "secure_cookies": False,
        "tile_origin": None,
        **changes,
    }
    config = PortalConfig(**values)
    engine = open_store(config.db_url)
    for username, partner in USERS.items():
        add_user(engine, username, partner, PASSWORD, START, hasher=FAST_HASHER)
    engine.dispose()
    return config


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match[1]
