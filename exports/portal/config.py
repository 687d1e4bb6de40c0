"""Portal settings from the environment (documented in docs/portal.md)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from istv.partners import partners_path
from istv.settings import Settings

DEFAULT_IDLE_MINUTES = 30
DEFAULT_LIFETIME_HOURS = 8
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$")
TRUE = {"1", "true", "yes"}


@dataclass(frozen=True)
class PortalConfig:
    """data_root      published/ is read from under it
    db_url         SQLAlchemy URL of the portal database (users, failures, sessions)
    audit_url      the append-only audit log the portal writes its events to
    partners_file  the partners YAML: a user's partner must be configured there
    idle           a session ends after this long without a request ...
    lifetime       ... and this long after sign-in, whatever happens
    secure_cookies cookies marked Secure with the __Host- prefix (behind a TLS proxy)
    tile_origin    the one origin a bundle's map.html may load tiles from, or None
    """

    data_root: Path
    db_url: str
    audit_url: str
    partners_file: Path
    idle: dt.timedelta
    lifetime: dt.timedelta
    secure_cookies: bool
    tile_origin: str | None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, behind_proxy: bool = False
    ) -> PortalConfig:
        env = dict(os.environ if env is None else env)
        settings = Settings.from_env(env)
        idle = _positive(env, "ISTV_PORTAL_SESSION_MINUTES", DEFAULT_IDLE_MINUTES)
        hours = _positive(env, "ISTV_PORTAL_SESSION_HOURS", DEFAULT_LIFETIME_HOURS)
        return cls(
            data_root=settings.data_root,
            db_url=env.get("ISTV_PORTAL_DB") or f"sqlite:///{settings.data_root / 'portal.sqlite'}",
            audit_url=settings.audit_url,
            partners_file=partners_path(env),
            idle=dt.timedelta(minutes=idle),
            lifetime=dt.timedelta(hours=hours),
            secure_cookies=behind_proxy
            or env.get("ISTV_PORTAL_SECURE_COOKIES", "").lower() in TRUE,
            tile_origin=tile_origin(env.get("ISTV_MAP_TILE_URL")),
        )


def tile_origin(url: str | None) -> str | None:
    """The CSP source of a tile URL template: https://tile.example.org/{z}/{x}/{y}.png gives
    https://tile.example.org, and a {s}. subdomain becomes *. (as exports/maps.py reads it).
    Anything that could widen the policy (quotes, spaces, ';', a user) is refused."""
    if not url:
        return None
    parts = urlsplit(url)
    host = re.sub(r"^\{[a-z]+\}\.", "*.", parts.netloc)
    if parts.scheme not in ("https", "http") or not _HOST.fullmatch(host):
        raise ValueError(
            f"ISTV_MAP_TILE_URL {url!r} must be a URL template like "
            "https://tile.example.org/{z}/{x}/{y}.png (no user, quotes or spaces)"
        )
    return f"{parts.scheme}://{host.lower()}"


def _positive(env: dict[str, str], key: str, default: float) -> float:
    value = float(env.get(key) or default)
    if value <= 0:
        raise ValueError(f"{key} must be a positive number, not {value}")
    return value
