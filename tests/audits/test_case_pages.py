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


def test_the_team_is_assigned_on_the_fieldwork_page_only(world, client, db_session):  # noqa: F811
    """The overview links the planner to the one team page; a conflicted auditor is not
    offered there, and the engine refuses a team with them, saying why."""
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
    assert f'href="/audit/cases/{case.public_id}/team"' in page.get_data(as_text=True)
    assert "Save the team" not in text_of(page)  # the duplicate form is gone
    assert client.post(f"/cases/{case.public_id}/team", {"lead": world.lead.id}).status_code in (
        404,
        405,
    )
    team = text_of(client.get(f"/audit/cases/{case.public_id}/team"))
    assert "Ada Auditor declared a consultancy tie with this agency that ended on" in team
    # the old queue's address leads to the fieldwork queue
    old = client.get("/cases/")
    assert old.status_code == 301 and old.headers["Location"].endswith("/audit/cases")


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
    listing = text_of(client.get("/audit/cases"))
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
