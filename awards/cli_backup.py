"""Command-line tools for backups: ``flask --app awards backup`` and ``restore``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from . import backup


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the backup folder into (default: <instance>/backups).",
)
def backup_command(output: Path | None) -> None:
    """Write a consistent snapshot of the database and the uploaded files."""
    output = output or Path(current_app.instance_path) / "backups"
    try:
        result = backup.backup(output)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = result.manifest["counts"]
    click.echo(f"Backup written to {result.folder}")
    click.echo(
        f"  schema {result.manifest['schema_revision']}, {sum(counts.values())} rows in "
        f"{len(counts)} tables, {len(result.manifest['uploads'])} uploaded files"
    )
    if result.pending_command:
        click.echo("pg_dump is not installed here. To finish the backup, run:")
        click.echo(f"  {result.pending_command}")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Fill an empty instance from a backup folder (refuses an instance that holds data)."""
    try:
        counts = backup.restore(folder, report=lambda line: click.echo(f"  {line}"))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = backup.read_manifest(folder)
    click.echo(f"Restored {sum(counts.values())} rows in {len(counts)} tables from {folder}.")
    click.echo(
        f"The backup's schema revision is {manifest['schema_revision']}: run "
        "`flask --app awards db upgrade` if this version of the application is newer."
    )


def register(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
