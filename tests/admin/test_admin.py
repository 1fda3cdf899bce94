"""Scheme administration through the HTTP stack: what a scheme admin sees and changes."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from iris.accounts.models import OrgStatus
from iris.admin.models import AdminAction, AdminActionKind
from tests.factories import PASSWORD
from tests.helpers import Browser, text_of
from workflows.roles import OrgKind, Role


@pytest.fixture
def admin(login_as):
    return login_as(Role.SCHEME_ADMIN, name="Maria Santos")


# Users ------------------------------------------------------------------------------------------------


def test_users_list_is_paginated_and_searchable(client, make, admin, app):
    per_page = app.config["IRIS_PAGE_SIZE"]
    for n in range(per_page + 5):
        make.user(name=f"Person {n:02d}", email=f"person{n:02d}@agency.test")
    first = text_of(client.get("/admin/users"))
    total = per_page + 6  # and the admin
    assert f"Showing 1–{per_page} of {total}" in first
    assert "Person 00" in first and f"Person {per_page + 4:02d}" not in first
    second = client.get("/admin/users?page=2")
    assert f"Showing {per_page + 1}–{total} of {total}" in text_of(second)
    assert f"Person {per_page + 4:02d}" in text_of(second)
    assert 'aria-current="page">2<' in second.get_data(as_text=True)
    found = text_of(client.get("/admin/users?q=person07"))
    assert "Showing 1–1 of 1" in found and "Person 07" in found
    by_name = text_of(client.get("/admin/users?q=Maria"))
    assert "Showing 1–1 of 1" in by_name
    # A page past the end shows the last page rather than an error.
    assert f"Showing {per_page + 1}–{total}" in text_of(client.get("/admin/users?page=99"))


def test_a_long_list_links_a_window_of_pages_and_keeps_the_search(client, make, admin, app):
    size, app.config["IRIS_PAGE_SIZE"] = app.config["IRIS_PAGE_SIZE"], 2
    try:
        for n in range(40):
            make.user(name=f"Worker {n:02d}", email=f"worker{n:02d}@agency.test")
        html = client.get("/admin/users?q=worker&page=10").get_data(as_text=True)
    finally:
        app.config["IRIS_PAGE_SIZE"] = size
    pages = sorted({int(n) for n in re.findall(r"(?:\?|&amp;)page=(\d+)", html)})
    # first, last, two either side of 10, and previous/next: not all 20 pages
    assert pages == [1, 8, 9, 10, 11, 12, 20]
    assert html.count("…") == 2
    assert all("q=worker" in link for link in re.findall(r'href="([^"]*page=[^"]*)"', html))


def test_search_treats_percent_and_underscore_literally(client, make, admin):
    make.user(name="Anna Kowalska", email="anna@agency.test")
    assert "Nothing found." in text_of(client.get("/admin/users?q=%25"))
    assert "Nothing found." in text_of(client.get("/admin/users?q=_"))


def _count_queries(app, fn):
    from iris.core.db import db

    count = 0

    def on_execute(*_args, **_kwargs):
        nonlocal count
        count += 1

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return count


def test_users_list_runs_as_many_queries_for_few_rows_as_for_a_full_page(client, make, admin, app):
    org = make.agency()
    for n in range(3):
        make.membership(make.user(name=f"Few {n}"), org, Role.AGENCY_MEMBER)
    few = _count_queries(app, lambda: client.get("/admin/users"))
    for n in range(40):
        make.membership(make.user(name=f"Many {n}"), org, Role.AGENCY_MEMBER)
    many = _count_queries(app, lambda: client.get("/admin/users"))
    assert few == many


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client, make, admin, app):
    member = make.user_with_role(Role.AGENCY_MEMBER, name="Jan Nowak")
    # The member has a session open in another browser.
    theirs = Browser(app.test_client())
    theirs.login(member)
    assert theirs.get("/agency").status_code == 200

    confirm = client.get(f"/admin/users/{member.public_id}/deactivate")
    assert "will be signed out and will not be able to sign in" in text_of(confirm)
    resp = client.post(
        f"/admin/users/{member.public_id}/deactivate",
        {"reason": "Left the agency"},
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "The account of Jan Nowak is deactivated." in page
    assert "Deactivated" in page and "“Left the agency”" in page

    assert theirs.get("/agency").status_code == 302  # the open session ended
    client.logout()
    login = client.post("/login", {"email": member.email, "password": PASSWORD})
    assert "This account is disabled." in text_of(login)


def test_reactivated_user_can_sign_in_again(client, make, admin):
    member = make.user_with_role(Role.AGENCY_MEMBER, is_active=False)
    resp = client.post(f"/admin/users/{member.public_id}/activate", {}, follow_redirects=True)
    assert "is active again" in text_of(resp)
    client.logout()
    resp = client.post(
        "/login", {"email": member.email, "password": PASSWORD}, follow_redirects=True
    )
    assert f"Welcome back, {member.name}." in text_of(resp)


def test_admin_cannot_deactivate_themself(client, admin):
    resp = client.post(f"/admin/users/{admin.public_id}/deactivate", {})
    assert resp.status_code == 422
    assert "You cannot deactivate your own account." in text_of(resp)
    assert admin.is_active


def test_deactivating_twice_is_a_conflict(client, make, admin):
    member = make.user_with_role(Role.AGENCY_MEMBER, is_active=False)
    resp = client.post(f"/admin/users/{member.public_id}/deactivate", {})
    assert resp.status_code == 409
    assert "already deactivated" in text_of(resp)


def test_users_are_never_deleted(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert not any("delete" in r.rule or "DELETE" in (r.methods or ()) for r in rules)


# Memberships ----------------------------------------------------------------------------------------


def test_role_not_fitting_the_organisation_is_refused(client, make, admin, db_session):
    agency = make.agency(name="Bałtyk Personel")
    person = make.user(name="Ola Lis")
    resp = client.post(
        f"/admin/users/{person.public_id}/memberships",
        {"organisation": agency.public_id, "role": Role.PLANNER.value},
        form_url=f"/admin/users/{person.public_id}",
    )
    assert resp.status_code == 422
    assert (
        "The role “Planner” does not exist in Bałtyk Personel (a recruitment agency). "
        "Roles there: Agency administrator, Agency member."
    ) in text_of(resp)
    assert person.memberships == []


def test_role_is_given_and_removed_with_confirmation(client, make, admin, db_session):
    company = make.audit_company(name="Certa Audit Polska")
    person = make.user(name="Ola Lis")
    resp = client.post(
        f"/admin/users/{person.public_id}/memberships",
        {"organisation": company.public_id, "role": Role.AUDITOR.value},
        form_url=f"/admin/users/{person.public_id}",
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "Ola Lis is now Auditor at Certa Audit Polska." in page
    assert "Role given: Auditor at Certa Audit Polska" in page
    assert person.auditor_profile is not None  # ready to be filled in and approved

    remove_url = f"/admin/users/{person.public_id}/memberships/{company.public_id}/auditor/remove"
    assert "Remove the role “Auditor” of Ola Lis at Certa Audit Polska?" in text_of(
        client.get(remove_url)
    )
    resp = client.post(remove_url, {}, follow_redirects=True)
    assert "The role is removed." in text_of(resp)
    db_session.refresh(person)
    assert person.roles_in(company) == set()


def test_unknown_role_in_a_removal_url_is_404(client, make, admin):
    company = make.audit_company()
    person = make.user_with_role(Role.PLANNER, org=company)
    url = f"/admin/users/{person.public_id}/memberships/{company.public_id}/wizard/remove"
    assert client.get(url).status_code == 404


def test_admin_cannot_remove_their_own_admin_role(client, admin):
    org = admin.memberships[0].organisation
    url = f"/admin/users/{admin.public_id}/memberships/{org.public_id}/scheme_admin/remove"
    resp = client.post(url, {})
    assert resp.status_code == 422
    assert "You cannot remove your own scheme administrator role." in text_of(resp)


# Organisations ------------------------------------------------------------------------------------------


def test_organisations_filter_by_kind_status_and_name(client, make, admin):
    make.agency(name="Wisła Praca")
    make.audit_company(name="Certa Audit", status=OrgStatus.APPROVED)
    make.audit_company(name="Nordic Social Audit", status=OrgStatus.PENDING)
    page = text_of(client.get("/admin/organisations?kind=audit_company"))
    assert "Certa Audit" in page and "Nordic Social Audit" in page and "Wisła Praca" not in page
    page = text_of(client.get("/admin/organisations?kind=audit_company&status=pending"))
    assert "Nordic Social Audit" in page and "Certa Audit" not in page
    page = text_of(client.get("/admin/organisations?q=wis"))
    assert "Wisła Praca" in page and "Certa" not in page


def test_unknown_filter_value_is_a_clear_400(client, admin):
    resp = client.get("/admin/organisations?kind=bank")
    assert resp.status_code == 400
    assert "Unknown filter" in text_of(resp)


def test_audit_company_is_created_approved_suspended_and_reinstated(client, admin, db_session):
    resp = client.post(
        "/admin/organisations/new",
        {
            "name": "Nordic Social Audit AB",
            "country": "SE",
            "city": "Stockholm",
            "address": "Drottninggatan 33",
        },
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "Nordic Social Audit AB is registered and awaits approval." in page
    assert "Awaiting approval" in page
    org_url = re.search(r"/admin/organisations/[0-9a-f]{32}", resp.request.path).group(0)

    resp = client.post(
        f"{org_url}/approve", {"reason": "Accreditation checked"}, follow_redirects=True
    )
    assert "Nordic Social Audit AB is now approved." in text_of(resp)

    # Suspension needs a reason.
    resp = client.post(f"{org_url}/suspend", {"reason": ""})
    assert resp.status_code == 200
    assert "Give a reason: it is kept in the history." in text_of(resp)
    resp = client.post(
        f"{org_url}/suspend", {"reason": "Accreditation lapsed"}, follow_redirects=True
    )
    page = text_of(resp)
    assert "Nordic Social Audit AB is now suspended." in page
    assert "“Accreditation lapsed”" in page

    # A suspended company cannot be "approved" again: it is reinstated.
    resp = client.get(f"{org_url}/approve")
    assert resp.status_code == 409
    assert "cannot be approved in its current status" in text_of(resp)
    resp = client.post(
        f"{org_url}/reinstate", {"reason": "Accreditation renewed"}, follow_redirects=True
    )
    assert "Nordic Social Audit AB is now approved." in text_of(resp)

    kinds = db_session.scalars(sa.select(AdminAction.kind).order_by(AdminAction.id)).all()
    assert kinds == [
        AdminActionKind.ORGANISATION_CREATED,
        AdminActionKind.ORGANISATION_APPROVED,
        AdminActionKind.ORGANISATION_SUSPENDED,
        AdminActionKind.ORGANISATION_REINSTATED,
    ]


def test_approval_sets_status_and_the_time_it_changed(client, make, admin):
    org = make.audit_company(status=OrgStatus.PENDING, status_changed_at=None)
    client.post(f"/admin/organisations/{org.public_id}/approve", {})
    assert org.status is OrgStatus.APPROVED
    assert org.status_changed_at is not None


def test_agencies_have_no_approval_actions(client, make, admin):
    agency = make.agency()
    assert client.get(f"/admin/organisations/{agency.public_id}/suspend").status_code == 409
    page = client.get(f"/admin/organisations/{agency.public_id}").get_data(as_text=True)
    assert "/suspend" not in page and f"/agency/{agency.public_id}" in page


# Auditors ----------------------------------------------------------------------------------------------


def test_auditor_profile_is_edited_and_approved(client, make, admin):
    company = make.audit_company(name="FairLabour Assurance")
    auditor = make.user(name="Oksana Melnyk")
    make.membership(auditor, company, Role.AUDITOR)
    listing = text_of(client.get("/admin/auditors?approval=pending"))
    assert "Oksana Melnyk" in listing and "Not recorded" in listing

    url = f"/admin/auditors/{auditor.public_id}"
    resp = client.post(f"{url}/approve", {})
    assert resp.status_code == 409
    assert (
        "Before approval, record the date of the IRIS auditor training and at least one "
        "language in the auditor's profile."
    ) in text_of(resp)

    resp = client.post(
        url,
        {
            "languages": ["uk", "ru", "pl"],
            "countries": ["PL", "UA"],
            "iris_trained_on": "2025-03-14",
        },
        follow_redirects=True,
    )
    assert "The auditor profile of Oksana Melnyk is saved." in text_of(resp)
    resp = client.post(f"{url}/approve", {}, follow_redirects=True)
    assert "Oksana Melnyk is approved as an IRIS auditor." in text_of(resp)
    listing = text_of(client.get("/admin/auditors?approval=approved"))
    assert "Ukrainian, Russian, Polish" in listing and "Poland, Ukraine" in listing
    assert "Approved" in listing


def test_withdrawing_an_auditor_approval_needs_a_reason(client, make, admin):
    auditor = make.user_with_role(Role.LEAD_AUDITOR, name="Paweł Lewandowski")
    url = f"/admin/auditors/{auditor.public_id}/withdraw"
    assert "Give a reason" in text_of(client.post(url, {"reason": " "}))
    resp = client.post(url, {"reason": "Training expired"}, follow_redirects=True)
    page = text_of(resp)
    assert "The approval of Paweł Lewandowski is withdrawn." in page
    assert "“Training expired”" in page
    assert not auditor.auditor_profile.is_approved


def test_training_date_cannot_be_in_the_future(client, make, admin):
    auditor = make.user_with_role(Role.AUDITOR)
    resp = client.post(
        f"/admin/auditors/{auditor.public_id}",
        {"languages": ["pl"], "iris_trained_on": "2999-01-01"},
    )
    assert "The training date cannot be in the future." in text_of(resp)


def test_a_person_who_is_no_auditor_has_no_auditor_page(client, make, admin):
    planner = make.user_with_role(Role.PLANNER)
    assert client.get(f"/admin/auditors/{planner.public_id}").status_code == 404


# Outbox --------------------------------------------------------------------------------------------------


def test_outbox_shows_mail_and_its_links_can_be_followed(client, admin, outbox):
    client.logout()
    client.post(
        "/register",
        {
            "name": "Olena Kovalenko",
            "email": "olena@dnipro.example.com",
            "password": "a long passphrase",
            "confirm": "a long passphrase",
            "agency_name": "Dnipro Kadry",
            "country": "UA",
            "accept": "y",
        },
    )
    assert outbox(to="olena@dnipro.example.com"), "registration should have written a message"
    client.login(admin)
    listing = client.get("/admin/outbox?q=olena")
    assert "olena@dnipro.example.com" in text_of(listing)
    message_url = re.search(
        r'href="(/admin/outbox/[0-9a-f]{32})"', listing.get_data(as_text=True)
    ).group(1)
    message = client.get(message_url)
    link = re.search(
        r'<a href="(http://localhost/account/confirm/[^"]+)"', message.get_data(as_text=True)
    )
    assert link, "the verification link should be clickable"
    client.logout()
    page = client.get(link.group(1).removeprefix("http://localhost"))
    assert page.status_code == 200


def test_outbox_is_paginated(client, admin, app):
    from iris.core.mail import queue_mail

    with app.test_request_context():
        for n in range(app.config["IRIS_PAGE_SIZE"] + 1):
            queue_mail(f"p{n}@example.test", "verify_email", user=admin, link="http://x", hours=1)
    assert "Showing 1–25 of 26" in text_of(client.get("/admin/outbox"))


# Access ------------------------------------------------------------------------------------------------


def _admin_urls(app, make):
    """Every admin URL, with real objects in it, and its methods."""
    company = make.audit_company(status=OrgStatus.PENDING)
    auditor = make.user_with_role(Role.AUDITOR, org=company)
    values = {
        "public_id": auditor.public_id,
        "org_id": company.public_id,
        "role": "auditor",
        "action": None,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        args = {}
        for name in rule.arguments:
            if name == "action":
                args[name] = (
                    sorted(rule._converters[name].items)[0]
                    if hasattr(rule._converters[name], "items")
                    else "approve"
                )
            elif name == "public_id" and "organisations" in rule.rule:
                args[name] = company.public_id
            else:
                args[name] = values[name]
        with app.test_request_context():
            from flask import url_for

            urls.append((url_for(rule.endpoint, **args), rule.methods - {"HEAD", "OPTIONS"}))
    return urls


@pytest.mark.parametrize(
    "role",
    [
        Role.AGENCY_ADMIN,
        Role.APPLICATION_REVIEWER,
        Role.PLANNER,
        Role.LEAD_AUDITOR,
        Role.DECISION_MAKER,
    ],
)
def test_everyone_but_a_scheme_admin_gets_403_on_every_admin_url(client, make, login_as, app, role):
    urls = _admin_urls(app, make)
    assert len(urls) >= 14
    login_as(role)
    for url, methods in urls:
        for method in methods:
            resp = client.get(url) if method == "GET" else client.post(url, {}, form_url="/")
            assert resp.status_code == 403, (method, url, resp.status_code)


def test_signed_out_visitor_is_sent_to_sign_in_from_admin_pages(client, make, app):
    for url, _methods in _admin_urls(app, make):
        resp = client.get(url)
        if resp.status_code == 405:
            continue
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url


def test_admin_nav_links_lead_to_the_admin_screens(client, admin):
    html = client.get("/").get_data(as_text=True)
    for path in ("/admin/users", "/admin/organisations", "/admin/auditors", "/admin/outbox"):
        assert f'href="{path}"' in html


def test_organisation_kinds_in_filters_match_the_model():
    from iris.admin.forms import KIND_LABELS

    assert set(KIND_LABELS) == set(OrgKind)


def test_the_list_counter_is_translated(client, make, admin, db_session):
    # the macros file uses {% do %}: without the extension in babel.cfg its words were never
    # extracted, and every admin list said "Showing 1–2 of 2" in Polish too
    admin.locale = "pl"
    db_session.flush()
    assert "Pozycje 1–" in text_of(client.get("/admin/users"))
