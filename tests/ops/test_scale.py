"""``flask iris demo --scale N``: the large dataset is complete, consistent and usable.

Real commits (the loader writes through its own connections, in processes of its own), so
the ``committing_db`` fixture; runs on SQLite, and on PostgreSQL with
IRIS_TEST_DATABASE_URL (COPY there). Every check reads what was written the way the
application reads it: the engine's chain verification, the registry's own entry builder,
the signing module's verifier.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from iris import create_app
from iris.accounts.models import Organisation, User
from iris.certificates.models import Certificate, CertificateCounter
from iris.certificates.numbering import parse_number
from iris.core import history
from iris.core.db import db
from iris.core.history import verify_chains
from iris.core.signing import keyring_for_app, verify
from iris.ops import scale
from iris.registry import queries
from iris.registry.models import RegistryEntry
from iris.registry.sync import entry_row
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState

N = 200

#: tables with a public id, each made by the loader
PUBLIC = (
    "organisations",
    "registration_numbers",
    "corridors",
    "sites",
    "applications",
    "certification_cases",
    "findings",
    "certificates",
)


def _schema() -> set[tuple[str, str]]:
    """Every index (and on SQLite every trigger and table), with its definition."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            )
        )
    else:
        rows = db.session.execute(sa.text("SELECT name, sql FROM sqlite_master"))
    # ANALYZE's statistics are new after a load, and wanted
    return {(name, sql or "") for name, sql in rows if not name.startswith("sqlite_stat")}


def _scale(app, n: int):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["iris", "demo", "--scale", str(n)])
    assert result.exit_code == 0, result.output
    assert f"Added {n:,} certificates" in result.output
    return result


@pytest.fixture
def scale_app(request, app, tmp_path):  # type: ignore[no-untyped-def]
    """An app whose database has one user (so ``demo --scale`` only adds) and nothing else.

    On SQLite a database of its own (the loader writes through several connections, and
    must not wait for other tests' background writers); on PostgreSQL the run's database,
    emptied afterwards (``committing_db``). ``app.config["schema_before"]``: the indexes
    before any load.
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
    app.config["schema_before"] = _schema()
    db.session.rollback()
    yield app
    limiter.enabled = limits_were_on
    if context is not None:
        db.session.remove()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def scaled(scale_app):  # type: ignore[no-untyped-def]
    """``iris demo --scale 200`` on the ``scale_app``'s database (two generating processes
    on a machine with two cores or more)."""
    _scale(scale_app, N)
    return scale_app


def _count(model, **where):  # type: ignore[no-untyped-def]
    query = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def _assert_numbering_is_gap_free() -> None:
    """Each country-year's numbers are 1..n, and its counter says n (the next is n + 1)."""
    highest: dict[tuple[str, int], int] = {}
    seen: Counter[tuple[str, int]] = Counter()
    for number in db.session.scalars(sa.select(Certificate.number)):
        parsed = parse_number(number)
        key = (parsed.country, parsed.year)
        highest[key] = max(highest.get(key, 0), parsed.sequence)
        seen[key] += 1
    assert seen == Counter(highest)  # n distinct numbers up to n: no gap
    counters = {
        (c.country, c.year): c.last_sequence
        for c in db.session.scalars(sa.select(CertificateCounter))
    }
    assert counters == highest


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
    # agencies with diacritics in their names, in several countries
    names = list(
        db.session.scalars(sa.select(Organisation.name).where(Organisation.kind == "agency"))
    )
    assert any(ch in "".join(names) for ch in "łŁóźżśćń")
    assert any("Київ" in n or "Львів" in n for n in names) or any("ü" in n for n in names)
    _assert_numbering_is_gap_free()


def test_every_history_chain_verifies_and_states_match(scaled):  # type: ignore[no-untyped-def]
    app = scaled
    result = verify_chains(db.session)
    assert result.ok, result.breaks[:3]
    assert result.checked > 10 * N  # application, case and certificate histories
    out = app.test_cli_runner().invoke(args=["iris", "verify-history"])
    assert out.exit_code == 0, out.output
    assert "Every chain is intact" in out.output
    # each subject's row names its chain's last record as its head, as the engine writes it
    # (so the engine's next step chains to it without reading the records)
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase

    records = db.metadata.tables["transition_records"]
    for kind, model in (
        ("application", Application),
        ("certification", CertificationCase),
        ("certificate", Certificate),
    ):
        last = (
            sa.select(records.c.subject_id, sa.func.max(records.c.seq).label("seq"))
            .where(records.c.subject_type == kind)
            .group_by(records.c.subject_id)
            .subquery()
        )
        heads = db.session.execute(
            sa.select(model.id, model.history_seq, model.history_hash, records.c.hash)
            .join(last, last.c.subject_id == model.id)
            .join(
                records,
                sa.and_(
                    records.c.subject_type == kind,
                    records.c.subject_id == model.id,
                    records.c.seq == last.c.seq,
                ),
            )
            .where(model.history_seq == last.c.seq)
        ).all()
        assert len(heads) == _count(model), kind
        assert all(row.history_hash == row.hash for row in heads), kind


