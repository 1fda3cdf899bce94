"""The case page and its steps through HTTP: the team, conflicts of interest, access."""

from __future__ import annotations

from datetime import date

import pytest

from iris.audits.models import ConflictOfInterestDeclaration, Relation
from iris.core.workflow import TransitionNotAllowed, fire
from tests.core.test_workflow_http import fire_over_http
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.certification import CaseState
from workflows.roles import Role


def test_a_conflicted_auditor_blocks_the_team_and_the_page_says_why(world, client, db_session):  # noqa: F811
    case = world.case(CaseState.TEAM_PENDING, team=False)
    db_session.add(
        ConflictOfInterestDeclaration(
            user_id=world.auditor.id, agency_id=world.agency.id, relation=Relation.CONSULTANCY,
            period_start=date(2023, 1, 1), period_end=world.now.date().replace(day=1),
        )
    )  # fmt: skip
    db_session.commit()
    client.login(world.planner)
    page = client.get(f"/cases/{case.public_id}")
    assert "conflict of interest:" in text_of(page)
    resp = client.post(
        f"/cases/{case.public_id}/team",
        {"lead": world.lead.id, "auditors": [world.auditor.id]},
    )
    assert resp.status_code == 302
    resp = fire_over_http(client, case, "assign_team")
    assert resp.status_code == 409
    text = text_of(resp)
    assert "Ada Auditor declared a consultancy tie with this agency that ended on" in text
    assert "24-month cooling-off period runs until" in text
    db_session.refresh(case)
    assert case.state is CaseState.TEAM_PENDING

    # without the conflicted auditor the team is confirmed
    client.post(f"/cases/{case.public_id}/team", {"lead": world.lead.id})
    resp = fire_over_http(client, case, "assign_team")
    assert resp.status_code == 302
    db_session.refresh(case)
    assert case.state is CaseState.AUDIT_PLANNED
    assert "Audit planned" in text_of(client.get(f"/cases/{case.public_id}"))


def test_an_auditor_not_on_the_team_does_not_see_the_case(world, client, db_session, make):  # noqa: F811
    case = world.case(CaseState.AUDIT_PLANNED)
    outsider = make.user_with_role(Role.AUDITOR, world.company)
    db_session.commit()
    client.login(outsider)
    assert client.get(f"/cases/{case.public_id}").status_code == 404
    assert fire_over_http(client, case, "start_stage1").status_code == 404
    client.login(world.lead)
    page = text_of(client.get(f"/cases/{case.public_id}"))
    assert "Start stage 1 (document review)" in page
    listing = text_of(client.get("/cases/"))
    assert world.agency.name in listing


def test_a_team_member_cannot_do_the_technical_review(world, client, db_session):  # noqa: F811
    case = world.case(CaseState.RECOMMENDED)
    from iris.accounts.models import Membership

    db_session.add(
        Membership(user=world.lead, organisation=world.company, role=Role.TECHNICAL_REVIEWER)
    )
    db_session.commit()
    client.login(world.lead)
    resp = fire_over_http(client, case, "review")
    assert resp.status_code == 403
    assert "You were on this case's audit team" in text_of(resp)


def test_stage_2_cannot_end_before_the_fieldwork(world, db_session):  # noqa: F811
    case = world.case(CaseState.STAGE2)
    with pytest.raises(TransitionNotAllowed, match="no site visit recorded"):
        fire(case, "recommend", world.lead, reason="Fine.", recommendation="grant")
    world.fieldwork_done(case)
    fire(case, "recommend", world.lead, reason="Fine.", recommendation="grant")
    assert case.state is CaseState.RECOMMENDED
