"""Backups: a snapshot of the database and the uploads, restored into an empty instance where
everything is found again (SQLite always; PostgreSQL when the suite runs on it and the client
tools are installed)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from awards import accounts, audit, backup, create_app, uploads
from awards.extensions import db
from awards.models import (
    Answer,
    Attachment,
    AuditEvent,
    Bid,
    BidLevel,
    CategoryState,
    NominationState,
    Organisation,
    OrganisationKind,
    Question,
    QuestionKind,
    Review,
    ReviewState,
    Role,
    Score,
    utcnow,
)

from .conftest import TEST_CONFIG, Browser, IsolatedClient
from .factories import (
    PASSWORD,
    assign,
    conflict,
    grant,
    make_category,
    make_criterion,
    make_edition,
    make_nomination,
    make_org,
    make_user,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256)) * 40


def build_data() -> dict:
    """Users, a category, nominations with an attachment, a review, a conflict, a bid, an email."""
    edition = make_edition(opens=utcnow() - timedelta(days=60))
    category = make_category(make_org("ITU"), edition, state=CategoryState.IN_REVIEW)
    question = Question(
        category=category,
        kind=QuestionKind.FILE,
        label="Evidence",
        options={"allowed_types": ["pdf"], "max_size_mb": 2},
    )
    title = Question(category=category, kind=QuestionKind.SHORT_TEXT, label="Title", position=1)
    db.session.add_all([question, title])
    criterion = make_criterion(category, "Impact", (1, 5))
    nominator = make_user("nina@example.org", name="Nina Nominator")
    reviewer = make_user("rex@example.org", name="Rex Reviewer")
    grant(reviewer, Role.REVIEWER, category=category)
    grant(make_user("sec@example.org"), Role.SECRETARIAT)
    nomination = make_nomination(category, nominator, state=NominationState.ELIGIBLE)
    db.session.add(Answer(nomination=nomination, question_id=title.id, value="Città pulita ♻"))
    attachment = uploads.save_upload(
        nomination, question, FileStorage(io.BytesIO(PDF), "evidence.pdf"), nominator
    )
    make_nomination(category, make_user(), state=NominationState.DRAFT, nominee_name="Second")
    db.session.add(
        Review(
            assignment=assign(reviewer, nomination),
            state=ReviewState.SUBMITTED,
            comments="Strong.",
            submitted_at=utcnow(),
            scores=[Score(criterion_id=criterion.id, scale_min=1, scale_max=5, value=5)],
        )
    )
    other = make_nomination(category, make_user(), state=NominationState.ELIGIBLE)
    conflict(reviewer, other)
    db.session.add(Bid(reviewer_id=reviewer.id, nomination_id=nomination.id, level=BidLevel.EAGER))
    accounts.request_password_reset("nina@example.org")
    audit.record("backup.test", nomination, "built for the backup test")
    db.session.commit()
    return {
        "nomination_id": nomination.id,
        "reference": nomination.reference,
        "attachment_id": attachment.id,
        "stored_name": attachment.stored_name,
        "sha256": attachment.sha256,
    }


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def fresh_app(monkeypatch, instance: Path, **config):
    """A new instance, as a new deployment would start: its own folder, defaults from it."""
    monkeypatch.setenv("AWARDS_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True, **config})
    app.test_client_class = IsolatedClient
    return app


def invoke(app, *args: str):
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def source(monkeypatch, tmp_path):
    """A migrated SQLite instance holding the data, whatever database the suite runs on."""
    app = fresh_app(monkeypatch, tmp_path / "source")
    with app.app_context():
        upgrade()
        expected = build_data()
        expected["counts"] = row_counts()
        expected["revision"] = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.remove()
    yield app, expected
    with app.app_context():
        db.engine.dispose()


def made_backup(app, output: Path) -> Path:
    result = invoke(app, "backup", "--output", str(output))
    assert result.exit_code == 0, result.output
    match = re.search(r"Backup written to (\S+)", result.output)
    assert match, result.output
    return Path(match.group(1))


# --- SQLite ----------------------------------------------------------------------------------


def test_sqlite_backup_restores_into_a_fresh_instance(monkeypatch, tmp_path, source):
    app, expected = source
    folder = made_backup(app, tmp_path / "backups")
    assert re.fullmatch(r"awards-backup-\d{8}T\d{6}Z", folder.name)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["dialect"] == "sqlite" and manifest["schema_revision"] == expected["revision"]
    assert expected["revision"]
    assert manifest["counts"] == expected["counts"]
    assert manifest["counts"]["attachments"] == 1 and manifest["counts"]["outbox_messages"] == 1
    assert manifest["uploads"][expected["stored_name"]]["sha256"] == expected["sha256"]
    assert manifest["missing_uploads"] == []
    assert (
        not list(folder.glob("*-wal")) and (folder / "uploads" / expected["stored_name"]).exists()
    )

    restored = fresh_app(monkeypatch, tmp_path / "restored")
    result = invoke(restored, "restore", str(folder))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "db upgrade" in result.output
    with restored.app_context():
        counts = row_counts()
        assert counts == {
            **expected["counts"],
            "audit_events": expected["counts"]["audit_events"] + 1,
        }
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "backup.restored")
        ).scalar_one()
        assert folder.name in json.dumps(event.detail)
        attachment = db.session.get(Attachment, expected["attachment_id"])
        assert uploads.stored_path(attachment).read_bytes() == PDF
        answer = db.session.execute(select(Answer)).scalar_one()
        assert answer.value == "Città pulita ♻"
        # The restored instance works: the nominator logs in and downloads her file.
        browser = Browser(restored.test_client())
        assert browser.login("nina@example.org", PASSWORD).status_code == 302
        url = f"/nominations/{expected['nomination_id']}/attachments/{attachment.id}"
        response = browser.get(url)
        assert response.status_code == 200 and response.data == PDF
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_an_instance_that_holds_data(monkeypatch, tmp_path, source):
    app, _expected = source
    folder = made_backup(app, tmp_path / "backups")
    result = invoke(app, "restore", str(folder))
    assert result.exit_code != 0
    assert "only fills an empty instance" in result.output and "table users has" in result.output
    # A migrated but empty instance is accepted, but not one with a stray uploaded file.
    target = fresh_app(monkeypatch, tmp_path / "target")
    with target.app_context():
        upgrade()
        folder_uploads = Path(target.config["UPLOAD_FOLDER"])
        folder_uploads.mkdir(parents=True)
        (folder_uploads / "stray").write_bytes(b"x")
    result = invoke(target, "restore", str(folder))
    assert result.exit_code != 0 and "uploads folder" in result.output
    (folder_uploads / "stray").unlink()
    result = invoke(target, "restore", str(folder))
    assert result.exit_code == 0, result.output
    with target.app_context():
        assert db.session.scalar(select(func.count(Organisation.id))) == 1
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("damage", ["database", "upload", "manifest", "dialect", "missing"])
def test_restore_refuses_a_damaged_backup(monkeypatch, tmp_path, source, damage):
    app, expected = source
    folder = made_backup(app, tmp_path / "backups")
    manifest_path = folder / "manifest.json"
    if damage == "database":
        with open(folder / "awards.sqlite3", "r+b") as handle:
            handle.seek(200)
            handle.write(b"\xff\xfe")
        message = "does not match its checksum"
    elif damage == "upload":
        (folder / "uploads" / expected["stored_name"]).write_bytes(b"%PDF-changed")
        message = "does not match its checksum"
    elif damage == "manifest":
        manifest_path.write_text("{not json")
        message = "cannot be read"
    elif damage == "dialect":
        manifest = json.loads(manifest_path.read_text())
        manifest["dialect"] = "postgresql"
        manifest_path.write_text(json.dumps(manifest))
        message = "restore it into an instance of the same kind"
    else:
        (folder / "uploads" / expected["stored_name"]).unlink()
        message = "is missing from the backup"
    target = fresh_app(monkeypatch, tmp_path / "target")
    result = invoke(target, "restore", str(folder))
    assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "target" / "awards.sqlite3").exists()


def test_restore_of_a_folder_that_is_not_a_backup(monkeypatch, tmp_path):
    target = fresh_app(monkeypatch, tmp_path / "target")
    (tmp_path / "empty").mkdir()
    result = invoke(target, "restore", str(tmp_path / "empty"))
    assert result.exit_code != 0 and "is not a backup" in result.output


def test_the_snapshot_leaves_out_what_is_not_committed(tmp_path, source):
    app, expected = source
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO organisations (name, short_name, kind, mandate, created_at) "
            "VALUES ('Half written', 'HALF', 'member', '', '2027-01-01 00:00:00')"
        )
        folder = made_backup(app, tmp_path / "backups")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["organisations"] == expected["counts"]["organisations"]


def test_a_missing_stored_file_is_reported(tmp_path, source):
    app, expected = source
    (Path(app.config["UPLOAD_FOLDER"]) / expected["stored_name"]).unlink()
    result = invoke(app, "backup", "--output", str(tmp_path / "backups"))
    assert result.exit_code == 0
    assert f"warning: stored file {expected['stored_name']} is referenced" in result.output


def test_backups_go_to_the_instance_folder_by_default(tmp_path, source):
    app, _expected = source
    result = invoke(app, "backup")
    assert result.exit_code == 0, result.output
    assert f"Backup written to {tmp_path / 'source' / 'backups'}/awards-backup-" in result.output


# --- PostgreSQL ------------------------------------------------------------------------------


def test_the_pg_dump_command_keeps_the_password_off_the_command_line():
    url = make_url("postgresql+psycopg://awards:s3cret@db.internal:5433/awards")
    command = backup.pg_dump_command_text(url, Path("/srv/backups/x/awards.dump"))
    assert command.startswith("PGPASSWORD='<the database password>' pg_dump --format=custom")
    assert "--file /srv/backups/x/awards.dump" in command
    assert "host=db.internal" in command and "port=5433" in command and "dbname=awards" in command
    assert "s3cret" not in command
    conninfo, environment = backup.libpq_arguments(url)
    assert environment == {"PGPASSWORD": "s3cret"} and "s3cret" not in conninfo


needs_postgresql = pytest.mark.skipif(
    not TEST_CONFIG["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"),
    reason="the suite runs on SQLite (set TEST_DATABASE_URL to a PostgreSQL database)",
)
needs_pg_tools = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
    reason="pg_dump and pg_restore are not installed",
)


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database beside the test database, dropped afterwards."""
    url = make_url(TEST_CONFIG["SQLALCHEMY_DATABASE_URI"])
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@needs_postgresql
@needs_pg_tools
def test_postgresql_backup_restores_into_a_scratch_database(
    app, monkeypatch, tmp_path, scratch_database
):
    expected = build_data()
    counts = row_counts()
    db.session.remove()
    folder = made_backup(app, tmp_path / "backups")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["dialect"] == "postgresql" and manifest["counts"] == counts
    assert (folder / "awards.dump").read_bytes()[:5] == b"PGDMP"
    assert manifest["database"]["sha256"] == backup.sha256_of(folder / "awards.dump")

    restored = fresh_app(
        monkeypatch,
        tmp_path / "restored",
        SQLALCHEMY_DATABASE_URI=scratch_database,
    )
    with restored.app_context():
        upgrade()  # an instance whose schema exists but holds nothing is empty too
    result = invoke(restored, "restore", str(folder))
    assert result.exit_code == 0, result.output
    with restored.app_context():
        assert row_counts() == {**counts, "audit_events": counts["audit_events"] + 1}
        attachment = db.session.get(Attachment, expected["attachment_id"])
        assert uploads.stored_path(attachment).read_bytes() == PDF
        kinds = db.session.scalars(select(Organisation.kind)).all()
        assert kinds == [OrganisationKind.MEMBER]
        # Sequences came along: a new row takes a fresh id.
        db.session.add(Organisation(name="New", short_name="NEW", kind=OrganisationKind.MEMBER))
        db.session.commit()
        result = invoke(restored, "restore", str(folder))
        assert result.exit_code != 0 and "only fills an empty instance" in result.output
        db.session.remove()
        db.engine.dispose()


@needs_postgresql
def test_without_pg_dump_the_command_to_run_is_printed(app, monkeypatch, tmp_path):
    build_data()
    db.session.remove()
    real_which = shutil.which
    monkeypatch.setattr(
        backup.shutil, "which", lambda name: None if name == "pg_dump" else real_which(name)
    )
    result = invoke(app, "backup", "--output", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output
    assert "pg_dump is not installed here" in result.output
    assert "pg_dump --format=custom --no-owner --no-privileges --file" in result.output
    [folder] = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["pending_command"].startswith("pg_dump")
    assert len(manifest["uploads"]) == 1
    assert os.listdir(folder / "uploads")