def test_every_credential_verifies_and_carries_the_stored_facts(scaled):  # type: ignore[no-untyped-def]
    jwks = keyring_for_app(scaled).jwks()
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert len(certificates) == N
    for cert in certificates:
        facts = verify(cert.credential, jwks, typ="iris-certificate+jwt")
        assert facts == cert.facts
        assert facts["number"] == cert.number
        assert facts["holder"]["name"]


def test_registry_entries_are_what_the_registry_builds(scaled):  # type: ignore[no-untyped-def]
    """Each entry and its identifiers equal iris.registry.sync.entry_row's for the
    certificate and its history as stored (what a rebuild would write)."""
    tables = db.metadata.tables
    records: dict[int, list[object]] = {}
    for rec in db.session.execute(
        sa.select(tables["transition_records"])
        .where(tables["transition_records"].c.subject_type == "certificate")
        .order_by(tables["transition_records"].c.subject_id, tables["transition_records"].c.seq)
    ):
        records.setdefault(rec.subject_id, []).append(rec)
    stored = {
        row.certificate_id: row._asdict()
        for row in db.session.execute(sa.select(tables["registry_entries"]))
    }
    identifiers = {
        (row.identifier, row.certificate_id)
        for row in db.session.execute(sa.select(tables["registry_identifiers"]))
    }
    base_url = str(scaled.config["IRIS_BASE_URL"]).rstrip("/")
    expected_identifiers = set()
    certificates = db.session.execute(sa.select(tables["certificates"])).all()
    assert len(certificates) == N
    for cert in certificates:
        row, keys = entry_row(cert, cert.facts, records[cert.id], base_url)
        assert stored[cert.id] == row, cert.number
        expected_identifiers |= {(key, cert.id) for key in keys}
    assert identifiers == expected_identifiers


def test_the_registry_text_index_holds_every_entry(scaled):  # type: ignore[no-untyped-def]
    """Dropped for the load and made again from the entries (the registry's own functions):
    every entry's words are in the terms table, and (SQLite) its text in the FTS5 table."""
    from iris.registry.models import SEARCH_TABLE, TERMS_TABLE

    texts = list(db.session.scalars(sa.select(RegistryEntry.search_text)))
    words = sum(len({w for w in text.split() if len(w) >= 3}) for text in texts)
    assert db.session.scalar(sa.text(f"SELECT count(*) FROM {TERMS_TABLE}")) == words
    if db.engine.dialect.name == "sqlite":
        assert db.session.scalar(sa.text(f"SELECT count(*) FROM {SEARCH_TABLE}")) == len(texts)


def test_public_ids_are_random_version_4_ids(scaled):  # type: ignore[no-untyped-def]
    for name in PUBLIC:
        table = db.metadata.tables[name]
        ids = list(db.session.scalars(sa.select(table.c.public_id)))
        assert ids and len(set(ids)) == len(ids), name
        for value in random.Random(1).sample(ids, min(50, len(ids))):
            parsed = uuid.UUID(hex=value)
            assert parsed.hex == value and parsed.version == 4, (name, value)


def test_the_database_is_left_as_it_was_built(scaled):  # type: ignore[no-untyped-def]
    """The indexes dropped for the load are back, with the same definitions (and on SQLite
    the triggers; the file is back in WAL mode)."""
    assert _schema() == scaled.config["schema_before"]
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_second_load_continues_ids_numbers_and_sequences(scaled):  # type: ignore[no-untyped-def]
    app = scaled
    first_max = db.session.scalar(sa.select(sa.func.max(Certificate.id)))
    db.session.rollback()
    _scale(app, 150)
    assert _count(Certificate) == N + 150
    assert db.session.scalar(
        sa.select(sa.func.min(Certificate.id)).where(Certificate.id > first_max)
    )
    _assert_numbering_is_gap_free()
    result = verify_chains(db.session)
    assert result.ok, result.breaks[:3]
    # the application's own inserts take ids after the loaded ones (PostgreSQL sequences)
    top = db.session.scalar(sa.select(sa.func.max(Organisation.id)))
    org = Organisation(kind="agency", name="Nowa Agencja", country="PL")
    db.session.add(org)
    db.session.commit()
    assert org.id > top


