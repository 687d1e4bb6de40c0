"""Airflow Assets shared by DAGs (light: imported at DAG parse time)."""

from airflow.sdk import Asset

RESTRICTED = Asset(name="istv_restricted_attendances", uri="file:///istv/restricted/attendances")
