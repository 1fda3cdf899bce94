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
from iris.oversight.models import OversightSummary
from tests.core.workflow_world import World
from tests.helpers import text_of
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.lifecycles import LIFECYCLES
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


def _figures_text(page: str) -> tuple[str, str]:
    """(the counts-by-state table of certification cases, the 'Figures at' line)."""
    cases = page.partition("Certification cases by state")[2].partition("Total")[0]
    moment = re.search(r"Figures at ([^.]+) UTC\.", page)
    assert moment, page[:300]
    return cases, moment.group(1)


def test_the_page_shows_the_tick_s_figures_and_reads_them_in_a_fixed_number_of_queries(
    client, login_as, world, make, runner
):
    login_as(Role.SCHEME_ADMIN)
    first = text_of(client.get("/oversight/"))  # no summary yet: computed once, stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OversightSummary)) == 1
    _bulk(world, 10)
    with count_queries() as small:
        stale = text_of(client.get("/oversight/"))
    # between two ticks the page shows the figures of the last one, and says when they were
    # taken (the certificates added since are not in them yet)
    assert _figures_text(stale) == _figures_text(first)
    assert "No certificate issued yet." in stale
    result = runner.invoke(args=["iris", "tick"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OversightSummary)) == 1
    make.org(OrgKind.AGENCY, name="Another", country="UA")
    _bulk(world, 1000, offset=10)
    with count_queries() as large:
        fresh = text_of(client.get("/oversight/"))
    # the tick's figures count the 10 certificates added before it, not the 1,000 after
    country = Locale.parse("en").territories[world.agency.country]
    section = fresh.split("Certificates by agency country and status")[-1]
    active, _suspended, _w, expired = (int(v) for v in _row(section, f" {country}").split()[:4])
    assert (active, expired) == (6, 4)  # i % 3: 1, 2, 4, 5, 7, 8 active; 0, 3, 6, 9 expired
    # the page reads the stored figures: the same statements for 10 and 1,010 more rows
    assert len(large) == len(small), (len(small), len(large))
    assert len(small) <= 4, small


def test_the_figures_equal_a_direct_count_of_the_rows(client, login_as, world, runner):
    """Every table of the dashboard against a count made here from the rows themselves."""
    from iris.accounts.models import Organisation
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase

    start = utcnow() - timedelta(days=60)
    for state in (ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW):
        world.application(state)
    app1 = world.application(ApplicationState.ACCEPTED)
    app2 = world.application(ApplicationState.ACCEPTED)
    # submitted for 3 and 8 days, under review 1.5 and 4 days: medians 5.5 and 2.75
    _chain("application", app1.id, [("draft", 0), ("submitted", 1), ("under_review", 4),
                                     ("accepted", 5.5)], start)  # fmt: skip
    _chain("application", app2.id, [("draft", 0), ("submitted", 2), ("under_review", 10),
                                     ("accepted", 14)], start)  # fmt: skip
    world.case(CaseState.STAGE2)
    world.certificate(CertificateState.ACTIVE)
    world.certificate(CertificateState.SUSPENDED)
    _bulk(world, 30)
    assert runner.invoke(args=["iris", "tick"]).exit_code == 0
    login_as(Role.SCHEME_ADMIN)
    page = text_of(client.get("/oversight/"))

    for title, model, lifecycle in (
        ("Applications by state", Application, "application"),
        ("Certification cases by state", CertificationCase, "certification"),
    ):
        table = page.partition(title)[2].partition("Total")[0]
        rows = db.session.scalars(sa.select(model.state)).all()
        for state in LIFECYCLES[lifecycle].states:
            label = LIFECYCLES[lifecycle].state_label(state)
            expected = sum(1 for r in rows if r == state)
            assert _row(table, f" {label}").split()[0] == f"{expected:,}", (title, label)
    medians = page.partition("Applications: median days in each state")[2]
    medians = medians.partition("Stays measured In it now")[2]
    assert _row(medians, "Submitted") == "5.5 2 0"
    assert _row(medians, "Under review") == "2.8 2 0"  # 2.75, one decimal
    section = page.split("Certificates by agency country and status")[-1]
    certs = db.session.execute(
        sa.select(Organisation.country, Certificate.state).join(
            Organisation, Organisation.id == Certificate.agency_id
        )
    ).all()
    for country in {c for c, _ in certs}:
        name = Locale.parse("en").territories[country]
        expected = [
            sum(1 for c, s in certs if c == country and s == state) for state in CertificateState
        ]
        got = [int(v.replace(",", "")) for v in _row(section, f" {name}").split()]
        assert got == [*expected, sum(expected)], country


def test_a_tick_in_the_past_shows_its_moment(client, login_as, world, runner):
    assert runner.invoke(args=["iris", "tick", "--at", "2026-03-02T06:00"]).exit_code == 0
    login_as(Role.SCHEME_ADMIN)
    _cases, moment = _figures_text(text_of(client.get("/oversight/")))
    assert moment.startswith("3/2/26"), moment
