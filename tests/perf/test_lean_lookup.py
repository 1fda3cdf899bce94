"""Verification by number's lean path on its own connection, against committed data.

Elsewhere in the suite the lean lookup is pointed at the test's uncommitted transaction;
here the data is committed and the real path answers: its private connection, the
document as stored (UTF-8 bytes, the holder's Polish letters intact), the suspension seen
as soon as it commits. On both databases (PostgreSQL's document cache off: it has tests
of its own, and its listener thread would outlive the test).
"""

from __future__ import annotations

import json

from iris.accounts.models import User
from iris.certificates.models import Certificate
from iris.core.db import db
from iris.core.workflow import fire
from iris.registry import queries
from iris.registry.models import RegistryEntry
from tests.core.workflow_world import World
from tests.factories import Factories
from workflows.certificate import CertificateState


def test_the_lean_path_answers_the_committed_document_as_stored(app, committing_db, monkeypatch):
    monkeypatch.setitem(app.config, "IRIS_REGISTRY_CACHE_SIZE", 0)
    try:
        _check_the_lean_path(app)
    finally:
        queries.close_reader()


def _check_the_lean_path(app) -> None:  # type: ignore[no-untyped-def]
    world = World(Factories(db.session), db.session)
    cert = world.certificate(CertificateState.ACTIVE)
    number, cert_id, decider_id = cert.number, cert.id, world.decider.id
    db.session.commit()
    stored = db.session.scalar(
        db.select(RegistryEntry.document).where(RegistryEntry.number == number)
    )

    document = queries._document_json_raw(number)
    assert isinstance(document, bytes) and document == stored.encode()
    assert json.loads(document)["holder"]["name"] == "Agencja Pracy Łódź"
    assert queries._document_json_raw("IRIS-PL-2020-0000000") is None

    with app.test_client() as client:
        answer = client.get(f"/api/v1/certificates/{number}")
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        assert answer.get_json()["status"] == "active"
        assert answer.get_json()["holder"]["name"] == "Agencja Pracy Łódź"

        cert, decider = db.session.get(Certificate, cert_id), db.session.get(User, decider_id)
        fire(cert, "suspend", decider, reason="Complaint upheld.", reason_code="voluntary")
        db.session.commit()
        assert client.get(f"/api/v1/certificates/{number}").get_json()["status"] == "suspended"
