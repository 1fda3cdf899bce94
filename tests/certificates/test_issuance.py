"""Issuing a certificate inside the grant: number, credential, PDF, registry, all or nothing."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from iris.certificates import numbering
from iris.certificates.models import Certificate, CertificateCounter
from iris.certificates.operations import IssuanceError, allocate_number
from iris.core import signing, storage
from iris.core.signing import keyring_for_app
from iris.registry.models import RegistryEntry
from tests.core.workflow_world import world  # noqa: F401  (fixture)


def test_grant_issues_a_signed_certificate_with_its_pdf(world, db_session):  # noqa: F811
    cert = world.journey()["certificate"]
    assert numbering.is_valid(cert.number)
    assert cert.number.startswith(f"IRIS-{world.agency.country}-{world.now.year}-")
    assert cert.expires_at.year == world.now.year + 3  # IRIS_CERT_VALIDITY_YEARS

    # The credential verifies against the published keys and states the certificate's facts.
    jwks = keyring_for_app().jwks()
    facts = signing.verify(cert.credential, jwks, typ="iris-certificate+jwt")
    assert facts == cert.facts
    assert facts["number"] == cert.number
    assert facts["holder"]["name"] == "Agencja Pracy Łódź"
    assert facts["audit_company"]["name"] == "Cert Audit Sp. z o.o."
    assert facts["expires_at"] == cert.expires_at.date().isoformat()
    assert facts["verify_url"].endswith(f"/verify/{cert.number}")

    # The PDF is stored by its sha256 and carries the same credential.
    pdf = storage.read_bytes(cert.pdf_sha256)
    assert storage.sha256_hex(pdf) == cert.pdf_sha256
    (attached,) = PdfReader(io.BytesIO(pdf)).attachments[f"{cert.number}.jws"]
    assert attached.decode() == cert.credential

    # The registry shows it at once, with the same credential.
    entry = db_session.get(RegistryEntry, cert.id)
    assert entry.state == "active" and entry.number == cert.number
    assert '"credential":"' + cert.credential in entry.document


def test_numbers_are_gap_free_per_country_and_year(app, db_session):
    numbers = [allocate_number(db_session, "PL", 2031) for _ in range(3)]
    numbers.append(allocate_number(db_session, "UA", 2031))
    numbers.append(allocate_number(db_session, "PL", 2032))
    assert [numbering.parse_number(n) for n in numbers] == [
        ("PL", 2031, 1), ("PL", 2031, 2), ("PL", 2031, 3), ("UA", 2031, 1), ("PL", 2032, 1)
    ]  # fmt: skip


def test_a_failing_issuance_rolls_the_grant_back_and_frees_the_number(
    world,  # noqa: F811
    db_session,
    monkeypatch,
):
    from iris.certificates import operations
    from iris.core.pdf import PdfError

    case = world.journey(until="decision_pending")["case"]
    counters_before = db_session.scalar(sa.select(sa.func.count()).select_from(CertificateCounter))

    def broken(*args, **kwargs):
        raise PdfError("template exploded")

    monkeypatch.setattr(operations, "render_certificate", broken)
    from iris.core.workflow import fire

    savepoint = db_session.begin_nested()
    with pytest.raises(IssuanceError) as err:
        fire(case, "grant", world.decider, now=world.now)
    assert err.value.status == 503
    assert "could not be produced" in err.value.message
    savepoint.rollback()
    db_session.expire_all()

    assert str(case.state) == "decision_pending"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(RegistryEntry)) == 0
    assert (
        db_session.scalar(sa.select(sa.func.count()).select_from(CertificateCounter))
        == counters_before
    )

    monkeypatch.undo()
    fire(case, "grant", world.decider, now=world.now)
    issued = db_session.scalar(sa.select(Certificate).where(Certificate.case_id == case.id))
    assert numbering.parse_number(issued.number).sequence == 1  # nothing skipped


def test_without_a_key_ring_the_grant_says_what_to_do(world, db_session, app, tmp_path):  # noqa: F811
    from iris.core.workflow import fire

    case = world.journey(until="decision_pending")["case"]
    saved = {k: app.config[k] for k in ("IRIS_SIGNING_KEY_DIR", "IRIS_SIGNING_AUTOGENERATE")}
    app.config.update(IRIS_SIGNING_KEY_DIR=str(tmp_path / "none"), IRIS_SIGNING_AUTOGENERATE=False)
    try:
        with pytest.raises(IssuanceError, match="keys generate"):
            fire(case, "grant", world.decider, now=world.now)
    finally:
        app.config.update(saved)


def test_concurrent_grants_get_distinct_gap_free_numbers(app, committing_db):
    """50 transactions allocate at once; each commits after a pause that widens the race."""
    from iris.core.db import db

    threads, numbers, errors = [], [], []
    barrier = threading.Barrier(50 if committing_db.engine.dialect.name == "postgresql" else 8)

    def grant() -> None:
        with app.app_context():
            session = db.session()
            try:
                barrier.wait(timeout=30)
                number = allocate_number(session, "PL", 2040)
                session.commit()
                numbers.append(number)
            except Exception as exc:  # pragma: no cover - reported below
                session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    for _ in range(barrier.parties):
        threads.append(threading.Thread(target=grant))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    sequences = sorted(numbering.parse_number(n).sequence for n in numbers)
    assert sequences == list(range(1, barrier.parties + 1))
