"""Sign-up, confirmation, sign-in, password reset, invitations and sign-out, as a user does them."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from iris.accounts.models import Membership, Organisation, User
from iris.core.db import utcnow
from tests.factories import PASSWORD
from tests.helpers import text_of
from workflows.roles import OrgKind, Role

LINK = re.compile(r"http://localhost(/\S+)")


def link_in(message) -> str:  # type: ignore[no-untyped-def]
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def register(client, email="owner@agency.example.com", **over):  # type: ignore[no-untyped-def]
    data = {
        "name": "Katarzyna Wiśniewska",
        "email": email,
        "password": "a long enough secret",
        "confirm": "a long enough secret",
        "agency_name": "Wisła Praca Sp. z o.o.",
        "country": "PL",
        "accept": "y",
    }
    data.update(over)
    return client.post("/register", data)


def sign_in(client, email, password=PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", {"email": email, "password": password}, follow_redirects=True)


def test_agency_signs_up_confirms_and_signs_in(client, outbox, db_session):
    resp = register(client)
    assert resp.status_code == 200
    assert "Check your e-mail" in text_of(resp)

    # Not before confirming the address.
    resp = sign_in(client, "owner@agency.example.com", "a long enough secret")
    assert "confirm your e-mail address first" in text_of(resp)

    [mail] = outbox("owner@agency.example.com")
    assert mail.subject == "Confirm your e-mail address for IRIS Certify"
    confirm = link_in(mail)
    page = client.get(confirm)
    assert "Confirm that owner@agency.example.com is your address" in text_of(page)
    resp = client.post(confirm, {}, follow_redirects=True)
    assert "your e-mail address is confirmed" in text_of(resp)

    resp = sign_in(client, "owner@agency.example.com", "a long enough secret")
    assert "Welcome back, Katarzyna Wiśniewska" in text_of(resp)

    user = db_session.scalar(sa.select(User).where(User.email == "owner@agency.example.com"))
    [membership] = user.memberships
    assert membership.role is Role.AGENCY_ADMIN
    assert membership.organisation.kind is OrgKind.AGENCY
    assert membership.organisation.name == "Wisła Praca Sp. z o.o."

    # The confirmation link works once.
    again = client.get(confirm)
    assert again.status_code == 400
    assert "already been used" in text_of(again)


def test_registration_errors_are_shown_and_nothing_is_stored(client, make, db_session):
    make.user(email="taken@agency.example.com")
    resp = register(client, email="taken@agency.example.com")
    assert "An account with this e-mail already exists" in text_of(resp)
    resp = register(client, email="new@agency.example.com", confirm="something else entirely")
    assert "The passwords do not match" in text_of(resp)
    resp = register(client, email="short@agency.example.com", password="short", confirm="short")
    assert "Use at least 10 characters" in text_of(resp)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make):
    user = make.user(email="someone@agency.example.com")
    wrong = text_of(sign_in(client, user.email, "not the password"))
    unknown = text_of(sign_in(client, "nobody@agency.example.com", "not the password"))
    assert "The e-mail or the password is wrong" in wrong
    assert "The e-mail or the password is wrong" in unknown


def test_repeated_failures_lock_the_account_for_a_while(app, client, make):
    user = make.user(email="target@agency.example.com")
    for _ in range(app.config["IRIS_LOGIN_MAX_FAILURES"]):
        sign_in(client, user.email, "guess guess guess")
    # Even the right password is refused while locked.
    resp = sign_in(client, user.email)
    assert "Too many failed attempts" in text_of(resp)
    later = utcnow() + timedelta(minutes=app.config["IRIS_LOGIN_LOCK_MINUTES"] + 1)
    with time_machine.travel(later, tick=False):
        resp = sign_in(client, user.email)
    assert "Welcome back" in text_of(resp)


def test_login_is_rate_limited_per_address(client):
    token = client.csrf_token("/login")
    codes = [
        client.post(
            "/login", {"email": "x@example.com", "password": "p", "csrf_token": token}
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    assert "Too many requests" in text_of(client.post("/login", {"csrf_token": token}))


def test_password_reset_works_once(client, make, outbox):
    user = make.user(email="forgetful@agency.example.com")
    resp = client.post("/password/forgot", {"email": user.email})
    assert "If an account exists for forgetful@agency.example.com" in text_of(resp)
    link = link_in(outbox(user.email)[-1])
    resp = client.post(
        link,
        {"password": "a brand new secret", "confirm": "a brand new secret"},
        follow_redirects=True,
    )
    assert "Your password has been changed" in text_of(resp)
    assert "Welcome back" in text_of(sign_in(client, user.email, "a brand new secret"))
    client.logout()
    reused = client.get(link)
    assert reused.status_code == 400
    assert "already been used" in text_of(reused)


def test_expired_reset_link_says_so(client, make, outbox, app):
    user = make.user(email="late@agency.example.com")
    client.post("/password/forgot", {"email": user.email})
    link = link_in(outbox(user.email)[-1])
    hours = app.config["IRIS_TOKEN_MAX_AGE_HOURS"]
    with time_machine.travel(utcnow() + timedelta(hours=hours, minutes=5), tick=False):
        resp = client.get(link)
    assert resp.status_code == 400
    assert "This link has expired" in text_of(resp)
    assert "Ask for a new link" in text_of(resp)


def test_reset_for_unknown_address_sends_nothing_and_says_the_same(client, outbox):
    resp = client.post("/password/forgot", {"email": "ghost@agency.example.com"})
    assert "If an account exists for ghost@agency.example.com" in text_of(resp)
    assert outbox("ghost@agency.example.com") == []


def test_agency_admin_invites_a_colleague_who_joins(client, login_as, outbox, db_session):
    admin = login_as(Role.AGENCY_ADMIN)
    org = admin.memberships[0].organisation
    url = f"/organisations/{org.public_id}/members"
    resp = client.post(
        url,
        {"email": "colleague@agency.example.com", "role": "agency_member"},
        follow_redirects=True,
    )
    assert "Invitation sent to colleague@agency.example.com" in text_of(resp)
    link = link_in(outbox("colleague@agency.example.com")[-1])

    client.logout()
    resp = client.post(
        link,
        {"name": "Jan Nowak", "password": "colleague secret 1", "confirm": "colleague secret 1"},
        follow_redirects=True,
    )
    assert f"Welcome to {org.name}" in text_of(resp)
    joined = db_session.scalar(sa.select(User).where(User.email == "colleague@agency.example.com"))
    assert joined.roles_in(org) == {Role.AGENCY_MEMBER}
    # Single use.
    client.logout()
    assert "already been used" in text_of(client.get(link))


def test_expired_invitation_is_refused(client, login_as, outbox, app):
    admin = login_as(Role.AGENCY_ADMIN)
    org = admin.memberships[0].organisation
    client.post(
        f"/organisations/{org.public_id}/members",
        {"email": "slow@agency.example.com", "role": "agency_member"},
    )
    link = link_in(outbox("slow@agency.example.com")[-1])
    client.logout()
    days = app.config["IRIS_INVITATION_MAX_AGE_DAYS"]
    with time_machine.travel(utcnow() + timedelta(days=days, hours=1), tick=False):
        resp = client.get(link)
    assert resp.status_code == 400
    assert "This invitation has expired" in text_of(resp)


def test_member_cannot_invite_and_outsider_cannot_see_members(client, make, login_as, db_session):
    org = make.agency()
    login_as(Role.AGENCY_MEMBER, org=org)
    url = f"/organisations/{org.public_id}/members"
    page = client.get(url)
    assert page.status_code == 200
    assert "Invite a colleague" not in text_of(page)
    resp = client.post(url, {"email": "x@agency.example.com", "role": "agency_admin"}, form_url=url)
    assert resp.status_code == 403
    client.logout()
    login_as(Role.AGENCY_ADMIN)  # of another agency
    assert client.get(url).status_code == 404
    assert (
        db_session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == org.id)
        )
        == 1
    )


def test_sign_out_ends_the_session(client, login_as):
    login_as(Role.AGENCY_ADMIN)
    resp = client.post("/logout", {}, follow_redirects=True)
    assert "You have signed out" in text_of(resp)
    assert client.get("/organisations/x/members").status_code == 302


def test_logout_without_csrf_token_is_refused(client, login_as):
    user = login_as(Role.AGENCY_ADMIN)
    resp = client.post("/logout", {}, csrf=False)
    assert resp.status_code == 400
    assert user.name in text_of(client.get("/"))
