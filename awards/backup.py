"""Backups: a consistent snapshot of the database and the uploaded files, and its restoration.

A backup is a folder ``awards-backup-<UTC time>`` holding the database (``awards.sqlite3``
made with SQLite's online backup API, or ``awards.dump`` made by ``pg_dump`` in its custom
format), an ``uploads/`` copy of the supporting files, and ``manifest.json``: when it was
made, the schema revision, the number of rows of every table and the SHA-256 of every file.

Consistency: the counts are taken from the same snapshot as the data (the copied SQLite file,
or the PostgreSQL snapshot that ``pg_dump`` is handed). Uploads are copied after the database,
and a stored file is never changed, only added or deleted; so every file the snapshot refers to
is in the copy unless it was deleted in between, which the manifest lists as missing.

Restoring only ever fills an empty instance (no rows, no uploads): it never overwrites data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 -- runs pg_dump/pg_restore by absolute path, never a shell
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL

from . import audit
from .extensions import db
from .models import Attachment, utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "awards.sqlite3"
PG_FILE = "awards.dump"
UPLOADS = "uploads"
CHUNK = 1024 * 1024


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Result:
    folder: Path
    manifest: dict[str, Any]
    # Set when pg_dump is not installed: the command to run by hand.
    pending_command: str | None = None
    warnings: list[str] = field(default_factory=list)


# --- Helpers ---------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _tables() -> list:
    return list(db.metadata.sorted_tables)


def _timestamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def _new_folder(output: Path, now: datetime) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    base = f"awards-backup-{_timestamp(now)}"
    for attempt in range(1, 100):
        folder = output / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # personal data: readable by the owner only
        return folder
    raise BackupError(f"cannot create a new folder in {output}")


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _copy_uploads(folder: Path, referenced: set[str]) -> tuple[dict[str, dict], list[str]]:
    """Copy every stored file; return their sizes and hashes, and the referenced ones missing."""
    target = folder / UPLOADS
    target.mkdir()
    files: dict[str, dict] = {}
    source = _upload_folder()
    if source.is_dir():
        for path in sorted(source.iterdir()):
            if not path.is_file() or path.is_symlink():
                continue
            shutil.copy2(path, target / path.name)
            files[path.name] = {
                "size": path.stat().st_size,
                "sha256": sha256_of(target / path.name),
            }
    return files, sorted(referenced - set(files))


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup manifest this version can read")
    return manifest


def _manifest(
    dialect: str, revision: str | None, counts: dict[str, int], now: datetime
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "dialect": dialect,
        "schema_revision": revision,
        "counts": counts,
    }


# --- Backing up ------------------------------------------------------------------------------


def backup(output: Path, now: datetime | None = None) -> Result:
    """Write a snapshot of this instance into a new folder under ``output``."""
    now = now or utcnow()
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        return _backup_sqlite(Path(output), now)
    if dialect == "postgresql":
        return _backup_postgresql(Path(output), now)
    raise BackupError(f"backups of {dialect} databases are not supported")


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("the database is not a SQLite file, so there is nothing to copy")
    return Path(url.database)


def _sqlite_counts(connection: sqlite3.Connection) -> tuple[dict[str, int], str | None]:
    """Rows per table and the schema revision, read through a plain sqlite3 connection.

    The statements are compiled by SQLAlchemy from the models' tables: no SQL is pieced
    together from strings.
    """
    dialect = sqlite_dialect.dialect()
    present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    counts = {}
    for table in _tables():
        if table.name in present:
            statement = str(select(func.count()).select_from(table).compile(dialect=dialect))
            counts[table.name] = connection.execute(statement).fetchone()[0]
    revision = None
    if "alembic_version" in present:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else None
    return counts, revision


def _backup_sqlite(output: Path, now: datetime) -> Result:
    source_path = sqlite_path(db.engine.url)
    if not source_path.exists():
        raise BackupError(f"the database file {source_path} does not exist")
    folder = _new_folder(output, now)
    snapshot = folder / SQLITE_FILE
    # The online backup API copies a consistent state, even while the application writes.
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(snapshot)
    try:
        source.backup(target)
        # One self-contained file: no -wal or -shm beside it.
        target.execute("PRAGMA journal_mode=DELETE")
        counts, revision = _sqlite_counts(target)
        referenced = {row[0] for row in target.execute("SELECT stored_name FROM attachments")}
    finally:
        target.close()
        source.close()
    os.chmod(snapshot, 0o600)
    files, missing = _copy_uploads(folder, referenced)
    manifest = _manifest("sqlite", revision, counts, now)
    manifest["database"] = {
        "file": SQLITE_FILE,
        "size": snapshot.stat().st_size,
        "sha256": sha256_of(snapshot),
    }
    manifest["uploads"] = files
    manifest["missing_uploads"] = missing
    _write_manifest(folder, manifest)
    return Result(folder, manifest, warnings=_missing_warnings(missing))


def _missing_warnings(missing: list[str]) -> list[str]:
    return [f"stored file {name} is referenced but was not found in uploads" for name in missing]


def libpq_arguments(url: URL) -> tuple[str, dict[str, str]]:
    """The connection string for pg_dump/pg_restore, and the environment with the password.

    The password goes in PGPASSWORD, never on the command line where ``ps`` would show it.
    """
    from psycopg.conninfo import make_conninfo

    parts = {
        key: str(value)
        for key, value in (
            ("host", url.host),
            ("port", url.port),
            ("user", url.username),
            ("dbname", url.database),
        )
        if value
    }
    environment = {"PGPASSWORD": url.password} if url.password else {}
    return make_conninfo(**parts), environment


def pg_dump_arguments(url: URL, dump: Path, snapshot: str | None = None) -> list[str]:
    conninfo, _environment = libpq_arguments(url)
    arguments = ["--format=custom", "--no-owner", "--no-privileges", "--file", str(dump)]
    if snapshot:
        arguments.append(f"--snapshot={snapshot}")
    return [*arguments, "--dbname", conninfo]


def pg_dump_command_text(url: URL, dump: Path) -> str:
    """The exact command to run by hand where pg_dump is not installed."""
    import shlex

    prefix = "PGPASSWORD='<the database password>' " if url.password else ""
    return prefix + shlex.join(["pg_dump", *pg_dump_arguments(url, dump)])


def _run(program: str, arguments: list[str], environment: dict[str, str]) -> None:
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} is not installed (install the PostgreSQL client tools)")
    completed = subprocess.run(  # noqa: S603  # nosec B603 -- fixed program, no shell
        [executable, *arguments],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BackupError(f"{program} failed: {completed.stderr.strip() or completed.returncode}")


def _pg_counts(connection: Connection) -> tuple[dict[str, int], str | None]:
    present = set(inspect(connection).get_table_names())
    counts = {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in _tables()
        if table.name in present
    }
    revision = None
    if "alembic_version" in present:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return counts, revision


def _backup_postgresql(output: Path, now: datetime) -> Result:
    url = db.engine.url
    folder = _new_folder(output, now)
    dump = folder / PG_FILE
    pending = None
    with db.engine.connect() as connection:
        # One snapshot for the counts and for pg_dump, so both describe the same moment.
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts, revision = _pg_counts(connection)
            referenced = set(connection.execute(select(Attachment.stored_name)).scalars())
            if shutil.which("pg_dump") is None:
                pending = pg_dump_command_text(url, dump)
            else:
                _conninfo, environment = libpq_arguments(url)
                _run("pg_dump", pg_dump_arguments(url, dump, snapshot), environment)
    files, missing = _copy_uploads(folder, referenced)
    manifest = _manifest("postgresql", revision, counts, now)
    if pending is None:
        os.chmod(dump, 0o600)
        manifest["database"] = {
            "file": PG_FILE,
            "size": dump.stat().st_size,
            "sha256": sha256_of(dump),
        }
    else:
        # The counts describe the moment of this run; a dump made later may differ.
        manifest["database"] = {"file": PG_FILE, "pending_command": pending}
    manifest["uploads"] = files
    manifest["missing_uploads"] = missing
    _write_manifest(folder, manifest)
    return Result(folder, manifest, pending_command=pending, warnings=_missing_warnings(missing))


# --- Restoring -------------------------------------------------------------------------------


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest names is there, with the bytes it had when backed up."""
    database = manifest.get("database") or {}
    path = folder / str(database.get("file", ""))
    if not database.get("file") or not path.is_file():
        raise BackupError(f"the database file {path} is missing from the backup")
    if database.get("sha256") and sha256_of(path) != database["sha256"]:
        raise BackupError(f"{path} does not match its checksum in the manifest: it is damaged")
    for name, info in (manifest.get("uploads") or {}).items():
        stored = folder / UPLOADS / name
        if Path(name).name != name or not stored.is_file():
            raise BackupError(f"the uploaded file {name} is missing from the backup")
        if sha256_of(stored) != info.get("sha256"):
            raise BackupError(f"the uploaded file {name} does not match its checksum")


