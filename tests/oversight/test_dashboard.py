"""The scheme oversight dashboard: the numbers a scheme admin reads, and a fixed query count."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from babel import Locale

from iris.certificates.models import Certificate
from iris.core.db import db, utcnow
from iris.core.history import TransitionRecord
from tests.core.workflow_world import World
from tests.helpers import text_of
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.roles import OrgKind, Role


@pytest.fixture
def world(make, db_session) -> World:  # type: ignore[no-untyped-def]
    return World(make, db_session)


def _chain(subject_type: str, subject_id: int, steps: list[tuple[str, float]], start) -> None:  # type: ignore[no-untyped-def]
    """Transition records: (state entered, days after ``start``), sealed like the engine's."""
    prev_state, prev_hash = None, None
    for seq, (state, days) in enumerate(steps, start=1):
        rec = TransitionRecord(
            subject_type=subject_type,
            subject_id=subject_id,
            seq=seq,
            trigger="t",
            from_state=prev_state,
            to_state=state,
            actor_id=None,
            actor_role="system",
            at=start + timedelta(days=days),
            reason=None,
            payload={},
        )
        rec.seal(prev_hash)
        db.session.add(rec)
        prev_state, prev_hash = state, rec.hash
    db.session.flush()


@contextmanager
def count_queries():  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def before(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def _row(text: str, label: str) -> str:
    m = re.search(re.escape(label) + r" ([\d.–]+(?: [\d.–]+)*)", text)
    assert m, f"{label!r} not in page"
    return m.group(1)


def test_the_scheme_admin_reads_states_delays_and_overdue_work(client, login_as, world):
    start = utcnow() - timedelta(days=100)
    a1 = world.application(ApplicationState.ACCEPTED)
    a2 = world.application(
        ApplicationState.UNDER_REVIEW, review_due_at=utcnow() - timedelta(days=3)
    )
    world.application(ApplicationState.SUBMITTED)
    # submitted for 4 and 6 days (median 5), under review for 10 days
    _chain(
        "application",
        a1.id,
        [("draft", 0), ("submitted", 1), ("under_review", 5), ("accepted", 15)],
        start,
    )
    _chain("application", a2.id, [("draft", 0), ("submitted", 2), ("under_review", 8)], start)
    case = world.case(
        CaseState.FINDINGS_ISSUED, findings="open", cap_due_at=utcnow() - timedelta(days=1)
    )
    for finding in case.findings:
        finding.due_at = case.cap_due_at
    db.session.flush()
    login_as(Role.SCHEME_ADMIN)

    resp = client.get("/oversight/")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "Applications by state" in page and "Certification cases by state" in page
    html = resp.get_data(as_text=True)
    assert html.count("<svg") >= 3 and 'style="' not in html
    # the tables beside the charts: counts by state, medians (days, stays, in it now)
    apps_table = page.partition("Applications by state")[2]
    assert _row(apps_table, "Under review").startswith("1")
    assert _row(apps_table, "Submitted").startswith("1")
    medians = page.partition("Applications: median days in each state")[2]
    medians = medians.partition("Stays measured In it now")[2]  # the table
    assert _row(medians, "Submitted") == "5.0 2 0"
    assert _row(medians, "Under review") == "10.0 1 1"
    overdue = page.partition("Overdue now")[2]
    assert _row(overdue, "Applications past the review target").startswith("1")
    assert _row(overdue, "Cases past the corrective-action deadline").startswith("1")
    assert _row(overdue, "Findings with an overdue corrective action").startswith("2")


def test_certificates_by_country_and_status_over_time(client, login_as, world, make):
    ua = make.agency(complete=True, name="Kyiv Recruit", country="UA")
    world.certificate(CertificateState.ACTIVE)
    world.certificate(CertificateState.SUSPENDED)
    old = world.certificate(CertificateState.WITHDRAWN)
    old.issued_at = utcnow() - timedelta(days=200)
    old.withdrawn_at = utcnow() - timedelta(days=100)
    ua_cert = world.certificate(CertificateState.ACTIVE)
    ua_cert.agency_id = ua.id
    db.session.flush()
    login_as(Role.SCHEME_ADMIN)

    page = text_of(client.get("/oversight/"))
    section = page.split("Certificates by agency country and status")[-1]
    country = world.agency.country
    # country, then active suspended withdrawn expired superseded cancelled, then the total
    # rows named in words (Poland, Ukraine), never by code
    name = Locale.parse("en").territories[country]
    assert _row(section, f" {name}") == "1 1 1 0 0 0 3"
    assert _row(section, " Ukraine") == "1 0 0 0 0 0 1"
    trend = page.split("Active certificates at the end of each month")[-1]
    months = re.findall(r"[A-Z][a-z]{2} \d\d ((?:\d+ ?){3})", trend)
    assert len(months) == 12
    # the withdrawn one was active 4–6 months ago; now: one PL-side active + one UA active
    assert months[-1].split() == ["2", "1", "1"]
    assert any(m.split()[0] == "1" and m.split()[1] == "1" for m in months[:-2])


def test_only_scheme_admins_see_it(client, login_as, world):
    login_as(Role.AGENCY_ADMIN, world.agency)
    assert client.get("/oversight/").status_code == 403


def _bulk(world: World, n: int, offset: int = 0) -> None:
    case = world.case(CaseState.CERTIFIED)
    now = utcnow()
    rows = [
        {
            "number": f"IRIS-BULK-{i:07d}",
            "agency_id": world.agency.id,
            "audit_company_id": world.company.id,
            "case_id": case.id,
            "state": CertificateState.ACTIVE if i % 3 else CertificateState.EXPIRED,
            "issued_at": now - timedelta(days=i % 400),
            "expires_at": now + timedelta(days=300),
            "public_id": f"{i:032x}",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(offset, offset + n)
    ]
    db.session.execute(sa.insert(Certificate), rows)
    recs = [
        {
            "subject_type": "certificate",
            "subject_id": 10_000 + i,
            "seq": 1,
            "trigger": "issue",
            "from_state": None,
            "to_state": "active",
            "actor_role": "system",
            "at": now - timedelta(days=i % 50),
            "payload": {},
            "prev_hash": None,
            "hash": "0" * 64,
        }
        for i in range(offset, offset + n)
    ]
    db.session.execute(sa.insert(TransitionRecord), recs)
    db.session.flush()


def test_the_dashboard_runs_the_same_queries_for_10_and_1000_rows(client, login_as, world, make):
    login_as(Role.SCHEME_ADMIN)
    client.get("/oversight/")  # warm caches (user, locale)
    _bulk(world, 10)
    with count_queries() as small:
        assert client.get("/oversight/").status_code == 200
    _bulk_more = make.org(OrgKind.AGENCY, name="Another", country="UA")
    _bulk(world, 1000, offset=10)
    with count_queries() as large:
        assert client.get("/oversight/").status_code == 200
    assert len(large) == len(small), (len(small), len(large))
    assert len(small) <= 20, len(small)
    assert _bulk_more.id
