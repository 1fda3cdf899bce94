"""The auditor queue (``/audit/cases``) at scale: who sees which cases, in which order, and
the capped count. The queue reads at most ``QUEUE_COUNT_CAP + 1`` case ids per source and
then only the page's cases; the tests lower the cap to reach that path with few cases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from iris.accounts.models import Membership
from iris.audits.models import CertificationCase, Finding, FindingGrade, TeamMember
from iris.core.db import db, utcnow
from iris.fieldwork import queries as fq
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.application import ApplicationState
from workflows.certification import CaseState, TeamRole
from workflows.roles import Role


def add_cases(w: Any, n: int, *, company: Any = None, team: tuple[Any, ...] = (),
              start: int = 0, agency: Any = None) -> list[CertificationCase]:  # fmt: skip
    """``n`` cases whose activity is ``start``, ``start + 1`` ... hours ago (the first is the
    newest), with ``team`` on each."""
    application = w.application(ApplicationState.ACCEPTED)
    now = utcnow()
    cases = []
    for i in range(n):
        case = CertificationCase(
            agency_id=(agency or w.agency).id, audit_company_id=(company or w.company).id,
            application_id=application.id, state=CaseState.STAGE2,
            updated_at=now - timedelta(hours=start + i),
        )  # fmt: skip
        db.session.add(case)
        cases.append(case)
    db.session.flush()
    for case in cases:
        for k, user in enumerate(team):
            role = TeamRole.LEAD if k == 0 else TeamRole.AUDITOR
            db.session.add(TeamMember(case_id=case.id, user_id=user.id, team_role=role))
    db.session.flush()
    # the flushes above moved updated_at of nothing else; set the order explicitly again
    for i, case in enumerate(cases):
        db.session.execute(
            sa.update(CertificationCase)
            .where(CertificationCase.id == case.id)
            .values(updated_at=now - timedelta(hours=start + i))
        )
    return cases


def queue(client: Any, user: Any, page: int = 1) -> tuple[list[str], str, str]:
    """(the case ids linked on that page, in order; the page's text; its HTML)."""
    client.logout()
    client.login(user)
    response = client.get(f"/audit/cases?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    table = html.partition('id="queue"')[2].partition("</table>")[0]
    return re.findall(r'href="/audit/cases/([0-9a-f]{32})"', table), text_of(response), html


def every_page(client: Any, user: Any) -> list[str]:
    seen: list[str] = []
    for page in range(1, 100):
        ids, _text, html = queue(client, user, page)
        seen += ids
        if f"page={page + 1}" not in html or not ids:
            break
    return seen


@pytest.fixture(params=["counted", "capped"])
def mode(request, monkeypatch):  # type: ignore[no-untyped-def]
    """Each test twice: every case counted, and with the cap lowered to 4 (more than 4
    cases: the capped path, each source read newest first along its index)."""
    if request.param == "capped":
        monkeypatch.setattr(fq, "QUEUE_COUNT_CAP", 4)
    return request.param


def test_each_person_sees_their_cases_newest_first(client, world, app, mode, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "IRIS_PAGE_SIZE", 3)
    ours = add_cases(world, 7, team=(world.lead,), start=0)
    theirs = add_cases(world, 3, company=world.other_company, start=100)
    # the lead also audits for the other company (a team is chosen among its auditors)
    db.session.add(Membership(user_id=world.lead.id, organisation_id=world.other_company.id,
                              role=Role.AUDITOR))  # fmt: skip
    db.session.flush()
    db.session.expire(world.lead)
    mine_elsewhere = add_cases(world, 2, company=world.other_company, team=(world.lead,),
                               start=50)  # fmt: skip
    newest_first = [
        c.public_id for c in sorted(ours + mine_elsewhere, key=lambda c: -c.updated_at.timestamp())
    ]
    # the planner: every case of the company, never the other company's
    assert every_page(client, world.planner) == [c.public_id for c in ours]
    # the lead auditor: the team's cases, here in both companies, newest first
    assert every_page(client, world.lead) == newest_first
    # an auditor of the company on no team: nothing
    ids, text, _ = queue(client, world.auditor)
    assert ids == [] and "No case is assigned to you." in text
    # the agency: its own cases, in both companies
    assert sorted(every_page(client, world.agency_admin)) == sorted(
        c.public_id for c in ours + theirs + mine_elsewhere
    )


def test_team_cases_of_a_company_the_auditor_left_stay_in_the_queue(
    client,
    world,  # noqa: F811
    mode,
    app,
    monkeypatch,
):
    """A lead auditor with more team cases than the cap (the capped path reads the team
    along the index of each company the user belongs to or was removed from) who left one
    of the companies still sees its cases."""
    monkeypatch.setitem(app.config, "IRIS_PAGE_SIZE", 4)
    ours = add_cases(world, 6, team=(world.lead,), start=0)
    old = add_cases(world, 3, company=world.other_company, team=(world.lead,), start=2)
    from iris.admin.operations import remove_membership

    membership = db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == world.lead.id,
            Membership.organisation_id == world.other_company.id,
        )
    )
    if membership is None:  # the lead never belonged to it: the team was set by hand
        membership = Membership(
            user_id=world.lead.id, organisation_id=world.other_company.id, role=Role.AUDITOR
        )
        db.session.add(membership)
        db.session.flush()
        db.session.expire(world.lead, ["memberships"])
    remove_membership(membership, actor=world.scheme_admin)  # logged: membership_removed
    db.session.expire_all()
    expected = sorted(ours + old, key=lambda c: -c.updated_at.timestamp())
    assert every_page(client, world.lead) == [c.public_id for c in expected]


