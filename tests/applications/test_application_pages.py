"""An application's life through the pages: start, review, defer, answer, resubmit, accept,
choose the audit company."""

from __future__ import annotations

from tests.core.test_workflow_http import fire_over_http
from tests.core.workflow_world import complete_self_assessment, world  # noqa: F401
from tests.helpers import text_of
from workflows.application import ApplicationState


def test_from_draft_to_an_open_case(world, client, db_session):  # noqa: F811
    db_session.commit()
    client.login(world.agency_admin)
    resp = client.post(f"/applications/new/{world.agency.public_id}", {}, form_url="/applications/")
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert "Draft" in text_of(page)
    from iris.applications.models import Application

    app = db_session.query(Application).one()
    complete_self_assessment(app, world.agency_admin)
    assert fire_over_http(client, app, "submit").status_code == 302

    client.login(world.reviewer)
    assert fire_over_http(client, app, "start_review").status_code == 302
    resp = fire_over_http(client, app, "defer", reason="Licence unclear",
                          requested_items="A current KRAZ extract\nSub-agent contracts")  # fmt: skip
    assert resp.status_code == 302
    db_session.refresh(app)
    assert app.state is ApplicationState.DEFERRED

    client.login(world.agency_admin)
    detail = f"/applications/{app.public_id}"
    page = text_of(client.get(detail))
    assert "A current KRAZ extract" in page and "Sub-agent contracts" in page
    assert "Answer every requested item first" in page  # the blocked step says why
    resp = client.post(f"{detail}/requested-items",
                       {"answers-0": "Attached", "answers-1": "Two contracts attached"},
                       form_url=detail)  # fmt: skip
    assert resp.status_code == 302
    assert fire_over_http(client, app, "resubmit").status_code == 302

    client.login(world.reviewer)
    resp = fire_over_http(client, app, "accept", confirm="y",
                          eligibility_checklist=["labour_recruiter", "licence_verified",
                                                 "scope_in_scheme", "no_exclusion"])  # fmt: skip
    assert resp.status_code == 302
    page = text_of(client.get(detail))
    for step in ("Start an application", "Submit for review", "Start the review",
                 "Defer: ask for more", "Send the requested items", "Accept"):  # fmt: skip
        assert step in page
    assert world.reviewer.name in page and "Licence unclear" in page

    client.login(world.agency_admin)
    resp = client.post(f"{detail}/case", {"audit_company": world.company.id}, form_url=detail)
    assert resp.status_code == 302
    case_page = text_of(client.get(resp.headers["Location"]))
    assert "Team pending" in case_page and world.company.name in case_page


def test_the_list_shows_only_the_agencys_own(world, client, db_session, make):  # noqa: F811
    mine = world.application(ApplicationState.SUBMITTED)
    other_agency = make.agency(complete=True, name="Inna Agencja")
    from iris.applications.models import Application

    theirs = Application(
        agency=other_agency, agency_id=other_agency.id, state=ApplicationState.DRAFT
    )
    db_session.add(theirs)
    db_session.commit()
    client.login(world.agency_admin)
    html = client.get("/applications/").get_data(as_text=True)
    assert mine.public_id in html and theirs.public_id not in html
    client.login(world.reviewer)
    html = client.get("/applications/?state=draft").get_data(as_text=True)
    assert theirs.public_id in html and mine.public_id not in html
