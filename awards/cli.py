"""Command-line tools: ``flask --app awards <command>``."""

from __future__ import annotations

import logging
import signal

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import accounts, assigning, categories, outbox, publication
from .extensions import db

outbox_cli = AppGroup("outbox", help="Deliver queued emails.")


@outbox_cli.command("send")
@click.option("--batch", default=100, show_default=True, help="Messages per SMTP connection.")
def outbox_send(batch: int) -> None:
    """Queue the notices of new assignments, deliver everything that is due now, then stop."""
    assigning.notify_new_assignments()
    db.session.commit()
    total = outbox.DeliveryReport()
    while True:
        report = outbox.deliver_due(batch)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.reset += report.reset
        total.errors += report.errors
        if report.handled < batch or report.retried or report.failed:
            break
    click.echo(f"sent {total.sent}, to retry {total.retried}, failed {total.failed}")
    for error in total.errors[:20]:
        click.echo(f"  {error}", err=True)


@outbox_cli.command("work")
@click.option("--interval", default=2.0, show_default=True, help="Seconds to wait when idle.")
@click.option("--batch", default=100, show_default=True, help="Messages per SMTP connection.")
def outbox_work(interval: float, batch: int) -> None:
    """Deliver queued emails until stopped (Ctrl-C or SIGTERM finish the current batch)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stopping = {"now": False}

    def stop(_signum, _frame) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    target = current_app.config.get("MAIL_SERVER") or current_app.config["MAIL_FILE_DIR"]
    click.echo(f"outbox worker delivering to {target}")

    outbox.work(
        interval=interval,
        batch=batch,
        should_stop=lambda: stopping["now"],
        each_round=scheduled_round,
    )


log = logging.getLogger(__name__)


def scheduled_round() -> None:
    """What the worker does before delivering, once per round: nominations close at their
    deadline, reviewers are told of their new assignments, and the embargo of an edition
    lifts at its announcement time."""
    try:
        categories.close_ended_windows()
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("closing ended nomination windows failed")
    try:
        if queued := assigning.notify_new_assignments():
            log.info("assignments: %s notices queued", queued)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("queuing assignment notices failed")
    publication.publish_due_in_worker()


@click.command("publish-due")
def publish_due_command() -> None:
    """Close ended nomination windows and publish the results of editions whose announcement
    time has come (safe every minute)."""
    for category in categories.close_ended_windows():
        click.echo(f"{category.title}: nominations closed")
    db.session.commit()
    publications = publication.publish_due()
    db.session.commit()
    refused = False
    for item in publications:
        if item.refusal:
            refused = True
            click.echo(f"{item.edition.name}: not published: {item.refusal}", err=True)
        else:
            click.echo(
                f"{item.edition.name}: {len(item.categories)} categories published, "
                f"{item.emails} emails queued"
            )
    if not publications:
        click.echo("nothing to publish")
    if refused:
        raise SystemExit(1)


@click.command("demo")
@click.option("--force", is_flag=True, help="Allow loading demo data in production mode.")
@click.option("--if-empty", is_flag=True, help="Load only into a database with no organisation.")
def demo_command(force: bool, if_empty: bool) -> None:
    """Load the demo edition (safe to run again: nothing is duplicated) and print log-ins."""
    from . import demo
    from .models import Organisation

    if current_app.config.get("PRODUCTION") and not force:
        raise click.ClickException("refusing to load demo accounts in production (use --force)")
    if if_empty and db.session.execute(select(Organisation.id).limit(1)).first():
        click.echo("The database already has data; demo data not loaded.")
        click.echo(demo.logins_text())
        return
    created = demo.load()
    db.session.commit()
    click.echo(f"Demo data: {created} new records." if created else "Demo data already loaded.")
    click.echo(demo.logins_text())


@click.command("create-secretariat")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_secretariat(email: str, name: str, password: str) -> None:
    """Create the first Secretariat account of a new installation."""
    from .models import Role, User

    try:
        email = accounts.normalise_email(email)
    except accounts.AccountError as exc:
        raise click.BadParameter(str(exc), param_hint="--email") from exc
    problem = accounts.password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    user = accounts.user_by_email(email)
    if user is None:
        user = User(email=email, name=name.strip(), language="en", timezone="UTC")
        db.session.add(user)
    user.set_password(password)
    user.email_verified_at = user.email_verified_at or outbox.utcnow()
    accounts.grant_role(user, accounts.GrantScope(Role.SECRETARIAT), granted_by=None)
    db.session.commit()
    click.echo(f"{email} is a Secretariat account.")


def register(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(create_secretariat)
    app.cli.add_command(publish_due_command)
