"""The one door over HTTP: 409 with the reason, 403 for a step never allowed, 404 for a
subject one may not see, 422 for an incomplete form; none of them changes anything."""

from __future__ import annotations

import sqlalchemy as sa

from iris.core.history import TransitionRecord
from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.helpers import text_of
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.roles import Role


def step_url(subject, trigger):
    return f"/{subject.__workflow__}/{subject.public_id}/transition/{trigger}"


def fire_over_http(client, subject, trigger, page=None, **fields):
    sa.inspect(subject).session.commit()  # what the test set up is there before the request
    token = client.csrf_token(page or "/")
    data = {f"{trigger}-csrf_token": token}
    data.update({f"{trigger}-{k}": v for k, v in fields.items()})
    return client.post(step_url(subject, trigger), data, csrf=False)


def records(db_session, subject):
    return db_session.scalar(
        sa.select(sa.func.count()).where(
            TransitionRecord.subject_type == subject.__workflow__,
            TransitionRecord.subject_id == subject.id,
        )
    )


def test_a_step_not_possible_now_answers_409_with_the_reason(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.DEFERRED)
    app.requested_items = [{"text": "The KRAZ extract", "answer": None}]
    db_session.flush()
    client.login(world.agency_admin)
    resp = fire_over_http(client, app, "resubmit")
    assert resp.status_code == 409
    page = text_of(resp)
    assert "Not possible now" in page
    assert "Answer every requested item first; still open: The KRAZ extract." in page
    assert "Nothing was changed." in page
    db_session.refresh(app)
    assert app.state is ApplicationState.DEFERRED and records(db_session, app) == 0


def test_409_as_json_for_machines(world, client, db_session):  # noqa: F811
    cert = world.certificate(CertificateState.ACTIVE)
    db_session.commit()
    client.login(world.decider)
    token = client.csrf_token("/")
    resp = client.post(
        step_url(cert, "restore"),
        {"restore-csrf_token": token, "restore-reason": "All good again"},
        csrf=False,
        headers={"Accept": "application/json"},
    )
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "conflict"
    assert "is not possible while the certificate is active" in resp.json["error"]["message"]


def test_a_step_the_user_may_never_take_answers_403(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.UNDER_REVIEW)
    client.login(world.agency_admin)
    resp = fire_over_http(client, app, "accept", eligibility_checklist="labour_recruiter")
    assert resp.status_code == 403
    assert "Your role does not allow this step." in text_of(resp)
    db_session.refresh(app)
    assert app.state is ApplicationState.UNDER_REVIEW and records(db_session, app) == 0


def test_separation_of_duties_refusals_say_why(world, client, db_session):  # noqa: F811
    case = world.case(CaseState.DECISION_PENDING)
    case.technical_reviewer_id = world.decider.id  # the decider did the technical review
    db_session.flush()
    client.login(world.decider)
    resp = fire_over_http(client, case, "grant", confirm="y")
    assert resp.status_code == 403
    assert "Four-eyes rule: you did the technical review" in text_of(resp)
    db_session.refresh(case)
    assert case.state is CaseState.DECISION_PENDING and records(db_session, case) == 0


def test_another_agencys_subject_is_not_found(world, client, db_session, make):  # noqa: F811
    app = world.application(ApplicationState.DRAFT)
    stranger = make.user_with_role(Role.AGENCY_ADMIN)
    db_session.commit()
    client.login(stranger)
    assert client.get(f"/applications/{app.public_id}").status_code == 404
    assert fire_over_http(client, app, "withdraw", confirm="y").status_code == 404
    assert client.get(step_url(app, "withdraw")).status_code == 404
    db_session.refresh(app)
    assert app.state is ApplicationState.DRAFT


def test_unknown_step_and_timer_steps_are_not_found(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.DEFERRED)
    db_session.commit()
    client.login(world.reviewer)
    assert client.get(step_url(app, "teleport")).status_code == 404
    assert fire_over_http(client, app, "lapse").status_code == 404


