"""The failure notifier as Airflow calls it: a real task fails and the webhook gets one POST."""

from __future__ import annotations

import json

from tests.unit.test_alerts import webhook  # noqa: F401 (the local HTTP server fixture)

PROBE_DAG = '''
import pendulum
from airflow.sdk import dag, task

from istv.alerts import failure_notifier


@dag(
    dag_id="istv_alert_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"on_failure_callback": failure_notifier()},
)
def istv_alert_probe():
    @task(retries=0)
    def validate():
        from istv.volume import FAILED_VOLUME, VolumeGateError

        raise VolumeGateError(FAILED_VOLUME, "night 2026-10-25: only 0 in-scope rows")

    validate()


istv_alert_probe()
'''


def test_failing_task_posts_one_alert_through_airflow(airflow_home, webhook, tmp_path):  # noqa: F811
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "istv_alert_probe.py").write_text(PROBE_DAG)
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()  # dag.test() runs only DAGs the DB knows
    sync_bag_to_db(bag, "dags-folder", None)

    run = bag.get_dag("istv_alert_probe").test()
    assert str(run.state) == "failed"
    (body,) = webhook.bodies
    message = json.loads(body)
    assert (message["dag_id"], message["stage"]) == ("istv_alert_probe", "validate")
    assert message["reason"] == "night 2026-10-25: only 0 in-scope rows"
    assert message["night"] is None  # not the nightly DAG: no night to name
