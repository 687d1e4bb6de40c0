"""The `istv` command: synth, check and demo (more arrive with publishing and delivery)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="istv-pipeline: ED assault data to depersonalised partner extracts.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Data root to write into.")] = Path(".demo/data"),
    first_night: Annotated[str, typer.Option(help="First night (YYYY-MM-DD).")] = "2026-10-19",
    nights: Annotated[int, typer.Option(min=1, help="How many nights of ED exports.")] = 7,
    rows_per_night: Annotated[int, typer.Option(min=10, help="Attendances a night.")] = 400,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 2026,
) -> None:
    """Write a synthetic town: gazetteer, postcodes, nightly ED exports and ground truth."""
    from istv.synth import generate

    summary = generate(out, dt.date.fromisoformat(first_night), nights, rows_per_night, seed)
    typer.echo(f"wrote {summary}")


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="ED export: .csv or .xlsx.")],
    mapping: Annotated[Path | None, typer.Option(help="Mapping YAML for the export.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Dry run: validate FILE as the nightly run would and report counts. Writes nothing.

    Exits 0 whenever the file could be read, whatever its rows; 2 when it could not.
    """
    from istv.check import check_file, describe
    from transforms.ingest import SourceError
    from transforms.mapping import MappingError

    try:
        report = check_file(file, mapping)
    except (SourceError, MappingError) as error:
        typer.echo(f"istv check: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(report, sort_keys=True) if as_json else describe(report))


@app.command()
def demo(
    nights: Annotated[int, typer.Option(min=1, help="Synthetic nights to run.")] = 31,
    root: Annotated[Path, typer.Option(help="Where the demo's data and Airflow live.")] = Path(
        ".demo"
    ),
) -> None:
    """Synthetic month through the real DAGs on Airflow; publish and audit partner bundles."""
    from istv.demo import run_demo

    sys.exit(run_demo(root.resolve(), nights))


def _geocoder(data_root: Path | None):
    from istv.settings import Settings
    from transforms.gazetteer import load_gazetteer
    from transforms.geocode import Geocoder

    root = data_root.resolve() if data_root else Settings.from_env().data_root
    return Geocoder(load_gazetteer(root / "reference")), root


@app.command("geocode-eval")
def geocode_eval(
    data_root: Annotated[
        Path | None, typer.Option(help="Data root (default ISTV_DATA_ROOT).")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="Hand-labelled CSV: text, place_id, location_class.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score the geocoder on the synthetic ground truth, or on --labels FILE."""
    from istv.geocode_eval import describe, evaluate, load_ground_truth, load_labels

    geocoder, root = _geocoder(data_root)
    truth = load_labels(labels) if labels else load_ground_truth(root)
    scores = evaluate(truth, geocoder)
    typer.echo(json.dumps(scores, sort_keys=True) if as_json else describe(scores))


@app.command()
def geocode(
    text: Annotated[str, typer.Argument(help="A location description, in quotes.")],
    data_root: Annotated[
        Path | None, typer.Option(help="Data root (default ISTV_DATA_ROOT).")
    ] = None,
) -> None:
    """Show how one location text is read: cleaned words, postcodes, dwelling cues, result."""
    import pandas as pd

    from transforms.dwellings import dwelling_cues
    from transforms.geocode import OUTPUT_COLUMNS
    from transforms.location_text import clean_location_text, find_postcodes

    geocoder, _ = _geocoder(data_root)
    raw = pd.Series([text], dtype="string")
    cleaned = clean_location_text(raw)
    found = find_postcodes(raw, geocoder.known_postcodes, geocoder.known_outcodes)
    cues = dwelling_cues(cleaned)
    result = geocoder.geocode(raw).iloc[0]
    typer.echo(f"cleaned:   {cleaned.iloc[0]}")
    typer.echo(f"postcode:  {found['postcode'].iloc[0]}   outcode: {found['outcode'].iloc[0]}")
    typer.echo(
        f"dwelling:  cue={bool(cues['cue'].iloc[0])} own_home={bool(cues['own_home'].iloc[0])}"
    )
    for column in OUTPUT_COLUMNS:
        typer.echo(f"{column + ':':<16}{result[column]}")


@app.command()
def publish(
    period: Annotated[str, typer.Option(help="Period: 2026-W43, 2026-10 or 2026-Q4.")],
    partner: Annotated[str | None, typer.Option(help="One partner id (default: all).")] = None,
) -> None:
    """Publish partner bundles for a fixed period and deliver them (partners of that kind)."""
    import datetime as dt

    from exports.dispatch import publish_and_deliver
    from exports.schedule import due
    from istv.partners import load_partners
    from istv.settings import Settings

    settings = Settings.from_env()
    run_id = f"cli__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    for chosen, chosen_period in due(load_partners(), dt.date.today(), period, partner):
        result = publish_and_deliver(settings, chosen, chosen_period, run_id)
        typer.echo(
            f"{result['partner']} {result['period']}: {result['status']} {result['version']} "
            f"in {result['folder']}; delivery: {result['delivery']}"
            + (" (sealed)" if result["sealed"] else " (plain, allowed for this partner)")
        )


@app.command("audit-outputs")
def audit_outputs(
    folder: Annotated[Path, typer.Argument(help="A published folder, or a tree of them.")],
) -> None:
    """Independent audit of published files against the disclosure policy.

    Exits 1 and lists every offending cell when anything breaks the policy.
    """
    from exports.audit import audit_tree

    offences = audit_tree(folder)
    for offence in offences:
        typer.echo(str(offence))
    if offences:
        typer.echo(f"{len(offences)} problems: these files must not be shared.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: every published cell passes the disclosure policy")


@app.command("audit-log")
def audit_log(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    since: Annotated[str | None, typer.Option(help="Only entries on or after YYYY-MM-DD.")] = None,
    portal: Annotated[
        bool, typer.Option("--portal", help="Download portal events instead (sign-ins, ...).")
    ] = False,
) -> None:
    """Every publication and delivery: partner, period, version, files and sha256, recipient.

    With --portal: every portal sign-in, sign-out, download and refused request instead
    (--partner matches the user's partner or the partner asked for).
    """
    import datetime as dt

    from istv.audit_log import AuditLog, format_entries, format_portal_entries
    from istv.settings import Settings

    log = AuditLog(Settings.from_env().audit_url)
    try:
        day = dt.date.fromisoformat(since) if since else None
        if portal:
            typer.echo(format_portal_entries(log.portal_entries(partner=partner, since=day)))
        else:
            typer.echo(format_entries(log.entries(partner=partner, since=day)))
    finally:
        log.close()


@app.command()
def keys(
    out: Annotated[Path, typer.Option(help="Folder for the test keys and certificates.")] = Path(
        ".demo/data/secrets"
    ),
) -> None:
    """Create a TEST trust signing key and a certificate per configured partner (demo, tests).

    Never use these for real partners: they are marked as demo keys and refused outside demo mode.
    """
    from anonymiser.encryption import make_test_pki
    from istv.partners import load_partners

    made = make_test_pki(out, [p.id for p in load_partners()])
    for name, path in sorted(made.items()):
        typer.echo(f"{name}: {path}")


@app.command()
def retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; delete nothing.")
    ] = False,
) -> None:
    """Delete landing/quarantine nights and restricted months past their retention periods.

    Periods: ISTV_RETAIN_IDENTIFIABLE_DAYS (default 30), ISTV_RETAIN_RESTRICTED_MONTHS (24).
    The istv_retention DAG runs this daily; prints counts and night/partition names only.
    """
    import datetime as dt

    from istv.retention import apply_retention, retention_settings
    from istv.settings import Settings

    periods = retention_settings()
    report = apply_retention(
        Settings.from_env().data_root,
        dt.date.today(),
        periods.identifiable_days,
        periods.restricted_months,
        dry_run,
    )
    verb = "would delete" if dry_run else "deleted"
    for zone, names in report.deleted.items():
        typer.echo(f"{zone}: {verb} {len(names)}" + (f" ({', '.join(names)})" if names else ""))
    for skipped in report.skipped:
        typer.echo(f"left alone: {skipped}")


users_app = typer.Typer(
    help="Download portal users: add, disable, enable, list.", no_args_is_help=True
)
app.add_typer(users_app, name="users")


def _portal_db():
    from exports.portal.config import PortalConfig
    from exports.portal.store import open_store

    return open_store(PortalConfig.from_env().db_url)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, '.', '_', '-'.")],
    partner: Annotated[str, typer.Option(help="The partner id (from the partners file).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin (scripts).")
    ] = False,
) -> None:
    """Add a portal user of PARTNER; the password is asked twice (hidden), at least 12 long."""
    import datetime as dt

    from exports.portal.users import UserError, add_user, check_password, check_username
    from istv.partners import load_partners

    try:
        check_username(username)
        if partner not in {p.id for p in load_partners()}:
            raise UserError(f"partner {partner!r} is not in the partners file")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        check_password(password)
        engine = _portal_db()
        try:
            add_user(engine, username, partner, password, dt.datetime.now(dt.UTC))
        finally:
            engine.dispose()
    except UserError as error:
        typer.echo(f"istv users add: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added {username} for {partner}")


