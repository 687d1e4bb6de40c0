"""Portal configuration from the environment, the tile host in the bundle CSP, and the
loopback rule of `istv portal`."""

from __future__ import annotations

import datetime as dt

import pytest

from exports.portal.app import bundle_csp
from exports.portal.config import PortalConfig, tile_origin
from exports.portal.serve import check_host


def test_defaults_live_under_the_data_root(tmp_path):
    config = PortalConfig.from_env({"ISTV_DATA_ROOT": str(tmp_path)})
    assert config.db_url == f"sqlite:///{tmp_path / 'portal.sqlite'}"
    assert config.audit_url == f"sqlite:///{tmp_path / 'audit.sqlite'}"
    assert config.idle == dt.timedelta(minutes=30)
    assert config.lifetime == dt.timedelta(hours=8)
    assert not config.secure_cookies and config.tile_origin is None


def test_environment_settings(tmp_path):
    config = PortalConfig.from_env(
        {
            "ISTV_DATA_ROOT": str(tmp_path),
            "ISTV_PORTAL_DB": "postgresql+psycopg://istv@db/istv",
            "ISTV_PORTAL_SESSION_MINUTES": "10",
            "ISTV_PORTAL_SESSION_HOURS": "2",
            "ISTV_PORTAL_SECURE_COOKIES": "true",
            "ISTV_MAP_TILE_URL": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        }
    )
    assert config.db_url == "postgresql+psycopg://istv@db/istv"
    assert (config.idle, config.lifetime) == (dt.timedelta(minutes=10), dt.timedelta(hours=2))
    assert config.secure_cookies and config.tile_origin == "https://*.tiles.example.org"


def test_behind_a_proxy_cookies_are_secure(tmp_path):
    assert PortalConfig.from_env(
        {"ISTV_DATA_ROOT": str(tmp_path)}, behind_proxy=True
    ).secure_cookies


@pytest.mark.parametrize("minutes", ["0", "-5"])
def test_a_session_time_must_be_positive(tmp_path, minutes):
    with pytest.raises(ValueError, match="ISTV_PORTAL_SESSION_MINUTES"):
        PortalConfig.from_env(
            {"ISTV_DATA_ROOT": str(tmp_path), "ISTV_PORTAL_SESSION_MINUTES": minutes}
        )


@pytest.mark.parametrize(
    "url",
    [
        "https://tiles.example.org 'unsafe-eval'/{z}.png",
        "https://tiles.example.org;script-src/{z}.png",
        "https://user:pw@tiles.example.org/{z}.png",
        "javascript:alert(1)",
        "https:///{z}.png",
    ],
)
def test_a_tile_url_cannot_widen_the_csp(url):
    with pytest.raises(ValueError, match="ISTV_MAP_TILE_URL"):
        tile_origin(url)


def test_the_bundle_csp_allows_inline_code_and_only_the_tile_host():
    closed = bundle_csp(None)
    assert "sandbox allow-scripts" in closed and "default-src 'none'" in closed
    assert "script-src 'unsafe-inline'" in closed and "img-src data:;" in closed
    assert "http" not in closed and "connect-src" not in closed  # default-src 'none' covers it
    assert "img-src data: https://tiles.example.org;" in bundle_csp("https://tiles.example.org")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_hosts_are_accepted(host):
    check_host(host, behind_proxy=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "portal.example.org"])
def test_other_hosts_need_a_proxy(host):
    with pytest.raises(ValueError, match="not a loopback address"):
        check_host(host, behind_proxy=False)
    check_host(host, behind_proxy=True)
