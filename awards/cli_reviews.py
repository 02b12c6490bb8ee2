"""Command-line tools for committees: ``flask --app awards reviews <command>``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from . import assigning
from .extensions import db

reviews_cli = AppGroup("reviews", help="Committee reviews: reminders.")


@reviews_cli.command("remind")
def remind() -> None:
    """Queue reminders to reviewers with reviews outstanding (safe to run every hour)."""
    queued = assigning.send_reminders()
    db.session.commit()
    click.echo(f"{queued} reminder(s) queued")


def register(app: Flask) -> None:
    app.cli.add_command(reviews_cli)
