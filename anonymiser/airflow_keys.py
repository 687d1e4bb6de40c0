"""Keys from Airflow connections, for trusts that keep secrets in Airflow.

`istv_hmac_key`: the pseudonymisation key in the password field. `istv_trust_key`: the trust's
PEM signing key in the password field and its PEM certificate in the extra field
{"certificate": "..."} (anonymiser/encryption.py).

The connection (default `istv_hmac_key`) holds the key in its password field; any secrets backend
Airflow is configured with works, including AIRFLOW_CONN_ISTV_HMAC_KEY='{"conn_type": "generic",
"password": "..."}'. Airflow is imported lazily so the anonymiser works without it.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CONN_ID = "istv_hmac_key"


def key_from_airflow_connection(conn_id: str = CONN_ID) -> bytes | None:
    """The connection's password, stripped; None when Airflow is absent or the connection is
    not defined. A defined connection with no password gives b"" so load_key refuses it as
    short, naming the connection, rather than quietly falling through to demo mode."""
    try:
        from airflow.exceptions import AirflowNotFoundException
    except ImportError:
        return None
    try:
        connection = _connection(conn_id)
    except AirflowNotFoundException:
        return None
    log.info("key read from Airflow connection %s", conn_id)
    return (connection.password or "").strip().encode()


def trust_identity_from_airflow_connection(
    conn_id: str = "istv_trust_key",
) -> tuple[bytes, bytes] | None:
    """(PEM key, PEM certificate) from the connection; None when Airflow or it is absent."""
    key = key_from_airflow_connection(conn_id)
    if key is None:
        return None
    extra = _connection(conn_id).extra_dejson or {}
    return key, str(extra.get("certificate", "")).strip().encode()


def _connection(conn_id: str) -> Any:
    """Task SDK lookup (inside tasks via the supervisor, elsewhere via the secrets backends);
    BaseHook where the Task SDK is missing (Airflow 2). Airflow masks the password in logs."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        from airflow.hooks.base import BaseHook

        return BaseHook.get_connection(conn_id)
    return Connection.get(conn_id)
