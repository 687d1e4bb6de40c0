"""Kill each nightly stage and a publication at every rename and delete, then run it again.

Each run is a forked child process that ends with os._exit(137) just before its Nth call of
os.replace, os.rename, os.unlink, shutil.rmtree or of a run ledger or audit log write: a kill
(no exception handler, no finally runs), at every such point the run passes, in turn. After each
kill the test checks what a reader could see (no partial night read, nothing partial published,
no publication or delivery without its audit intent row), then reruns as Airflow's retry would
and checks the rerun's outputs are byte-identical to an uninterrupted run's, with no night
left blocked and no leftovers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from exports.audit import audit_tree
from istv.audit_log import AuditLog
from istv.completeness import UnverifiedPartition, missing_nights, read_ingested
from istv.ledger import RunLedger
from istv.periods import parse_period
from istv.settings import Settings
from istv.synth import generate
from istv.zones import PARTITION_FILE, Zones
from tests.e2e.helpers import ingest_nights

KILLED = 137
WEEK = parse_period("2026-W43")
NIGHT = WEEK.nights()[-1]
STAGES = ("extract", "validate", "depersonalise", "geocode")
PARTNERS = {
    "version": 1,
    "partners": [
        {
            "id": "crash-csp",
            "name": "Crash test CSP",
            "area": {"lads": ["E06990001"]},
            "products": ["location_classes", "demographics"],  # no pictures: a quick bundle
            "cadence": "weekly",
            "formats": ["csv", "parquet"],
            "delivery": {"type": "local", "path": "outbox"},
            "certificate": None,
            "allow_plain": True,
        }
    ],
}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A small synthetic week, every night ingested: the state each killed run starts from."""
    root = tmp_path_factory.mktemp("crash") / "data"
    generate(root, WEEK.start, len(WEEK.nights()), rows_per_night=60, seed=7)
    (root.parent / "partners.yaml").write_text(yaml.safe_dump(PARTNERS), encoding="utf-8")
    settings = Settings.from_env({"ISTV_DATA_ROOT": str(root), "ISTV_DEMO": "1"})
    ingest_nights(settings, WEEK.nights(), "base")
    return root


def fresh(base: Path, folder: Path, monkeypatch) -> Settings:
    """A copy of the base week as the data root."""
    root = folder / "data"
    shutil.copytree(base, root)
    monkeypatch.setenv("ISTV_DATA_ROOT", str(root))
    monkeypatch.setenv("ISTV_DEMO", "1")
    monkeypatch.setenv("ISTV_PARTNERS", str(base.parent / "partners.yaml"))
    return Settings.from_env()


def run_killed(job: Callable[[], None], crash_at: int, count_file: Path) -> int:
    """Run job in a forked child killed before its crash_at-th point (0: never); the child
    writes how many points it passed to count_file. Returns the child's exit code."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            seen = _install_points(crash_at)
            job()
            count_file.write_text(str(seen()))
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _install_points(crash_at: int) -> Callable[[], int]:
    seen, inside = [0], [False]

    def wrap(function):
        def point(*args, **kwargs):
            if inside[0]:  # the unlinks inside one rmtree are that one point
                return function(*args, **kwargs)
            seen[0] += 1
            if seen[0] == crash_at:
                os._exit(KILLED)
            inside[0] = True
            try:
                return function(*args, **kwargs)
            finally:
                inside[0] = False

        return point

    for module, name in ((os, "replace"), (os, "rename"), (os, "unlink"), (shutil, "rmtree")):
        setattr(module, name, wrap(getattr(module, name)))
    RunLedger.record = wrap(RunLedger.record)
    AuditLog.record = wrap(AuditLog.record)
    return lambda: seen[0]


def run_stages(settings: Settings, stages: tuple[str, ...]) -> None:
    """The night's stages, as the DAG's tasks call them, inputs at their usual paths."""
    from istv import nightly

    zones, when = Zones(settings.data_root), NIGHT.isoformat()
    landing = zones.night_dir(zones.landing, when)
    run = f"crash__{when}"
    for stage in stages:
        if stage == "extract":
            nightly.extract(settings, NIGHT, run)
        elif stage == "validate":
            nightly.validate_night(settings, NIGHT, str(landing / f"ed_export_{when}.csv"), run)
        elif stage == "depersonalise":
            nightly.depersonalise_night(settings, NIGHT, str(landing / "validated.parquet"), run)
        else:
            nightly.geocode_night(settings, NIGHT, str(zones.restricted_partition(when)), run)


def partitions(root: Path) -> dict[str, bytes]:
    folder = root / "restricted" / "attendances"
    return {p.parent.name: p.read_bytes() for p in sorted(folder.glob(f"*/{PARTITION_FILE}"))}


def visible(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder whose path has no hidden part."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def hidden(root: Path, *globs: str) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for g in globs for p in root.glob(g) if p.name.startswith(".")
    )


@pytest.mark.parametrize("stage", STAGES)
def test_a_night_killed_at_any_rename_or_delete_reruns_to_the_same_partition(
    base, tmp_path, monkeypatch, stage
):
    """A complete night re-run and killed at each point: readers get the whole night or a
    clear refusal, never part of it; the rerun (this stage on) gives identical bytes."""
    week = partitions(base)
    night_files = {
        zone: visible(base / zone / f"night={NIGHT}") for zone in ("landing", "quarantine")
    }
    later = STAGES[STAGES.index(stage) :]
    count_file = tmp_path / "points"
    settings = fresh(base, tmp_path / "count", monkeypatch)
    assert run_killed(lambda: run_stages(settings, (stage,)), 0, count_file) == 0
    points = int(count_file.read_text())
    print(f"{stage}: killed at each of {points} points")
    assert points >= 3  # at least a rename and the ledger entry, whatever the stage
    for crash_at in range(1, points + 1):
        settings = fresh(base, tmp_path / str(crash_at), monkeypatch)
        root = settings.data_root
        assert run_killed(lambda s=settings: run_stages(s, (stage,)), crash_at, count_file) == (
            KILLED
        ), f"{stage} point {crash_at}"
        try:  # what publish would read now: the whole week as it was, or a refusal
            read = read_ingested(root, settings.ledger_url, WEEK.nights(), WEEK.start)
            assert list(read.values()) == list(week.values()), f"{stage} {crash_at}: partial"
        except UnverifiedPartition as refused:
            assert refused.night == NIGHT.isoformat() and "\n" not in str(refused)

        run_stages(settings, later)  # Airflow's retry of the stage, then the stages after it

        assert partitions(root) == week, f"{stage} point {crash_at}"
        for zone, files in night_files.items():
            assert visible(root / zone / f"night={NIGHT}") == files, f"{stage} {crash_at} {zone}"
        assert missing_nights(settings.ledger_url, WEEK, root) == []  # not blocked
        assert hidden(root, "restricted/attendances/*", "landing/night=*/*") == []


def published_versions_are_whole(root: Path, audit_url: str) -> None:
    """Every version folder has a manifest whose files all exist and match, and an intent row
    in the audit log; every delivered folder has its delivery intent row."""
    log = AuditLog(audit_url)
    try:
        events = {(e["event"], e["period"], e["version"]) for e in log.entries()}
    finally:
        log.close()
    for folder in sorted((root / "published").glob("*/*/v*")):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["files"]:
            data = (folder / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert ("publication_intent", WEEK.label, folder.name) in events, folder
    for folder in sorted((root / "outbox").glob("*/*/v*")):
        assert ("delivery_intent", WEEK.label, folder.name) in events, folder
        published = root / "published" / folder.relative_to(root / "outbox")
        assert visible(folder) == visible(published), folder


def every_outcome_follows_its_intent(audit_url: str) -> None:
    """Each publication or delivery row comes after an intent row for the same bundle and
    recipient."""
    from istv.audit_log import INTENTS

    log = AuditLog(audit_url)
    try:
        entries = log.entries()
    finally:
        log.close()
    outcome_of = {o: intent for intent, outcomes in INTENTS.items() for o in outcomes}
    for i, entry in enumerate(entries):
        if entry["event"] in outcome_of:
            key = (outcome_of[entry["event"]], entry["version"], entry["recipient"])
            earlier = {(e["event"], e["version"], e["recipient"]) for e in entries[:i]}
            assert key in earlier, [e["event"] for e in entries]


def data_files(version: Path) -> list[tuple[str, str]]:
    """(name, sha256) of a version's data files: its manifest carries a timestamp."""
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    return sorted((f["path"], f["sha256"]) for f in manifest["files"])


