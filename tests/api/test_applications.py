"""The agency's API: applications, answers, evidence, submitting — as on the pages."""

from __future__ import annotations

import sqlalchemy as sa

from iris.applications.models import Application
from iris.questionnaires import definition as d
from iris.questionnaires import operations as q_ops
from iris.questionnaires.models import EvidenceDocument, Response
from tests.core.workflow_world import complete_self_assessment
from workflows.application import ApplicationState
from workflows.roles import Role

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _published() -> None:
    if q_ops.latest_published() is None:
        from pathlib import Path

        source = Path(q_ops.__file__).parent / "definitions" / "iris-1.2.yaml"
        q_ops.publish_version(q_ops.import_version(d.read_data(source)).version)


def _count(db_session, model) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_list_and_read_own_applications(api, world, token_for, make, db_session):
    secret = token_for(world.agency_admin)
    created = api("POST", "/api/v1/applications", secret, json={"agency": world.agency.public_id})
    assert created.status_code == 201
    body = created.get_json()
    assert body["state"] == "draft" and body["agency"]["name"] == "Agencja Pracy Łódź"
    assert body["questionnaire"] is None
    other_agency = make.agency(name="Other Agency")
    make.user_with_role(Role.AGENCY_ADMIN, other_agency)
    theirs = world.application(ApplicationState.SUBMITTED)
    theirs.agency_id = other_agency.id
    db_session.flush()
    listed = api("GET", "/api/v1/applications?per_page=10", secret).get_json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    assert listed["total"] == 1 and listed["pages"] == 1 and listed["per_page"] == 10
    assert api("GET", f"/api/v1/applications/{body['id']}", secret).status_code == 200
    hidden = api("GET", f"/api/v1/applications/{theirs.public_id}", secret)
    assert hidden.status_code == 404 and hidden.get_json()["error"]["code"] == "not_found"


def test_creating_for_another_agency_is_404_and_stores_nothing(api, world, token_for, make, db_session):
    other = make.agency(name="Someone Else")
    secret = token_for(world.agency_admin)
    before = _count(db_session, Application)
    answer = api("POST", "/api/v1/applications", secret, json={"agency": other.public_id})
    assert answer.status_code == 404
    member = make.user_with_role(Role.AGENCY_MEMBER, world.agency)  # members may not start one
    answer = api("POST", "/api/v1/applications", token_for(member), json={"agency": world.agency.public_id})
    assert answer.status_code == 404
    assert _count(db_session, Application) == before


