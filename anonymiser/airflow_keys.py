"""The pseudonymisation key from an Airflow connection, for trusts that keep secrets in Airflow.

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
    log.info("pseudonymisation key read from Airflow connection %s", conn_id)
    return (connection.password or "").strip().encode()


def _connection(conn_id: str) -> Any:
    """Task SDK lookup (inside tasks via the supervisor, elsewhere via the secrets backends);
    BaseHook where the Task SDK is missing (Airflow 2). Airflow masks the password in logs."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        from airflow.hooks.base import BaseHook

        return BaseHook.get_connection(conn_id)
    return Connection.get(conn_id)