def test_a_publication_killed_at_any_rename_delete_or_log_write_reruns_to_the_same_bundle(
    base, tmp_path, monkeypatch
):
    from exports.dispatch import publish_and_deliver
    from istv.partners import load_partners

    def publish_all(settings: Settings) -> list[dict]:
        return [publish_and_deliver(settings, p, WEEK, "crash") for p in load_partners()]

    count_file = tmp_path / "points"
    reference = fresh(base, tmp_path / "count", monkeypatch)
    assert run_killed(lambda: publish_all(reference), 0, count_file) == 0
    points = int(count_file.read_text())
    print(f"publish and deliver: killed at each of {points} points")
    (expected,) = [data_files(v) for v in (reference.data_root / "published").glob("*/*/v*")]
    assert points >= 8  # the bundle's files, the intent, the rename, the outcome, the delivery
    for crash_at in range(1, points + 1):
        settings = fresh(base, tmp_path / str(crash_at), monkeypatch)
        root = settings.data_root
        code = run_killed(lambda s=settings: publish_all(s), crash_at, count_file)
        assert code == KILLED, f"point {crash_at}"
        published_versions_are_whole(root, settings.audit_url)

        (result,) = publish_all(settings)

        assert result["version"] == "v1", f"point {crash_at}"
        versions = sorted((root / "published").glob("*/*/v*"))
        assert [data_files(v) for v in versions] == [expected], f"point {crash_at}"
        assert audit_tree(root / "published") == []  # no leftover fails the output audit
        assert hidden(root, "published/*/*/*", "outbox/*/*/*") == []
        published_versions_are_whole(root, settings.audit_url)
        every_outcome_follows_its_intent(settings.audit_url)


def test_a_losing_concurrent_publish_is_unchanged_or_a_retryable_error(
    base, tmp_path, monkeypatch
):
    """Two runs decide on v1 at once: the second to rename finds it made."""
    from exports import publish as publishing
    from istv.partners import load_partners

    settings = fresh(base, tmp_path, monkeypatch)
    (partner,) = load_partners()
    first = publishing.publish(settings, partner, WEEK, "first")
    monkeypatch.setattr(publishing, "_latest_version", lambda home: None)  # it saw no v1 yet
    lost = publishing.publish(settings, partner, WEEK, "second")
    assert (lost.status, lost.version, lost.folder) == ("unchanged", "v1", first.folder)
    manifest = first.folder / "manifest.json"
    changed = json.loads(manifest.read_text(encoding="utf-8"))
    changed["files"][0]["sha256"] = "0" * 64  # v1 as another run made it from other data
    manifest.write_text(json.dumps(changed), encoding="utf-8")
    with pytest.raises(publishing.PublishRace, match="Publish again") as caught:
        publishing.publish(settings, partner, WEEK, "third")
    assert "\n" not in str(caught.value)
    home = first.folder.parent
    assert sorted(p.name for p in home.iterdir()) == ["v1"]  # nothing else, no staging left
