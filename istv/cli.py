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
    nights: Annotated[int, typer.Option(min=1, help="Synthetic nights to run.")] = 7,
    root: Annotated[Path, typer.Option(help="Where the demo's data and Airflow live.")] = Path(
        ".demo"
    ),
) -> None:
    """Make synthetic data and run the real nightly DAG through Airflow for each night."""
    from istv.demo import run_demo

    sys.exit(run_demo(root.resolve(), nights))
