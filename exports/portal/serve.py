"""Run the portal with uvicorn: plain HTTP on loopback, or behind a TLS reverse proxy.

Without --behind-proxy only a loopback address is accepted and no X-Forwarded-* header is
believed (uvicorn would otherwise trust them from 127.0.0.1). With it, cookies are Secure with
the __Host- prefix, and X-Forwarded-Proto/For are read from the proxy's addresses only.
"""

from __future__ import annotations

import ipaddress

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, behind_proxy: bool) -> None:
    """Refuse to serve plain HTTP beyond this machine."""
    if not behind_proxy and not is_loopback(host):
        raise ValueError(
            f"{host} is not a loopback address: the portal serves plain HTTP, so it listens on "
            "127.0.0.1 unless a TLS reverse proxy is in front (--behind-proxy, docs/portal.md)"
        )


def run(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    behind_proxy: bool = False,
    proxy_addresses: str = "127.0.0.1",
) -> None:
    """Serve until interrupted."""
    import uvicorn

    from exports.portal.app import create_app
    from exports.portal.config import PortalConfig

    check_host(host, behind_proxy)
    app = create_app(PortalConfig.from_env(behind_proxy=behind_proxy))
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=behind_proxy,
        forwarded_allow_ips=proxy_addresses if behind_proxy else None,
        server_header=False,
    )
