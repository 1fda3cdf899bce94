"""Backup and restore: a backup restored into an empty database gives back the same data.

After the restore every history chain verifies, every stored file matches its sha256,
every certificate's credential verifies with the restored keys, and the row counts match
the manifest. A damaged backup or a database that is not empty is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from iris import create_app
from iris.core.db import db, utcnow
from iris.core.history import TransitionRecord
from iris.core.signing import KeyRing
from iris.core.storage import put_bytes
from tests import factories
from tests.conftest import PG_URL, _pg_temp_database
from tests.core.workflow_world import World
from workflows.certificate import CertificateState

PDF = b"%PDF-1.7\n% a certificate\n" + bytes(range(256))
EVIDENCE = b"%PDF-1.4\n% the KRAZ register extract of Agencja Pracy \xc5\x81\xc3\xb3d\xc5\xba\n"


@pytest.fixture
def source(app, committing_db, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The running service: a certificate signed and stored, a history, an evidence file."""
    monkeypatch.setitem(app.config, "IRIS_STORAGE_DIR", str(tmp_path / "src-storage"))
    monkeypatch.setitem(app.config, "IRIS_SIGNING_KEY_DIR", str(tmp_path / "src-keys"))
    ring = KeyRing(app.config["IRIS_SIGNING_KEY_DIR"])
    ring.generate()
    world = World(factories.Factories(db.session), db.session)
    cert = world.certificate(CertificateState.ACTIVE)
    cert.pdf_sha256 = put_bytes(PDF)
    cert.credential = ring.sign({"number": cert.number, "holder": "Agencja Pracy Łódź"})
    from iris.agencies.models import Licence

    # the agency's licence scan, really stored (the factory leaves a placeholder digest)
    db.session.execute(sa.update(Licence).values(file_sha256=put_bytes(EVIDENCE)))
    prev = None
    start = utcnow() - timedelta(days=3)
    for seq, (frm, to) in enumerate(
        [(None, "active"), ("active", "suspended"), ("suspended", "active")], start=1
    ):
        rec = TransitionRecord(
            subject_type="certificate",
            subject_id=cert.id,
            seq=seq,
            trigger="t",
            from_state=frm,
            to_state=to,
            actor_id=None,
            actor_role="system",
            at=start + timedelta(days=seq),
            reason="Łódź",
            payload={"n": seq},
        )
        rec.seal(prev)
        prev = rec.hash
        db.session.add(rec)
    db.session.commit()
    return {"number": cert.number, "agency": world.agency.name}


@pytest.fixture
def target(tmp_path) -> Iterator:  # type: ignore[no-untyped-def]
    """Another installation: an empty database, empty storage and key directories."""
    if PG_URL:
        url, admin, name = _pg_temp_database(PG_URL)
    else:
        url = "sqlite:///" + str(tmp_path / "restored.db")
    other = create_app({
        "TESTING": True, "SECRET_KEY": "other-secret", "SQLALCHEMY_DATABASE_URI": url,
        "IRIS_STORAGE_DIR": str(tmp_path / "dst-storage"),
        "IRIS_SIGNING_KEY_DIR": str(tmp_path / "dst-keys"),
    })  # fmt: skip
    yield other
    with other.app_context():
        db.engine.dispose()
    if PG_URL:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _invoke(app, args):  # type: ignore[no-untyped-def]
    # The CLI runs in the current app context if there is one: give it the target's.
    with app.app_context():
        return app.test_cli_runner().invoke(args=args)


def _backup(app, directory: Path):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["iris", "backup", "create", str(directory)])
    assert result.exit_code == 0, result.output
    return result


def test_a_backup_restored_into_an_empty_database_gives_everything_back(
    app, source, target, tmp_path
):
    backup_dir = tmp_path / "backup"
    out = _backup(app, backup_dir)
    assert "Backup written to" in out.output
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    listed = set(manifest["files"])
    assert {"database.sqlite3", "database.pgdump"} & listed
    assert any(name.startswith("storage/") for name in listed)
    assert any(name.startswith("keys/") for name in listed)
    assert manifest["tables"]["certificates"] == 1
    assert manifest["tables"]["transition_records"] == 3

    result = _invoke(target, ["iris", "backup", "restore", str(backup_dir)])
    assert result.exit_code == 0, result.output
    assert "Checked 3 transition records in 1 chains" in result.output
    assert "2 stored files, 2 file references and 1 signed certificates" in result.output
    assert "Everything restored matches the backup." in result.output
    with target.app_context():
        from iris.certificates.models import Certificate
        from iris.core.storage import read_bytes

        cert = db.session.scalar(sa.select(Certificate))
        assert cert.number == source["number"] and cert.agency.name == source["agency"]
        assert read_bytes(cert.pdf_sha256) == PDF
        reason = db.session.scalar(sa.select(TransitionRecord.reason).limit(1))
        assert reason == "Łódź"
        db.session.remove()

    # verify-history of the restored installation finds the same chain intact (it also
    # flags this test's set-up rows, made without history, so only its count is read here)
    verify = _invoke(target, ["iris", "verify-history"])
    assert "Checked 3 transition records in 1 chains." in verify.output
    assert "BROKEN" not in verify.output

    # and a second restore is refused: the database is no longer empty
    again = _invoke(target, ["iris", "backup", "restore", str(backup_dir)])
    assert again.exit_code != 0 and "not empty" in again.output


def test_a_damaged_backup_is_refused_before_anything_is_restored(app, source, target, tmp_path):
    backup_dir = tmp_path / "backup"
    _backup(app, backup_dir)
    stored = next(p for p in (backup_dir / "storage").rglob("*") if p.is_file())
    data = bytearray(stored.read_bytes())
    data[-1] ^= 1
    stored.write_bytes(bytes(data))
    result = _invoke(target, ["iris", "backup", "restore", str(backup_dir)])
    assert result.exit_code != 0
    assert "does not match its sha256" in result.output
    assert str(stored.relative_to(backup_dir)) in result.output
    assert not Path(target.config["IRIS_STORAGE_DIR"]).exists()


def test_a_backup_needs_a_new_directory_and_a_restore_a_backup(app, source, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    result = app.test_cli_runner().invoke(args=["iris", "backup", "create", str(tmp_path / "used")])
    assert result.exit_code != 0 and "is not empty" in result.output
    result = app.test_cli_runner().invoke(args=["iris", "backup", "restore", str(tmp_path)])
    assert result.exit_code != 0 and "not a backup" in result.output


def test_a_history_edited_in_the_backup_is_caught_after_restore(app, source, target, tmp_path):
    """The restore checks the chains: a record changed in the dump does not pass unnoticed."""
    with app.app_context():
        db.session.execute(
            sa.update(TransitionRecord).where(TransitionRecord.seq == 2).values(reason="rewritten")
        )
        db.session.commit()
    backup_dir = tmp_path / "backup"
    _backup(app, backup_dir)
    result = _invoke(target, ["iris", "backup", "restore", str(backup_dir)])
    assert result.exit_code != 0
    assert "history: certificate" in result.output and "was edited" in result.output
