"""``flask iris demo --scale N``: the large dataset is complete, consistent and usable.

Real commits (the loader writes through its own connection in chunks), so the
``committing_db`` fixture; runs on SQLite, and on PostgreSQL with IRIS_TEST_DATABASE_URL
(COPY there).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import sqlalchemy as sa

from iris import create_app
from iris.accounts.models import User
from iris.certificates.models import Certificate, CertificateCounter
from iris.certificates.numbering import parse_number
from iris.core.db import db
from iris.core.history import verify_chains
from iris.core.signing import keyring_for_app, verify
from iris.registry import queries
from iris.registry.models import RegistryEntry
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState

N = 200


@pytest.fixture
def scaled(request, app, tmp_path):  # type: ignore[no-untyped-def]
    """``iris demo --scale 200`` on a database with one user already (so it only adds).

    On SQLite a database of its own (the loader writes through several connections, and
    must not wait for other tests' background writers); on PostgreSQL the run's database,
    emptied afterwards (``committing_db``).
    """
    from iris.extensions import limiter

    limits_were_on = limiter.enabled  # create_app() sets the shared limiter's switch
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret-key",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'scale.db'}",
                "SERVER_NAME": "localhost",
                "IRIS_STORAGE_DIR": str(tmp_path / "storage"),
                "IRIS_SIGNING_KEY_DIR": str(tmp_path / "keys"),
                "IRIS_SMTP_URL": "",
                "RATELIMIT_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
            }
        )
        context = app.app_context()
        context.push()
        db.create_all()
    else:
        request.getfixturevalue("committing_db")
        context = None
    db.session.add(User(email="existing@example.com", name="Existing", locale="en"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["iris", "demo", "--scale", str(N)])
    assert result.exit_code == 0, result.output
    assert f"Added {N:,} certificates" in result.output
    yield app
    limiter.enabled = limits_were_on
    if context is not None:
        db.session.remove()
        db.engine.dispose()
        context.pop()


def _count(model, **where):  # type: ignore[no-untyped-def]
    query = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def test_every_state_is_present_and_the_counts_add_up(scaled):  # type: ignore[no-untyped-def]
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase

    states = Counter(db.session.scalars(sa.select(Certificate.state)))
    assert sum(states.values()) == N
    assert set(states) == set(CertificateState)  # active, suspended, ... cancelled
    assert states[CertificateState.ACTIVE] > N / 2  # mostly active
    assert set(db.session.scalars(sa.select(Application.state).distinct())) == set(ApplicationState)
    assert set(db.session.scalars(sa.select(CertificationCase.state).distinct())) == set(CaseState)
    # one registry entry per certificate, the same status
    assert _count(RegistryEntry) == N
    mismatched = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RegistryEntry)
        .join(Certificate, Certificate.id == RegistryEntry.certificate_id)
        .where(RegistryEntry.state != Certificate.state)
    )
    assert mismatched == 0
    # a superseded certificate's successor replaces it, with the original issue date kept
    old = db.session.scalar(
        sa.select(Certificate).where(Certificate.state == CertificateState.SUPERSEDED).limit(1)
    )
    new = db.session.scalar(sa.select(Certificate).where(Certificate.replaces_id == old.id))
    assert new is not None and new.original_issued_at == old.original_issued_at
    # numbering continues after the loaded numbers: each counter is its highest sequence
    highest: dict[tuple[str, int], int] = {}
    for number in db.session.scalars(sa.select(Certificate.number)):
        parsed = parse_number(number)
        key = (parsed.country, parsed.year)
        highest[key] = max(highest.get(key, 0), parsed.sequence)
    counters = {
        (c.country, c.year): c.last_sequence
        for c in db.session.scalars(sa.select(CertificateCounter))
    }
    assert counters == highest
    # and each country-year sequence is gap-free
    by_key = Counter(
        (parse_number(n).country, parse_number(n).year)
        for n in db.session.scalars(sa.select(Certificate.number))
    )
    assert by_key == Counter(highest)


def test_every_history_chain_verifies_and_states_match(scaled):  # type: ignore[no-untyped-def]
    app = scaled
    result = verify_chains(db.session)
    assert result.ok, result.breaks[:3]
    assert result.checked > 10 * N  # application, case and certificate histories
    out = app.test_cli_runner().invoke(args=["iris", "verify-history"])
    assert out.exit_code == 0, out.output
    assert "Every chain is intact" in out.output


def test_public_channels_find_the_certificates(scaled):  # type: ignore[no-untyped-def]
    app = scaled
    cert = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.state == CertificateState.SUSPENDED)
        .order_by(Certificate.id)
        .limit(1)
    )
    # the API answers the stored document, with the status and a credential that verifies
    client = app.test_client()
    response = client.get(f"/api/v1/certificates/{cert.number}")
    assert response.status_code == 200
    document = response.get_json()
    assert document["status"] == "suspended"
    assert document["history"][-1]["event"] == "suspend"
    jwks = keyring_for_app(app).jwks()
    facts = verify(document["credential"], jwks, typ="iris-certificate+jwt")
    assert facts["number"] == cert.number
    assert facts["holder"]["name"] == document["holder"]["name"]
    # the registry search finds names with diacritics without them, and registration numbers
    with app.test_request_context():
        polish = queries.search(queries.Filters(q="lodz"), per_page=5)
        assert polish.total > 0
        assert all("Łódź" in e.name or "Łódź" in e.city for e in polish.items)
        holder = json.loads(
            db.session.scalar(
                sa.select(RegistryEntry.document).where(RegistryEntry.number == cert.number)
            )
        )["holder"]
        reg = next(iter(holder["registration_numbers"].values()))
        found = queries.search(queries.Filters(q=reg))
        assert cert.number in {e.number for e in found.items}
        by_status = queries.search(queries.Filters(status="withdrawn"))
        assert by_status.total == _count(Certificate, state=CertificateState.WITHDRAWN)


def test_scale_staff_can_sign_in_and_see_their_queue(scaled):  # type: ignore[no-untyped-def]
    from iris.audits.models import CertificationCase
    from tests.helpers import Browser

    app = scaled
    planner = db.session.scalar(
        sa.select(User).where(User.email == "scale-001-planner@example.com")
    )
    company_id = planner.memberships[0].organisation_id
    cases = _count(CertificationCase, audit_company_id=company_id)
    db.session.rollback()  # end this session's read before the app writes (SQLite)
    with app.test_client() as raw:
        browser = Browser(raw)
        response = browser.post(
            "/login",
            {"email": "scale-001-planner@example.com", "password": "demo-password-1"},
        )
        assert response.status_code == 302
        queue = browser.get("/audit/cases")
        assert queue.status_code == 200
        assert f"{cases}" in queue.get_data(as_text=True)  # the queue's total
