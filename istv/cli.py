"""The `istv` command: synth, check and demo (more arrive with publishing and delivery)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

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
    county: Annotated[
        int, typer.Option(help="Also write a county around the town: OS Open Names tiles of 40 "
                               "towns and a national postcode directory of this many rows "
                               "(1700000 is national size; 0: none).")
    ] = 0,
) -> None:
    """Write a synthetic town: gazetteer, postcodes, nightly ED exports and ground truth."""
    from istv.synth import generate
    from istv.synth.county import write_county_reference

    summary = generate(out, dt.date.fromisoformat(first_night), nights, rows_per_night, seed)
    typer.echo(f"wrote {summary}")
    if county:
        added = write_county_reference(out / "reference", seed=seed, postcodes=county)
        typer.echo(f"wrote a county of {len(added.towns)} towns: "
                   f"{len(added.open_names_files)} Open Names tiles, "
                   f"{len(added.postcode_files)} postcode files under {added.reference_dir}")


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="ED export: .csv, .xlsx or .parquet.")],
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
    except OSError as error:  # the mapping file: missing or unreadable
        reason = error.strerror or type(error).__name__
        typer.echo(f"istv check: {error.filename or mapping}: {reason}. Check the path.", err=True)
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


ReferenceOption = Annotated[
    Path | None,
    typer.Option(help="Reference folder (default ISTV_REFERENCE, else <data root>/reference)."),
]
DataRootOption = Annotated[
    Path | None, typer.Option(help="Data root (default ISTV_DATA_ROOT).")
]


def _places(data_root: Path | None, reference: Path | None) -> tuple[Path, Path]:
    """The data root and reference folder: the options, else the settings (ISTV_DATA_ROOT,
    ISTV_REFERENCE, else <data root>/reference)."""
    import os

    from istv.settings import Settings

    env = dict(os.environ)
    if data_root:
        env["ISTV_DATA_ROOT"] = str(data_root)
    settings = Settings.from_env(env)
    return settings.data_root, reference.resolve() if reference else settings.reference_dir


def _geocoder(data_root: Path | None, reference: Path | None = None, command: str = "geocode"):
    """The Geocoder on the reference folder, and the data root; a gazetteer problem is one
    line on stderr and exit 2."""
    from transforms.gazetteer import GazetteerError
    from transforms.geocode import Geocoder
    from transforms.lexicon import LexiconError

    root, reference_dir = _places(data_root, reference)
    try:
        return Geocoder.from_reference(reference_dir), root
    except (GazetteerError, LexiconError) as error:
        typer.echo(f"istv {command}: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("geocode-eval")
def geocode_eval(
    data_root: DataRootOption = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="Hand-labelled CSV/XLSX: text, place_id, location_class [, category]."),
    ] = None,
    reference: ReferenceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score the geocoder on the synthetic ground truth, or on --labels FILE.

    Exits 2 with one line naming file, row and column when the labels file is unusable.
    """
    from istv.geocode_eval import (
        LabelsError,
        describe,
        evaluate,
        load_ground_truth,
        load_labels,
    )

    try:
        truth = load_labels(labels) if labels else None
    except LabelsError as error:
        typer.echo(f"istv geocode-eval: {error}", err=True)
        raise typer.Exit(2) from None
    geocoder, root = _geocoder(data_root, reference, "geocode-eval")
    if truth is None:
        try:
            truth = load_ground_truth(root)
        except FileNotFoundError as error:
            typer.echo(f"istv geocode-eval: {error}", err=True)
            raise typer.Exit(2) from None
    scores = evaluate(truth, geocoder)
    typer.echo(json.dumps(scores, sort_keys=True) if as_json else describe(scores))


