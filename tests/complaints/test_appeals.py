"""A refusal and its appeal window through HTTP: the decision maker refuses with a reason,
the agency sees it and appeals within IRIS_APPEAL_WINDOW_DAYS; after the window the appeal
is refused with a clear message. The panel excludes everyone involved in the decision."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from iris.complaints.models import Appeal
from tests.core.test_workflow_http import fire_over_http
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.appeal import AppealState
from workflows.certification import CaseState

REASON = "Workers paid for their medical checks; no refund shown."


def as_user(client, user):
    client.logout()
    client.login(user)


def refused(world, client, db_session):  # noqa: F811
    case = world.case(CaseState.DECISION_PENDING)
    case.recommendation = "refuse"
    db_session.commit()
    as_user(client, world.decider)
    url = f"/audit/cases/{case.public_id}"
    resp = client.post(f"{url}/steps/refuse", {"reason": REASON}, form_url=url)
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(case)
    assert case.state is CaseState.REFUSED
    assert case.appeal_due_at == case.decided_at + timedelta(days=30)
    return case


def test_the_agency_appeals_within_the_window_and_the_panel_is_independent(
    world,  # noqa: F811
    client,
    db_session,
):
    case = refused(world, client, db_session)
    with time_machine.travel(case.decided_at + timedelta(days=29), tick=False):
        as_user(client, world.agency_admin)
        text = text_of(client.get(f"/audit/cases/{case.public_id}"))
        assert "Certification refused on" in text and REASON in text
        assert "You may appeal until" in text and "Appeal this decision" in text
        url = f"/complaints/appeals/refusal/{case.public_id}"
        resp = client.post(url, {"reason": "The refunds were paid in March; receipts attached."})
        assert resp.status_code == 302, text_of(resp)[:400]
    appeal = db_session.scalar(sa.select(Appeal).where(Appeal.case_id == case.id))
    assert appeal.state is AppealState.LODGED and appeal.against.value == "refusal"
    db_session.refresh(case)
    assert case.state is CaseState.REFUSED  # a pending appeal changes nothing

    # the panel: nobody who took part in the decision (team, reviewer, decision maker)
    as_user(client, world.scheme_admin)
    resp = fire_over_http(
        client, appeal, "assign_panel", panel=[world.decider.id, world.panelist.id]
    )
    assert resp.status_code == 409
    assert "Nobody involved in the original decision may sit on the panel: Dora Decider" in text_of(
        resp
    )
    resp = fire_over_http(client, appeal, "assign_panel", panel=[world.panelist.id])
    assert resp.status_code == 302
    # only a panel member decides it
    resp = fire_over_http(client, appeal, "dismiss", reason="The refusal stands.", confirm="y")
    assert resp.status_code == 403
    as_user(client, world.panelist)
    resp = fire_over_http(client, appeal, "dismiss", reason="The refusal stands.", confirm="y")
    assert resp.status_code == 302, text_of(resp)[:400]
    db_session.refresh(appeal)
    assert appeal.state is AppealState.DISMISSED and appeal.panel == [world.panelist.id]


def test_after_the_window_the_appeal_is_refused_with_the_date(world, client, db_session):  # noqa: F811
    case = refused(world, client, db_session)
    closed = (case.decided_at + timedelta(days=30)).date().isoformat()
    with time_machine.travel(case.decided_at + timedelta(days=31), tick=False):
        as_user(client, world.agency_admin)
        text = text_of(client.get(f"/audit/cases/{case.public_id}"))
        assert "The appeal window closed on" in text
        assert "Appeal this decision" not in text
        resp = client.post(
            f"/complaints/appeals/refusal/{case.public_id}", {"reason": "Please reconsider."}
        )
        assert resp.status_code == 409
        assert f"The 30-day appeal window closed on {closed}." in text_of(resp)
    assert db_session.scalar(sa.select(sa.func.count(Appeal.id))) == 0
    # another agency's admin does not even learn that the case exists
    other = world.make.user_with_role(world.agency_admin.memberships[0].role)
    db_session.commit()
    as_user(client, other)
    assert client.get(f"/complaints/appeals/refusal/{case.public_id}").status_code == 404
