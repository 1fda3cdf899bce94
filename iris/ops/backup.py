"""Backup and restore: the database, the file storage and the signing keys, with a manifest.

A backup is a directory::

    manifest.json        what is inside: format, time, database kind, row counts per table,
                         the Alembic revision, and the sha256 of every other file
    database.sqlite3     SQLite: a consistent copy taken with SQLite's online backup API
    database.pgdump      PostgreSQL: ``pg_dump --format=custom`` (restored with pg_restore)
    storage/...          IRIS_STORAGE_DIR (evidence, licences, PDFs: content-addressed)
    keys/...             IRIS_SIGNING_KEY_DIR (the signing keys: keep backups private)

Taking a backup never stops the service: SQLite's backup API copies a consistent snapshot
while others write, ``pg_dump`` runs in one repeatable-read transaction, and stored files
are never changed in place (a new upload is a new file), so copying them after the database
misses nothing the database refers to.

``restore`` checks every file against the manifest first and refuses a damaged backup; it
restores only into an empty database (no rows in any table), then checks what it restored:
the row counts, every history chain (:func:`iris.core.history.verify_chains`), every
stored file against its sha256 name, the files the database refers to, and every
certificate's signed credential against the restored keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from iris.core.db import db, utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"

#: Columns that name a file in the store by its sha256: (table, column).
FILE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("evidence_documents", "sha256"),
    ("licences", "file_sha256"),
    ("certificates", "pdf_sha256"),
    ("audit_reports", "sha256"),
)


class BackupError(Exception):
    """A backup that cannot be taken or restored; the message says why."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            yield path


def _pg_url(url: sa.URL) -> str:
    """The libpq form of the SQLAlchemy URL (pg_dump and pg_restore do not know +psycopg)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_env(url: sa.URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(
            f"{cmd[0]} is not installed (PostgreSQL client tools are needed)"
        ) from exc
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def table_counts(connection: sa.Connection) -> dict[str, int]:
    existing = set(sa.inspect(connection).get_table_names())
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in existing:
            counts[table.name] = int(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
    return counts


def _alembic_revision(connection: sa.Connection) -> str | None:
    if "alembic_version" not in sa.inspect(connection).get_table_names():
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _copy_tree(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    count = 0
    for path in _files(source):
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        count += 1
    return count


@dataclass
class BackupResult:
    directory: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> int:
        return len(self.manifest["files"])


def create_backup(directory: str | os.PathLike[str]) -> BackupResult:
    """Write a backup of the database, the file storage and the keys into ``directory``."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: give a new directory for each backup")
    target.mkdir(parents=True, exist_ok=True)
    config = current_app.config
    engine = db.engine
    dialect = engine.dialect.name
    # The manifest's row counts come from the very snapshot that is backed up: the service
    # keeps writing (the verification log, the outbox) while a backup runs.
    if dialect == "sqlite":
        database = SQLITE_FILE
        _sqlite_backup(engine.url.database or "", target / SQLITE_FILE)
        copy = sa.create_engine(f"sqlite:///{target / SQLITE_FILE}")
        try:
            with copy.connect() as conn:
                counts = table_counts(conn)
                revision = _alembic_revision(conn)
        finally:
            copy.dispose()
    elif dialect == "postgresql":
        database = PG_FILE
        repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        with repeatable as conn, conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            counts = table_counts(conn)
            revision = _alembic_revision(conn)
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={target / PG_FILE}", _pg_url(engine.url)],
                _pg_env(engine.url),
            )  # fmt: skip
    else:
        raise BackupError(f"backups of {dialect} databases are not supported")
    stored = _copy_tree(Path(config["IRIS_STORAGE_DIR"]), target / "storage")
    keys = _copy_tree(Path(config["IRIS_SIGNING_KEY_DIR"]), target / "keys")
    if (target / "keys").is_dir():
        os.chmod(target / "keys", 0o700)
    manifest = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": {"dialect": dialect, "file": database, "alembic_revision": revision},
        "tables": counts,
        "storage_files": stored,
        "key_files": keys,
        "files": {str(p.relative_to(target)): sha256_file(p) for p in _files(target)},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupResult(target, manifest)