def instance_problems() -> list[str]:
    """Why this instance is not empty (rows in a table, files in the uploads folder)."""
    problems = []
    with db.engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        for table in _tables():
            if table.name in present:
                rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
                if rows:
                    problems.append(f"table {table.name} has {rows} rows")
    uploads = _upload_folder()
    if uploads.is_dir() and any(uploads.iterdir()):
        problems.append(f"the uploads folder {uploads} is not empty")
    return problems


def restore(folder: Path, report: Callable[[str], None] = lambda _line: None) -> dict[str, int]:
    """Fill this empty instance from a backup folder; returns the rows per table found after.

    Refuses a damaged backup, one of another kind of database, and an instance that holds
    anything. On success an audit event records the restoration.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    dialect = db.engine.dialect.name
    if manifest.get("dialect") != dialect:
        raise BackupError(
            f"this backup is of a {manifest.get('dialect')} database and this instance uses "
            f"{dialect}; restore it into an instance of the same kind"
        )
    _check_files(folder, manifest)
    problems = instance_problems()
    if problems:
        raise BackupError(
            "restoring only fills an empty instance, and this one is not: "
            + "; ".join(problems)
            + ". Point AWARDS_INSTANCE_PATH (or DATABASE_URL and UPLOAD_FOLDER) at a new one."
        )
    db.session.remove()
    db.engine.dispose()  # no connection of ours may hold the database while it is replaced
    if dialect == "sqlite":
        _restore_sqlite(folder / manifest["database"]["file"])
    else:
        _restore_postgresql(folder / manifest["database"]["file"])
    report("database restored")
    uploads = _upload_folder()
    uploads.mkdir(parents=True, exist_ok=True)
    for name, info in (manifest.get("uploads") or {}).items():
        target = uploads / name
        shutil.copy2(folder / UPLOADS / name, target)
        os.chmod(target, 0o600)
        if sha256_of(target) != info["sha256"]:
            raise BackupError(f"{target} was not copied intact")
    report(f"{len(manifest.get('uploads') or {})} uploaded files restored")
    with db.engine.connect() as connection:
        counts = (
            _pg_counts(connection)[0]
            if dialect == "postgresql"
            else _sqlite_counts(connection.connection.driver_connection)[0]
        )
    differences = {
        name: (expected, counts.get(name))
        for name, expected in manifest["counts"].items()
        if counts.get(name) != expected
    }
    if differences:
        raise BackupError(f"the restored rows differ from the manifest: {differences}")
    audit.record(
        "backup.restored",
        None,
        f"Restored from the backup of {manifest['created_at']}",
        backup=folder.name,
        schema_revision=manifest.get("schema_revision"),
    )
    db.session.commit()
    return counts


def _restore_sqlite(snapshot: Path) -> None:
    target_path = sqlite_path(db.engine.url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{snapshot.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)  # replaces every page of the (empty) target
    finally:
        target.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    conninfo, environment = libpq_arguments(db.engine.url)
    # --clean drops the empty tables a `db upgrade` may have made, inside the one transaction.
    arguments = [
        "--no-owner",
        "--no-privileges",
        "--clean",
        "--if-exists",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        conninfo,
        str(dump),
    ]
    _run("pg_restore", arguments, environment)