def test_the_count_says_more_than_the_cap(client, world, monkeypatch, app):  # noqa: F811
    monkeypatch.setattr(fq, "QUEUE_COUNT_CAP", 4)
    monkeypatch.setitem(app.config, "IRIS_PAGE_SIZE", 2)
    add_cases(world, 5, team=(world.lead,))
    ids, text, html = queue(client, world.planner, 2)
    assert len(ids) == 2 and "More than 4 cases" in text and "Page 2" in text
    assert 'href="/audit/cases?page=3"' in html and 'href="/audit/cases?page=1"' in html
    ids, text, html = queue(client, world.planner, 3)
    assert len(ids) == 1 and 'href="/audit/cases?page=4"' not in html
    monkeypatch.setattr(fq, "QUEUE_COUNT_CAP", 1000)
    _ids, text, html = queue(client, world.planner, 2)
    assert "5 cases" in text and "More than" not in text
    assert 'aria-current="page">2<' in html and 'href="/audit/cases?page=3"' in html


def test_the_page_s_open_findings_give_its_next_due_date(client, world, mode):  # noqa: F811
    cases = add_cases(world, 6, team=(world.lead,))
    now = utcnow()
    late, later = cases[1], cases[4]
    for case, due in ((late, now - timedelta(days=2)), (later, now + timedelta(days=9))):
        for grade in (FindingGrade.MAJOR, FindingGrade.MINOR):
            db.session.add(Finding(case_id=case.id, criterion="C.1", grade=grade,
                                   statement="s", evidence="e", due_at=due))  # fmt: skip
    db.session.flush()
    client.login(world.lead)
    html = client.get("/audit/cases").get_data(as_text=True)
    rows = html.partition('id="queue"')[2].split("<tr>")[2:]
    assert len(rows) == 6
    assert "Overdue" in rows[1] and "(2)" in rows[1]
    assert "Overdue" not in rows[4] and "—" not in rows[4].split("<td>")[-1]
    assert rows[0].split("<td>")[-1].startswith("—")


def test_the_queue_runs_two_statements_for_its_cases_however_many(client, world, monkeypatch):  # noqa: F811
    """Counted or capped, 3 cases or 40: the same statements (ids, then the page)."""
    from tests.fieldwork.test_queries import counting

    add_cases(world, 3, team=(world.lead,))
    client.login(world.planner)
    client.get("/audit/cases")
    with counting() as few:
        client.get("/audit/cases")
    add_cases(world, 40, team=(world.lead,), start=10)
    monkeypatch.setattr(fq, "QUEUE_COUNT_CAP", 10)
    with counting() as capped:
        text = text_of(client.get("/audit/cases"))
    assert "More than 10 cases" in text
    assert len(capped) == len(few), (few, capped)