def _sqlite_backup(source: str, dest: Path) -> None:
    if not source or source == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    src = sqlite3.connect(source)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)  # the online backup API: a consistent snapshot
        finally:
            out.close()
    finally:
        src.close()


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest, after checking every file of the backup against it."""
    root = Path(directory)
    try:
        manifest: dict[str, Any] = json.loads((root / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{root} has no {MANIFEST}: not a backup") from exc
    except json.JSONDecodeError as exc:
        raise BackupError(f"{root / MANIFEST} is damaged: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    listed = manifest.get("files", {})
    present = {str(p.relative_to(root)) for p in _files(root)}
    missing = sorted(set(listed) - present)
    if missing:
        raise BackupError(f"the backup is incomplete: {missing[0]} is missing")
    extra = sorted(present - set(listed))
    if extra:
        raise BackupError(f"the backup has a file its manifest does not list: {extra[0]}")
    for name, digest in sorted(listed.items()):
        if sha256_file(root / name) != digest:
            raise BackupError(f"the backup is damaged: {name} does not match its sha256")
    return manifest


@dataclass
class RestoreReport:
    tables: dict[str, int] = field(default_factory=dict)
    records_checked: int = 0
    chains: int = 0
    files_checked: int = 0
    references_checked: int = 0
    credentials_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_backup(directory: str | os.PathLike[str]) -> RestoreReport:
    """Restore ``directory`` into this app's empty database, storage and key directories."""
    root = Path(directory)
    manifest = read_manifest(root)
    config = current_app.config
    engine = db.engine
    dialect = engine.dialect.name
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(
            f"this backup is of a {manifest['database']['dialect']} database; "
            f"the configured database is {dialect}"
        )
    with engine.connect() as conn:
        filled = {t: n for t, n in table_counts(conn).items() if n}
    if filled:
        name, n = sorted(filled.items())[0]
        raise BackupError(
            f"the database is not empty ({name} has {n} rows): restore into an empty database"
        )
    db.session.remove()
    if dialect == "sqlite":
        engine.dispose()
        _sqlite_restore(root / SQLITE_FILE, engine.url.database or "")
    else:
        engine.dispose()
        _run(
            ["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
             "--exit-on-error", f"--dbname={_pg_url(engine.url)}", str(root / PG_FILE)],
            _pg_env(engine.url),
        )  # fmt: skip
    _restore_tree(root / "storage", Path(config["IRIS_STORAGE_DIR"]))
    _restore_tree(root / "keys", Path(config["IRIS_SIGNING_KEY_DIR"]))
    return check_restored(manifest)


def _sqlite_restore(source: Path, dest: str) -> None:
    if not dest or dest == ":memory:":
        raise BackupError("cannot restore into an in-memory SQLite database")
    src = sqlite3.connect(source)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()


def _restore_tree(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    for path in _files(source):
        dest = target / path.relative_to(source)
        if dest.exists():
            if sha256_file(dest) != sha256_file(path):
                raise BackupError(f"{dest} exists with other content: not overwritten")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def check_restored(manifest: dict[str, Any]) -> RestoreReport:
    """Check the restored data: counts, history chains, stored files, credentials."""
    from iris.core import history

    report = RestoreReport()
    config = current_app.config
    with db.engine.connect() as conn:
        report.tables = table_counts(conn)
    for table, expected in manifest["tables"].items():
        got = report.tables.get(table)
        if got != expected:
            report.problems.append(f"table {table}: {got} rows restored, {expected} backed up")
    verification = history.verify_chains(db.session)
    report.records_checked, report.chains = verification.checked, verification.chains
    report.problems += [f"history: {b}" for b in verification.breaks]
    storage = Path(config["IRIS_STORAGE_DIR"])
    stored: set[str] = set()
    for path in _files(storage) if storage.is_dir() else ():
        report.files_checked += 1
        if sha256_file(path) != path.name:
            report.problems.append(f"stored file {path.name} does not match its sha256")
        stored.add(path.name)
    report.references_checked, missing = _check_references(stored)
    report.problems += missing
    report.credentials_checked, bad = _check_credentials()
    report.problems += bad
    db.session.remove()
    return report


def _check_references(stored: set[str]) -> tuple[int, list[str]]:
    existing = set(sa.inspect(db.engine).get_table_names())
    checked, problems = 0, []
    for table_name, column in FILE_COLUMNS:
        table = db.metadata.tables.get(table_name)
        if table is None or table_name not in existing or column not in table.c:
            continue
        for digest in db.session.scalars(
            sa.select(table.c[column]).where(table.c[column].is_not(None))
        ):
            checked += 1
            if digest not in stored:
                problems.append(f"{table_name}.{column}: file {digest} is not in the storage")
    return checked, problems


def _check_credentials() -> tuple[int, list[str]]:
    table = db.metadata.tables.get("certificates")
    if table is None or "credential" not in table.c:
        return 0, []
    from iris.core.signing import VerificationError, keyring_for_app, verify

    rows = db.session.execute(
        sa.select(table.c.number, table.c.credential).where(table.c.credential.is_not(None))
    ).all()
    if not rows:
        return 0, []
    ring = keyring_for_app()
    if not ring.exists():
        return 0, ["certificates are signed but no signing keys were restored"]
    jwks = ring.jwks()
    problems = []
    for number, credential in rows:
        try:
            verify(credential, jwks)
        except VerificationError as exc:
            problems.append(f"certificate {number}: {exc}")
    return len(rows), problems