def test_a_failing_part_stops_the_load_and_leaves_the_indexes(scale_app, monkeypatch):  # type: ignore[no-untyped-def]
    original = scale.Generator.certified_agency

    def fail_late(self, story):  # type: ignore[no-untyped-def]
        if self.certificates >= 50:
            raise RuntimeError("disk full (simulated)")
        return original(self, story)

    monkeypatch.setattr(scale.Generator, "certified_agency", fail_late)
    monkeypatch.setattr(scale, "CHUNK", 20)  # some chunks are written before the failure
    monkeypatch.setattr(scale, "default_workers", lambda: 2)
    result = scale_app.test_cli_runner().invoke(args=["iris", "demo", "--scale", str(N)])
    assert result.exit_code != 0
    assert "disk full (simulated)" in str(result.exception)
    db.session.rollback()
    assert _schema() == scale_app.config["schema_before"]


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


# ------------------------------------------------------------------ sealing from templates


def _generator(app):  # type: ignore[no-untyped-def]
    staff = [scale.Staff(1, "IRIS Scale Audit 001 — Łódź", "PL", {"decision_maker": 5})]
    return scale.Generator(
        rng=random.Random(1),
        now=datetime(2026, 5, 1, tzinfo=UTC),
        staff=staff,
        reviewer_id=9,
        next_ids={name: 100 for name in scale.ORDER},
        counters={},
        sign=lambda facts_json: "signed",
        kid="k",
        base_url="http://localhost",
        config=app.config,
    )


AT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
STEPS = [
    ("issue", None, "active", 5, "decision_maker", AT, None, {"number": "IRIS-PL-2025-0000011"}),
    (
        "suspend",
        "active",
        "suspended",
        5,
        "decision_maker",
        AT + timedelta(days=40),
        'Reason with "quotes", a back\\slash,\na new line and Łódź',
        {"reason_code": "misuse_of_mark", "suspension_ends_at": AT + timedelta(days=200)},
    ),
    ("expire", "suspended", "expired", None, "system", AT.replace(microsecond=0), None, None),
    (
        "note",
        "expired",
        "expired",
        None,
        "system",
        AT + timedelta(days=400),
        None,
        {"when": date(2026, 1, 2), "text": "Київ “quoted” \u2028 \x01", "n": 3, "flag": None},
    ),
]


def _chain(app):  # type: ignore[no-untyped-def]
    gen = _generator(app)
    kept: list[scale._Record] = []
    gen.chain("certificate", 42, STEPS, keep=kept)
    return gen.out["transition_records"], kept


def test_records_sealed_from_templates_are_sealed_as_the_engine_seals_them(app):  # type: ignore[no-untyped-def]
    rows, kept = _chain(app)
    columns = scale.COLUMNS["transition_records"]
    prev = None
    for row, record in zip(rows, kept, strict=True):
        stored = dict(zip(columns, row, strict=True))
        assert stored["prev_hash"] == prev
        assert stored["hash"] == history.record_hash(prev, record)
        assert json.loads(stored["payload"]) == record.payload  # what the hash covers
        assert stored["at"] == record.at.isoformat(" ", "microseconds")[:26]
        prev = stored["hash"]
    assert [r[3] for r in rows] == [1, 2, 3, 4]  # seq


def test_the_templates_follow_a_change_of_what_the_hash_covers(app, monkeypatch):  # type: ignore[no-untyped-def]
    original = history.record_content
    monkeypatch.setattr(
        history, "record_content", lambda rec: {**original(rec), "format": 2, "seq2": rec.seq}
    )
    rows, kept = _chain(app)
    prev = None
    for row, record in zip(rows, kept, strict=True):
        assert row[-1] == history.record_hash(prev, record)  # the changed engine's hash
        prev = row[-1]


@pytest.mark.parametrize(
    "changed",
    [
        # a per-record value the templates do not fill (the record's id)
        lambda original: lambda rec: {**original(rec), "id": rec.id},
        # the time written another way (whole seconds)
        lambda original: lambda rec: {**original(rec), "at": rec.at.strftime("%Y-%m-%d %H:%M:%S")},
        # the time as a number
        lambda original: lambda rec: {**original(rec), "at": rec.at.timestamp()},
    ],
)
def test_content_the_templates_cannot_fill_stops_the_loader(app, monkeypatch, changed):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(history, "record_content", changed(history.record_content))
    with pytest.raises(scale.TemplateError):
        _chain(app)


def test_datetimes_are_written_as_the_application_writes_them():
    """The text of a UTC datetime column as the model's type writes it on SQLite (and as
    PostgreSQL reads it in the loader's UTC session)."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    column_type = db.metadata.tables["certificates"].c.issued_at.type
    write = column_type.dialect_impl(dialect).bind_processor(dialect)
    rng = random.Random(3)
    start = datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)
    for _ in range(2000):
        moment = start + timedelta(
            seconds=rng.randrange(10**9), microseconds=rng.choice((0, rng.randrange(10**6)))
        )
        assert scale._ts(moment) == write(moment)