def test_bad_bodies_get_400_413_or_422_and_nothing_is_stored(api, world, token_for, db_session):
    secret = token_for(world.agency_admin)
    before = _count(db_session, Application)
    url = "/api/v1/applications"
    bad_json = api("POST", url, secret, data="{not json", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.get_json()["error"]["code"] == "invalid_json"
    unknown = api("POST", url, secret, json={"agency": world.agency.public_id, "state": "accepted"})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {"state": ["Unknown field."]}
    wrong_type = api("POST", url, secret, json={"agency": 12})
    assert wrong_type.status_code == 422 and "agency" in wrong_type.get_json()["error"]["fields"]
    missing = api("POST", url, secret, json={})
    assert missing.status_code == 422
    big = api("POST", url, secret, data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
              content_type="application/json")  # fmt: skip
    assert big.status_code == 413 and big.get_json()["error"]["code"] == "too_large"
    assert _count(db_session, Application) == before


def test_answering_the_questionnaire_by_key(api, world, token_for, db_session):
    _published()
    application = world.application(ApplicationState.DRAFT)
    secret = token_for(world.agency_admin)
    url = f"/api/v1/applications/{application.public_id}/questionnaire"
    assert api("GET", url, secret).status_code == 404  # not started yet
    answer = api("PATCH", url, secret, json={"answers": {"A01": "yes"}})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["answers"]["A01"] == "yes" and body["editable"] is True
    assert any(f["key"] == "A01" and f["choices"] == ["yes", "no"] for f in body["fields"])
    read = api("GET", f"/api/v1/applications/{application.public_id}", secret).get_json()
    assert read["questionnaire"]["version"] and read["questionnaire"]["progress"]["answered"] >= 1
    removed = api("PATCH", url, secret, json={"answers": {"A01": None}})
    assert "A01" not in removed.get_json()["answers"]


def test_invalid_answers_are_422_by_key_and_nothing_is_stored(api, world, token_for, db_session):
    _published()
    application = world.application(ApplicationState.DRAFT)
    secret = token_for(world.agency_admin)
    url = f"/api/v1/applications/{application.public_id}/questionnaire"
    assert api("PATCH", url, secret, json={"answers": {"A01": "yes"}}).status_code == 200
    answer = api("PATCH", url, secret, json={"answers": {"A01": "no", "A02": "maybe", "ZZ9": 1}})
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["fields"]
    assert set(fields) == {"answers.A02", "answers.ZZ9"}
    response = db_session.scalar(sa.select(Response).where(Response.application_id == application.id))
    db_session.refresh(response)
    assert response.answers == {"A01": "yes"}  # A01 "no" was not stored either
    extra = api("PATCH", url, secret, json={"answers": {}, "submit": True})
    assert extra.status_code == 422 and "submit" in extra.get_json()["error"]["fields"]
    not_dict = api("PATCH", url, secret, json={"answers": ["A01", "yes"]})
    assert not_dict.status_code == 422


def test_others_cannot_answer(api, world, token_for, make):
    _published()
    application = world.application(ApplicationState.DRAFT)
    url = f"/api/v1/applications/{application.public_id}/questionnaire"
    stranger = make.user_with_role(Role.AGENCY_ADMIN, make.agency(name="Stranger Agency"))
    assert api("PATCH", url, token_for(stranger), json={"answers": {"A01": "yes"}}).status_code == 404
    reviewer = api("PATCH", url, token_for(world.reviewer), json={"answers": {"A01": "yes"}})
    assert reviewer.status_code == 403  # sees the application, may not change the answers


def test_uploading_evidence_checks_the_content_like_the_page(api, world, token_for, db_session):
    _published()
    application = world.application(ApplicationState.DRAFT)
    secret = token_for(world.agency_admin)
    assert api("PATCH", f"/api/v1/applications/{application.public_id}/questionnaire", secret,
               json={"answers": {"A01": "yes"}}).status_code == 200  # fmt: skip
    url = f"/api/v1/applications/{application.public_id}/evidence"
    import io

    before = _count(db_session, EvidenceDocument)
    lying = api("POST", url, secret, content_type="multipart/form-data",
                data={"file": (io.BytesIO(PNG), "licence.pdf"), "title": "Licence"})  # fmt: skip
    assert lying.status_code == 422 and "file" in lying.get_json()["error"]["fields"]
    traversal = api("POST", url, secret, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"hello"), "../../etc/passwd"), "title": "x"})  # fmt: skip
    assert traversal.status_code == 422
    unknown = api("POST", url, secret, content_type="multipart/form-data",
                  data={"file": (io.BytesIO(PDF), "l.pdf"), "title": "L", "colour": "red"})  # fmt: skip
    assert unknown.status_code == 422 and "colour" in unknown.get_json()["error"]["fields"]
    assert _count(db_session, EvidenceDocument) == before
    ok = api("POST", url, secret, content_type="multipart/form-data",
             data={"file": (io.BytesIO(PDF), "krs.pdf"), "title": "KRAZ extract",
                   "answer_key": "A01", "valid_to": "2030-01-01"})  # fmt: skip
    assert ok.status_code == 201, ok.get_json()
    doc = ok.get_json()
    assert doc["content_type"] == "application/pdf" and doc["linked_to"] == ["A01"]
    questionnaire = api("GET", f"/api/v1/applications/{application.public_id}/questionnaire", secret)
    a01 = next(f for f in questionnaire.get_json()["fields"] if f["key"] == "A01")
    assert a01["evidence"] == [doc["id"]]


def test_submit_through_the_lifecycle_409_then_200(api, world, token_for, db_session):
    _published()
    application = world.application(ApplicationState.DRAFT)
    secret = token_for(world.agency_admin)
    actions_url = f"/api/v1/transitions/application/{application.public_id}"
    listed = api("GET", actions_url, secret).get_json()
    submit = next(a for a in listed["actions"] if a["trigger"] == "submit")
    assert submit["allowed"] is False and submit["blocked_by"]
    refused = api("POST", actions_url + "/submit", secret, json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["reasons"]
    db_session.refresh(application)
    assert application.state is ApplicationState.DRAFT
    complete_self_assessment(application, world.agency_admin)
    db_session.flush()
    done = api("POST", actions_url + "/submit", secret, json={})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "submitted" and done.get_json()["from_state"] == "draft"
    again = api("POST", actions_url + "/submit", secret, json={})
    assert again.status_code == 409


def test_steps_refused_by_role_input_or_scope(api, world, token_for, make):
    application = world.application(ApplicationState.UNDER_REVIEW)
    url = f"/api/v1/transitions/application/{application.public_id}"
    admin = token_for(world.agency_admin)
    assert api("POST", url + "/accept", admin, json={}).status_code == 403
    reviewer = token_for(world.reviewer)
    no_reason = api("POST", url + "/defer", reviewer, json={})
    assert no_reason.status_code == 422
    assert set(no_reason.get_json()["error"]["fields"]) >= {"reason", "requested_items"}
    wrong_input = api("POST", url + "/defer", reviewer, json={"recommendation": "grant"})
    assert wrong_input.status_code == 422
    assert api("POST", url + "/no-such-step", reviewer, json={}).status_code == 404
    deferred = api("POST", url + "/defer", reviewer,
                   json={"reason": "Licence unclear", "requested_items": ["KRAZ extract"]})  # fmt: skip
    assert deferred.status_code == 200, deferred.get_json()
    assert deferred.get_json()["state"] == "deferred"
    read_only = token_for(world.reviewer, scopes=("applications:read",))
    assert api("POST", url + "/resume", read_only, json={}).status_code == 403
    stranger = make.user_with_role(Role.AGENCY_ADMIN, make.agency(name="Stranger Agency"))
    assert api("GET", url, token_for(stranger)).status_code == 404