def _set_enabled(username: str, enabled: bool) -> None:
    from exports.portal.users import UserError, set_enabled

    engine = _portal_db()
    try:
        set_enabled(engine, username, enabled)
    except UserError as error:
        typer.echo(f"istv users: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"{username}: {'enabled' if enabled else 'disabled, sessions ended'}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The user to disable.")]) -> None:
    """Disable a user at once: sign-in refused, open sessions ended (the user is kept)."""
    _set_enabled(username, False)


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="The user to enable.")]) -> None:
    """Enable a disabled user again."""
    _set_enabled(username, True)


@users_app.command("list")
def users_list() -> None:
    """Every user: username, partner, enabled, created, last sign-in (never a password hash)."""
    from exports.portal.users import list_users

    engine = _portal_db()
    try:
        users = list_users(engine)
    finally:
        engine.dispose()
    if not users:
        typer.echo("no portal users: add one with `istv users add USERNAME --partner ID`")
        return
    typer.echo(f"{'username':<24} {'partner':<24} {'enabled':<8} {'created':<17} last sign-in")
    for user in users:
        last = user["last_sign_in_at"]
        typer.echo(
            f"{user['username']:<24} {user['partner']:<24} {'yes' if user['enabled'] else 'no':<8} "
            f"{user['created_at']:%Y-%m-%d %H:%M}Z "
            + (f"{last:%Y-%m-%d %H:%M}Z" if last else "never")
        )


@app.command()
def portal(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8470,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            help="A TLS reverse proxy is in front: Secure cookies, X-Forwarded-* from it only.",
        ),
    ] = False,
    proxy_addresses: Annotated[
        str, typer.Option(help="With --behind-proxy: the proxy's addresses, comma-separated.")
    ] = "127.0.0.1",
) -> None:
    """Run the download portal for partner users (docs/portal.md)."""
    from exports.portal.serve import check_host, run

    try:
        check_host(host, behind_proxy)
    except ValueError as error:
        typer.echo(f"istv portal: {error}", err=True)
        raise typer.Exit(2) from None
    run(host, port, behind_proxy, proxy_addresses)