def test_without_a_csrf_token_nothing_happens(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.SUBMITTED)
    db_session.commit()
    client.login(world.reviewer)
    resp = client.post(step_url(app, "start_review"), {}, csrf=False)
    assert resp.status_code == 400
    db_session.refresh(app)
    assert app.state is ApplicationState.SUBMITTED


def test_a_final_step_asks_for_confirmation_first(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.UNDER_REVIEW)
    db_session.commit()
    client.login(world.reviewer)
    page = client.get(f"/applications/{app.public_id}")
    assert page.status_code == 200
    # the final step is a link to its confirmation page, not a one-click button
    assert f'href="{step_url(app, "reject")}"' in page.get_data(as_text=True)
    confirm = client.get(step_url(app, "reject"))
    assert "This step is final: it cannot be undone." in text_of(confirm)

    resp = fire_over_http(
        client, app, "reject", page=step_url(app, "reject"),
        reason_code="no_valid_licence", reason="The KRAZ entry was struck off.",
    )  # fmt: skip
    assert resp.status_code == 422
    assert "Confirm that you understand this is final." in text_of(resp)
    db_session.refresh(app)
    assert app.state is ApplicationState.UNDER_REVIEW

    resp = fire_over_http(
        client, app, "reject", page=step_url(app, "reject"), confirm="y",
        reason_code="no_valid_licence", reason="The KRAZ entry was struck off.",
    )  # fmt: skip
    assert resp.status_code == 302
    page = text_of(client.get(resp.headers["Location"]))
    assert "Done: Reject." in page
    assert "Rejected" in page
    assert "No valid licence for recruitment" in page and "The KRAZ entry was struck off." in page
    assert world.reviewer.name in page


def test_a_missing_reason_is_a_422_with_the_message(world, client, db_session):  # noqa: F811
    app = world.application(ApplicationState.UNDER_REVIEW)
    client.login(world.reviewer)
    resp = fire_over_http(client, app, "defer", requested_items="Sub-agent contracts")
    assert resp.status_code == 422
    assert "Give a reason for this step." in text_of(resp)
    assert records(db_session, app) == 0


def test_the_scheme_admin_sees_every_lifecycle_from_the_tables(world, client):  # noqa: F811
    from workflows.lifecycles import LIFECYCLES

    world.session.commit()
    client.login(world.scheme_admin)
    html = client.get("/admin/lifecycles").get_data(as_text=True)
    for lc in LIFECYCLES.values():
        assert f'id="lc-{lc.name}"' in html
        for t in lc.transitions:
            assert f'data-trigger="{t.trigger}"' in html
    assert "stateDiagram-v2" in html
    assert "decision_pending --&gt; certified: grant (decision_maker) [four_eyes" in html
    client.login(world.reviewer)
    assert client.get("/admin/lifecycles").status_code == 403


def test_the_lifecycle_page_draws_each_diagram_with_every_state_and_step(world, client):  # noqa: F811
    import xml.etree.ElementTree as ET

    from iris.workflowui.diagram import lifecycle_svg
    from workflows.lifecycles import LIFECYCLES

    world.session.commit()
    client.login(world.scheme_admin)
    html = client.get("/admin/lifecycles").get_data(as_text=True)
    ns = {"s": "http://www.w3.org/2000/svg"}
    for lc in LIFECYCLES.values():
        svg = str(lifecycle_svg(lc))
        assert svg in html  # drawn inline on the page, not linked from elsewhere
        tree = ET.fromstring(svg)  # noqa: S314 - our own output: well-formed, so browsers draw it
        boxes = {g.get("data-state") for g in tree.iterfind(".//s:g[@class='state']", ns)}
        assert boxes == {s.value for s in lc.states}
        pairs = {(s, t.dest) for t in lc.transitions for s in t.sources}
        assert len(tree.findall(".//s:path[@marker-end]", ns)) == len(pairs)
        labels = " ".join(
            " ".join(t.itertext()) for t in tree.iterfind(".//s:g[@class='edge-label']/s:text", ns)
        )
        for t in lc.transitions:
            assert t.label in labels
