"""The auditor's API: cases of the team, findings, corrective actions — as on the pages."""

from __future__ import annotations

import sqlalchemy as sa

from iris.audits.models import Finding, FindingStatus
from workflows.certification import CaseState
from workflows.roles import Role


def test_cases_are_listed_for_the_team_and_hidden_from_other_auditors(api, world, token_for, make):
    case = world.case(CaseState.STAGE2)
    mine = api("GET", "/api/v1/cases", token_for(world.auditor)).get_json()
    assert [c["id"] for c in mine["items"]] == [case.public_id]
    assert "team" in mine["items"][0]["my_relation"]
    outsider = make.user_with_role(Role.AUDITOR, world.company, name="Otto Outsider")
    secret = token_for(outsider)
    assert api("GET", "/api/v1/cases", secret).get_json()["items"] == []
    assert api("GET", f"/api/v1/cases/{case.public_id}", secret).status_code == 404
    assert api("GET", f"/api/v1/cases/{case.public_id}/findings", secret).status_code == 404
    other_company = make.user_with_role(Role.PLANNER, world.other_company)
    assert api("GET", f"/api/v1/cases/{case.public_id}", token_for(other_company)).status_code == 404


def test_raising_a_finding_by_the_team_in_stage_2(api, world, token_for, db_session):
    case = world.case(CaseState.STAGE2)
    secret = token_for(world.auditor)
    url = f"/api/v1/cases/{case.public_id}/findings"
    body = {"grade": "minor", "criterion": "E.1", "statement": "A contract given late",
            "evidence": "Contract sample 4"}  # fmt: skip
    raised = api("POST", url, secret, json=body)
    assert raised.status_code == 201, raised.get_json()
    assert raised.get_json()["status"] == "open" and raised.get_json()["due_at"]
    listed = api("GET", url, secret).get_json()["items"]
    assert [x["statement"] for x in listed] == ["A contract given late"]
    one = api("GET", f"/api/v1/findings/{listed[0]['id']}", secret)
    assert one.status_code == 200 and one.get_json()["criterion"] == "E.1"


def test_bad_findings_are_refused_and_nothing_is_stored(api, world, token_for, db_session, make):
    case = world.case(CaseState.STAGE2)
    url = f"/api/v1/cases/{case.public_id}/findings"
    secret = token_for(world.auditor)
    count = lambda: db_session.scalar(sa.select(sa.func.count()).select_from(Finding))  # noqa: E731
    before = count()
    good = {"grade": "minor", "criterion": "E.1", "statement": "s", "evidence": "e"}
    assert api("POST", url, secret, json={**good, "grade": "huge"}).status_code == 422
    assert api("POST", url, secret, json={**good, "statement": 5}).status_code == 422
    assert api("POST", url, secret, json={**good, "due_on": "2001-01-01"}).status_code == 422
    assert api("POST", url, secret, json={**good, "owner": "me"}).status_code == 422
    outsider = make.user_with_role(Role.AUDITOR, world.company)
    assert api("POST", url, token_for(outsider), json=good).status_code == 404
    reader = token_for(world.auditor, scopes=("cases:read",))
    assert api("POST", url, reader, json=good).status_code == 403
    tech = api("POST", url, token_for(world.tech), json=good)
    assert tech.status_code == 403  # sees the content, is not on the team
    assert count() == before
    planned = world.case(CaseState.AUDIT_PLANNED)
    late = api("POST", f"/api/v1/cases/{planned.public_id}/findings", secret, json=good)
    assert late.status_code == 403  # the team records only during stage 1 and 2


def test_an_unconfirmed_team_member_must_confirm_first(api, world, token_for, db_session):
    case = world.case(CaseState.STAGE2)
    member = next(m for m in case.team if m.user_id == world.auditor.id)
    member.coi_confirmed_at = None
    db_session.flush()
    answer = api("GET", f"/api/v1/cases/{case.public_id}/findings", token_for(world.auditor))
    assert answer.status_code == 403
    assert "declaration" in answer.get_json()["error"]["message"]


def test_corrective_action_then_review(api, world, token_for, db_session):
    case = world.case(CaseState.FINDINGS_ISSUED, findings="open")
    major = next(x for x in case.findings if x.grade.value == "major")
    agency = token_for(world.agency_admin)
    plan = {"correction": "Refunded", "root_cause": "No register", "action": "Register kept",
            "owner": "Director", "target_date": (world.now.date().replace(year=world.now.year + 1)).isoformat()}  # fmt: skip
    url = f"/api/v1/findings/{major.public_id}"
    assert api("GET", url, agency).status_code == 200  # the agency sees its findings
    done = api("PUT", url + "/corrective-action", agency, json=plan)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "plan_submitted"
    auditor = token_for(world.auditor)
    too_early = api("POST", url + "/review", auditor, json={"decision": "accept"})
    assert too_early.status_code == 409  # the case is not in cap_submitted yet
    case.state = CaseState.CAP_SUBMITTED
    db_session.commit()
    no_comment = api("POST", url + "/review", auditor, json={"decision": "return"})
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["error"]["fields"]
    assert api("POST", url + "/review", agency, json={"decision": "accept"}).status_code == 404
    accepted = api("POST", url + "/review", auditor, json={"decision": "accept"})
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == FindingStatus.VERIFIED_CLOSED.value
    assert [e["decision"] for e in accepted.get_json()["events"]] == ["submitted", "accepted"]


def test_case_steps_over_the_api(api, world, token_for):
    case = world.case(CaseState.AUDIT_PLANNED)
    url = f"/api/v1/transitions/certification/{case.public_id}"
    lead = token_for(world.lead)
    listed = api("GET", url, lead)
    assert listed.status_code == 200
    assert "start_stage1" in [a["trigger"] for a in listed.get_json()["actions"]] or listed.get_json()["actions"]
    assert api("GET", url, token_for(world.agency_admin, scopes=("applications:read",))).status_code == 403
    assert api("POST", url + "/grant", lead, json={}).status_code == 403