class _ExplainByDefault(TyperGroup):
    """`istv geocode TEXT` is `istv geocode explain TEXT`: anything that is not a subcommand
    name (or --help) is a text to explain."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["explain", *args]
        return super().parse_args(ctx, args)


geocode_app = typer.Typer(
    cls=_ExplainByDefault,
    subcommand_metavar='"TEXT" | review ...',
    help='Geocoding: `istv geocode "TEXT"` shows how one text is read; `istv geocode review` '
    "makes and applies the data team's review queue.",
    no_args_is_help=True,
)
app.add_typer(geocode_app, name="geocode")


@geocode_app.command("explain")
def geocode(
    text: Annotated[str, typer.Argument(help="A location description, in quotes.")],
    data_root: DataRootOption = None,
    reference: ReferenceOption = None,
) -> None:
    """Show how one location text is read: cleaned words, postcodes, dwelling cues, result."""
    import pandas as pd

    from transforms.geocode import OUTPUT_COLUMNS
    from transforms.location_text import clean_location_text, find_postcodes

    geocoder, _ = _geocoder(data_root, reference)
    raw = pd.Series([text], dtype="string")
    cleaned = clean_location_text(raw)
    found = find_postcodes(raw, geocoder.known_postcodes, geocoder.known_outcodes)
    signs = geocoder.signs.read(cleaned).iloc[0]
    result = geocoder.geocode(raw).iloc[0]
    typer.echo(f"cleaned:   {cleaned.iloc[0]}")
    typer.echo(f"postcode:  {found['postcode'].iloc[0]}   outcode: {found['outcode'].iloc[0]}")
    typer.echo(
        f"dwelling:  sign={signs['family'] or '-'} own_home={bool(signs['own_home'])} "
        "(a sign inside a name does not count: match_method says what decided)"
    )
    for column in OUTPUT_COLUMNS:
        typer.echo(f"{column + ':':<16}{result[column]}")


@geocode_app.command("review")
def geocode_review(
    night: Annotated[
        str | None, typer.Option(help="Night (YYYY-MM-DD) whose review queue to write.")
    ] = None,
    apply: Annotated[
        Path | None,
        typer.Option("--apply", help="A filled-in review file: add its corrections as aliases."),
    ] = None,
    data_root: DataRootOption = None,
    reference: ReferenceOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a queue that has corrections filled in.")
    ] = False,
) -> None:
    """Texts the geocoder was unsure of, for the data team, and their corrections.

    --night D writes restricted/geocode_review/night=D.csv: one row per text to look at.

    Fill in correct_id and/or correct_class; --apply FILE adds them to aliases.csv.

    Prints counts and paths only; a problem is one line (file, row, column), exit 2.
    """
    import datetime as dt

    from istv.geocode_review import REASONS, ReviewError, apply_review, build_review

    if (night is None) == (apply is None):
        typer.echo("istv geocode review: give either --night YYYY-MM-DD or --apply FILE.",
                   err=True)
        raise typer.Exit(2)
    root, reference_dir = _places(data_root, reference)
    try:
        if apply is not None:
            done = apply_review(apply, root, reference_dir, dt.date.today())
            typer.echo(
                f"aliases added: {done.added} (night {done.night}) to {done.path}"
                + (f"; {done.already_there} already there" if done.already_there else "")
                + "; the geocoder uses them from the next run"
            )
            for name, count in done.classes.items():
                typer.echo(f"  {name:<18} {count:>6}")
            return
        try:
            day = dt.date.fromisoformat(night)
        except ValueError:
            typer.echo("istv geocode review: --night must be a date, YYYY-MM-DD.", err=True)
            raise typer.Exit(2) from None
        queue = build_review(root, reference_dir, day, force)
    except ReviewError as error:
        for problem in error.problems:
            typer.echo(f"istv geocode review: {problem}", err=True)
        raise typer.Exit(2) from None
    total = sum(queue.texts.values())
    typer.echo(f"night {queue.night}: {total} texts to review "
               f"({sum(queue.records.values())} records)")
    for name in REASONS:
        typer.echo(f"  {name:<16} {queue.texts[name]:>6} texts {queue.records[name]:>6} records")
    if queue.already_reviewed:
        typer.echo(f"  left out: {queue.already_reviewed} texts already in aliases.csv")
    typer.echo(f"wrote {queue.path}")


@app.command()
def publish(
    period: Annotated[str, typer.Option(help="Period: 2026-W43, 2026-10 or 2026-Q4.")],
    partner: Annotated[str | None, typer.Option(help="One partner id (default: all).")] = None,
) -> None:
    """Publish partner bundles for a fixed period and deliver them (partners of that kind).

    Exits 1 when the audit blocked any bundle (each named with its audit report) or a
    delivery was refused or failed (each in one line; the audit log has its row).
    """
    import datetime as dt

    from anonymiser.encryption import CertificateProblem
    from exports.delivery import DeliveryError
    from exports.dispatch import publish_and_deliver
    from exports.publish import PublicationBlocked
    from exports.schedule import due
    from istv.audit_chain import AuditLogBroken
    from istv.partners import load_partners
    from istv.settings import Settings

    settings = Settings.from_env()
    run_id = f"cli__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    blocked = 0
    for chosen, chosen_period in due(load_partners(), dt.date.today(), period, partner):
        try:
            result = publish_and_deliver(settings, chosen, chosen_period, run_id)
        except PublicationBlocked as error:  # one line; the other partners still publish
            typer.echo(f"istv publish: {error}", err=True)
            blocked += 1
            continue
        except AuditLogBroken as error:  # no partner publishes until the log is restored
            typer.echo(f"istv publish: {error}", err=True)
            raise typer.Exit(1) from None
        except (DeliveryError, CertificateProblem) as error:  # refused or failed: logged
            typer.echo(f"istv publish: {chosen.id}: {error}", err=True)
            blocked += 1
            continue
        typer.echo(
            f"{result['partner']} {result['period']}: {result['status']} {result['version']} "
            f"in {result['folder']}; delivery: {result['delivery']}"
            + (" (sealed)" if result["sealed"] else " (plain, allowed for this partner)")
        )
    if blocked:
        raise typer.Exit(1)


@app.command("audit-outputs")
def audit_outputs(
    folder: Annotated[Path, typer.Argument(help="A published folder, or a tree of them.")],
) -> None:
    """Independent audit of published files against the disclosure policy.

    Exits 1 and lists every offending cell when anything breaks the policy; exits 2 when
    FOLDER is missing or holds no manifest, since an audit of nothing proves nothing.
    """
    from exports.audit import NothingToAudit, audit_tree

    try:
        offences = audit_tree(folder)
    except NothingToAudit as error:
        typer.echo(f"istv audit-outputs: {error}", err=True)
        raise typer.Exit(2) from None
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
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Check the hash chains, signed checkpoints and anchor."),
    ] = False,
    certificate: Annotated[
        Path | None,
        typer.Option(help="Trust certificate (PEM) the checkpoints must verify against "
                     "(default ISTV_TRUST_CERT_FILE)."),
    ] = None,
) -> None:
    """Every publication and delivery: partner, period, version, files and sha256, recipient.

    With --portal: every portal sign-in, sign-out, download and refused request instead
    (--partner matches the user's partner or the partner asked for). With --verify: walk the
    log's hash chains and signed checkpoints; exits 1 and names the first broken row if any.
    """
    import datetime as dt

    from exports.release_ledger import RELEASES, ReleaseLedger
    from istv.audit_chain import AuditLogBroken
    from istv.audit_log import AuditLog, format_entries, format_portal_entries
    from istv.settings import Settings

    settings = Settings.from_env()
    try:
        log = AuditLog(settings.audit_url)
    except AuditLogBroken as problem:
        typer.echo(f"istv audit-log: {problem}", err=True)
        raise typer.Exit(1) from None
    try:
        if verify:
            trusted = _trust_certificate(settings, certificate)
            ledger = ReleaseLedger(settings.audit_url)  # its tables exist before the walk
            try:
                found = log.verify(settings.audit_anchor_path, trusted, also=(RELEASES,))
                if (problem := ledger.first_break()) is not None:
                    found.broken.append(problem)
            finally:
                ledger.close()
            typer.echo(found.summary())
            for line in [*found.broken[1:], *found.warnings]:
                typer.echo(f"  {line}")
            if found.broken:
                raise typer.Exit(1)
            return
        day = dt.date.fromisoformat(since) if since else None
        if portal:
            typer.echo(format_portal_entries(log.portal_entries(partner=partner, since=day)))
        else:
            typer.echo(format_entries(log.entries(partner=partner, since=day)))
    finally:
        log.close()


def _trust_certificate(settings, given: Path | None):
    """The trust certificate checkpoints are checked against: --certificate, else
    ISTV_TRUST_CERT_FILE, else the demo one in demo mode; None if there is none."""
    import os

    from cryptography import x509

    from anonymiser.encryption import TRUST_CERT_NAME

    env = os.environ.get("ISTV_TRUST_CERT_FILE")
    demo = settings.data_root / "secrets" / TRUST_CERT_NAME if settings.demo else None
    path = given or (Path(env) if env else demo)
    if path is None or not path.is_file():
        if given is not None:
            raise typer.BadParameter(f"{given} is not a file", param_hint="--certificate")
        return None
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        raise typer.BadParameter(f"{path} is not a PEM certificate",
                                 param_hint="--certificate") from None


@app.command("audit-init")
def audit_init() -> None:
    """Create the audit log's and release ledger's tables (with their append-only triggers)
    in ISTV_AUDIT_URL. On PostgreSQL run it once as the owner role (docs/audit_roles.sql);
    the pipeline and the portal then connect as the writer role, which cannot alter them."""
    from exports.release_ledger import ReleaseLedger
    from istv.audit_chain import AuditLogBroken
    from istv.audit_log import AuditLog
    from istv.settings import Settings

    url = Settings.from_env().audit_url
    try:
        AuditLog(url).close()
    except AuditLogBroken as problem:
        typer.echo(f"istv audit-init: {problem}", err=True)
        raise typer.Exit(1) from None
    ReleaseLedger(url).close()
    typer.echo("audit log and release ledger tables are in place")


@app.command()
def keys(
    out: Annotated[Path, typer.Option(help="Folder for the test keys and certificates.")] = Path(
        ".demo/data/secrets"
    ),
    partners_out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the partners file with the test certificates pinned "
            "(default: partners.yaml beside the OUT folder, i.e. in the data root)."
        ),
    ] = None,
) -> None:
    """Create a TEST trust signing key and a certificate per configured partner (demo, tests).

    Never use these for real partners: they are marked as demo keys and refused outside demo mode.
    Also writes a copy of the partners file with each test certificate's SHA-256 fingerprint
    pinned (certificate_sha256): point ISTV_PARTNERS at it.
    """
    from anonymiser.encryption import make_test_pki
    from istv.partners import load_partners, partners_path, pin_certificates

    partners = load_partners()
    made = make_test_pki(out, [p.id for p in partners])
    for name, path in sorted(made.items()):
        typer.echo(f"{name}: {path}")
    target = partners_out or out.parent / "partners.yaml"
    certificates = {p.id: made[f"partners/{p.id}.crt"] for p in partners if p.certificate}
    pin_certificates(partners_path(), target, certificates)
    typer.echo(f"partners file with these certificates pinned: {target}")
    typer.echo(f"use it: export ISTV_PARTNERS={target.resolve()}")


@app.command()
def backfill(
    first: Annotated[str, typer.Option("--from", help="First night (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last night (YYYY-MM-DD), inclusive.")],
    max_active_runs: Annotated[
        int, typer.Option(min=1, help="Nights run at once (Airflow's own default is 10).")
    ] = 1,
    reprocess: Annotated[
        str | None,
        typer.Option(help="Also re-run nights that already ran: 'failed' or 'completed'."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the nights and the command; run nothing.")
    ] = False,
) -> None:
    """Run istv_nightly for nights FROM..TO through `airflow backfill create`.

    The run for night D fires at 02:00 Europe/London on D+1, so the Airflow dates are shifted by
    a day; this prints the exact command, then runs it (the DAG must be unpaused).
    """
    import datetime as dt
    import shlex
    import subprocess

    from istv.nights import backfill_command, parse_night

    try:
        start, end = parse_night(first, "--from"), parse_night(last, "--to")
        command = backfill_command(start, end, max_active_runs)
    except ValueError as error:
        typer.echo(f"istv backfill: {error}", err=True)
        raise typer.Exit(2) from None
    if reprocess is not None:
        if reprocess not in {"failed", "completed"}:
            typer.echo("istv backfill: --reprocess must be 'failed' or 'completed'", err=True)
            raise typer.Exit(2)
        command += ["--reprocess-behavior", reprocess]
    nights = (end - start).days + 1
    if dry_run:
        covered = (start + dt.timedelta(days=i) for i in range(nights))
        typer.echo(f"{nights} nights: " + ", ".join(night.isoformat() for night in covered))
        typer.echo(shlex.join(command))
        return
    typer.echo(shlex.join(command))
    airflow = Path(sys.executable).with_name("airflow")
    executable = str(airflow) if airflow.exists() else "airflow"
    raise typer.Exit(subprocess.run([executable, *command[1:]]).returncode)


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
