"""The `istv` command: synth, check and demo (more arrive with publishing and delivery)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import typer

app = typer.Typer(help="istv-pipeline: ED assault data to depersonalised partner extracts.",
                  no_args_is_help=True, add_completion=False)


@app.command()
def synth(
    out: Path = typer.Option(Path(".demo/data"), help="Data root to write into."),
    first_night: str = typer.Option("2026-10-19", help="First night (YYYY-MM-DD)."),
    nights: int = typer.Option(7, min=1, help="How many nights of ED exports."),
    rows_per_night: int = typer.Option(400, min=10, help="Attendances per night (about)."),
    seed: int = typer.Option(2026, help="Random seed: the same seed gives the same files."),
) -> None:
    """Write a synthetic town: gazetteer, postcodes, nightly ED exports and ground truth."""
    from istv.synth import generate

    summary = generate(out, dt.date.fromisoformat(first_night), nights, rows_per_night, seed)
    typer.echo(f"wrote {summary}")


@app.command()
def check(
    file: Path = typer.Argument(..., help="ED export: .csv or .xlsx."),
    mapping: Path | None = typer.Option(None, help="Mapping YAML from the export's columns."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
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
    nights: int = typer.Option(7, min=1, help="How many synthetic nights to run."),
    root: Path = typer.Option(Path(".demo"), help="Where the demo's data and Airflow live."),
) -> None:
    """Make synthetic data and run the real nightly DAG through Airflow for each night."""
    from istv.demo import run_demo

    sys.exit(run_demo(root.resolve(), nights))
