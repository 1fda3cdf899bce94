"""The auditor queue and the case page run a bounded number of SQL queries."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from iris.audits.models import CertificationCase, Finding, FindingGrade, TeamMember
from iris.core.db import db, utcnow
from iris.fieldwork.models import CriterionAssessment, Rating
from tests.fieldwork.conftest import case_url
from tests.fieldwork.test_journey import as_user, assign_team, confirm
from workflows.certification import CaseState, TeamRole


@contextlib.contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def add_cases(w: Any, db_session: Any, make: Any, n: int) -> None:
    for _ in range(n):
        agency = make.agency(complete=True)
        case = CertificationCase(
            agency_id=agency.id, audit_company_id=w.company.id,
            application_id=w.application.id, state=CaseState.FINDINGS_ISSUED,
            cap_due_at=utcnow(),
        )  # fmt: skip
        db_session.add(case)
        db_session.flush()
        db_session.add(TeamMember(case_id=case.id, user_id=w.lead.id, team_role=TeamRole.LEAD,
                                  coi_confirmed_at=utcnow()))  # fmt: skip
        db_session.add(Finding(case_id=case.id, criterion="C.1", grade=FindingGrade.MAJOR,
                               statement="s", evidence="e", due_at=utcnow()))  # fmt: skip
    db_session.flush()


def test_queue_queries_do_not_grow_with_cases(client, world, make, db_session):  # type: ignore[no-untyped-def]
    w = world
    add_cases(w, db_session, make, 2)
    as_user(client, w.lead)
    client.get("/audit/cases")
    with counting() as few:
        page = client.get("/audit/cases")
    assert page.status_code == 200 and "Overdue" in page.get_data(as_text=True)
    add_cases(w, db_session, make, 20)
    with counting() as many:
        page = client.get("/audit/cases")
    assert page.status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_case_page_queries_do_not_grow_with_findings_and_ratings(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    assign_team(client, w)
    confirm(client, w, w.auditor)
    confirm(client, w, w.lead)
    client.get(case_url(w.case))
    with counting() as few:
        assert client.get(case_url(w.case)).status_code == 200
    codes = [c.code for s in w.definition.sections for c in s.criteria]
    for code in codes:
        db_session.add(CriterionAssessment(case_id=w.case.id, criterion=code,
                                           rating=Rating.MINOR, notes="n"))  # fmt: skip
    for i in range(15):
        db_session.add(Finding(case_id=w.case.id, criterion="C.1", grade=FindingGrade.MINOR,
                               statement=f"s{i}", evidence="e", due_at=utcnow()))  # fmt: skip
    db_session.flush()
    with counting() as many:
        page = client.get(case_url(w.case))
    assert page.status_code == 200 and "s14" in page.get_data(as_text=True)
    assert len(many) <= len(few) + 1, (len(few), len(many), many[len(few) :])


def test_a_long_queue_links_a_window_of_pages(client, world, make, db_session, app):  # type: ignore[no-untyped-def]
    import re

    w = world
    add_cases(w, db_session, make, 12)
    as_user(client, w.lead)
    size, app.config["IRIS_PAGE_SIZE"] = app.config["IRIS_PAGE_SIZE"], 1
    try:
        html = client.get("/audit/cases?page=6").get_data(as_text=True)
    finally:
        app.config["IRIS_PAGE_SIZE"] = size
    pages = sorted({int(n) for n in re.findall(r"[?&;]page=(\d+)", html)})
    last = max(pages)
    assert last >= 12 and pages == [1, 4, 5, 6, 7, 8, last]  # not one link per case
    assert 'aria-current="page">6<' in html
