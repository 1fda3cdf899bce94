"""API tokens: made by users for themselves, shown once, stored hashed, expiring, revocable."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from iris.api.models import ApiToken
from iris.core.db import utcnow
from tests.helpers import text_of
from workflows.roles import Role

TOKEN_RE = re.compile(r"iris_[A-Za-z0-9_-]{43}")


def _form(name: str = "HR export", scopes=("applications:read",), days: int = 90) -> dict:
    return {
        "name": name,
        "scopes": list(scopes),
        "expires_on": (utcnow().date() + timedelta(days=days)).isoformat(),
    }


def test_a_token_is_shown_once_and_only_its_hash_is_stored(client, login_as, db_session, api):
    user = login_as(Role.AGENCY_ADMIN)
    assert client.get("/account/tokens").status_code == 200
    page = client.post("/account/tokens", _form(), form_url="/account/tokens")
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "no-store"
    secret = TOKEN_RE.search(page.get_data(as_text=True)).group(0)
    row = db_session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in (row.name, row.scopes, row.prefix, row.token_hash))
    assert secret not in stored and secret[5:] not in stored
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "HR export" in listing and secret not in listing and row.prefix in listing
    me = api("GET", "/api/v1/me", secret)
    assert me.status_code == 200
    assert me.get_json()["id"] == user.public_id
    assert me.get_json()["token"]["scopes"] == ["applications:read"]
    assert row.last_used_at is not None
    assert "never" not in text_of(client.get("/account/tokens")).split("HR export")[1][:80]


def test_expiry_is_required_and_at_most_a_year(client, login_as, db_session):
    user = login_as(Role.AUDITOR)
    for days in (366, 0, -3):
        page = client.post("/account/tokens", _form(days=days), form_url="/account/tokens")
        assert page.status_code == 422, days
    no_date = _form()
    no_date["expires_on"] = ""
    assert client.post("/account/tokens", no_date, form_url="/account/tokens").status_code == 422
    no_scope = _form(scopes=())
    assert client.post("/account/tokens", no_scope, form_url="/account/tokens").status_code == 422
    assert db_session.scalar(sa.select(sa.func.count()).where(ApiToken.user_id == user.id)) == 0


def test_an_expired_token_is_refused(api, make, token_for, db_session):
    user = make.user_with_role(Role.AGENCY_ADMIN)
    secret = token_for(user)
    assert api("GET", "/api/v1/me", secret).status_code == 200
    row = db_session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.flush()
    answer = api("GET", "/api/v1/me", secret)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == "This API token has expired."
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoking_asks_first_keeps_the_row_and_stops_the_token(
    client, login_as, token_for, api, db_session
):
    user = login_as(Role.AGENCY_ADMIN)
    secret = token_for(user)
    row = db_session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    url = f"/account/tokens/{row.public_id}/revoke"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Revoke the token" in text_of(confirm)
    assert api("GET", "/api/v1/me", secret).status_code == 200  # not yet: only asked
    done = client.post(url, {}, form_url=url)
    assert done.status_code == 302
    db_session.refresh(row)
    assert row.revoked_at is not None and row.revoked_by_id == user.id
    answer = api("GET", "/api/v1/me", secret)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == "This API token was revoked."
    assert "revoked" in text_of(client.get("/account/tokens"))


def test_another_users_tokens_are_neither_listed_nor_revocable(
    client, login_as, make, token_for, db_session, api
):
    other = make.user_with_role(Role.AGENCY_ADMIN, name="Other Person")
    secret = token_for(other)
    row = db_session.scalar(sa.select(ApiToken).where(ApiToken.user_id == other.id))
    login_as(Role.AGENCY_ADMIN)
    assert row.prefix not in client.get("/account/tokens").get_data(as_text=True)
    url = f"/account/tokens/{row.public_id}/revoke"
    assert client.get(url).status_code == 404
    assert client.post(url, {}, form_url="/account/tokens").status_code == 404
    db_session.refresh(row)
    assert row.revoked_at is None
    assert api("GET", "/api/v1/me", secret).status_code == 200


def test_token_pages_need_a_signed_in_user_and_csrf(client, make):
    assert client.get("/account/tokens").status_code == 302
    client.login(make.user_with_role(Role.AUDITOR))
    assert client.post("/account/tokens", _form(), csrf=False).status_code == 400


def test_missing_or_wrong_tokens_get_401(api, make, token_for):
    assert api("GET", "/api/v1/me", None).status_code == 401
    assert api("GET", "/api/v1/me", "iris_" + "x" * 43).status_code == 401
    assert api("GET", "/api/v1/me", None, headers={"Authorization": "Basic abc"}).status_code == 401
    secret = token_for(make.user_with_role(Role.AGENCY_ADMIN))
    wrong = secret[:-1] + ("B" if secret.endswith("A") else "A")  # one character changed
    assert api("GET", "/api/v1/me", wrong).status_code == 401


def test_a_disabled_account_s_token_is_refused(api, make, token_for, db_session):
    user = make.user_with_role(Role.AGENCY_ADMIN)
    secret = token_for(user)
    user.is_active = False
    db_session.flush()
    assert api("GET", "/api/v1/me", secret).status_code == 401


def test_a_missing_scope_is_refused_with_403(api, world, token_for, db_session):
    secret = token_for(world.agency_admin, scopes=("applications:read",))
    answer = api("POST", "/api/v1/applications", secret, json={"agency": world.agency.public_id})
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "insufficient_scope"
    assert "applications:write" in answer.get_json()["error"]["message"]
    assert api("GET", "/api/v1/cases", secret).status_code == 403  # cases:read missing


def test_a_signed_in_browser_session_does_not_open_the_api(client, login_as, world, db_session):
    """The API takes tokens only: a session cookie (and so a cross-site request riding on it)
    gets 401, and nothing is created."""
    from iris.applications.models import Application

    client.login(world.agency_admin)
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Application))
    answer = client.post_json("/api/v1/applications", {"agency": world.agency.public_id})
    assert answer.status_code == 401
    assert client.get("/api/v1/applications").status_code == 401
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Application)) == before


def test_the_api_is_rate_limited_per_token(api, app, make, token_for):
    secret = token_for(make.user_with_role(Role.AGENCY_ADMIN))
    other = token_for(make.user_with_role(Role.AGENCY_ADMIN))
    app.config["IRIS_RATELIMIT_API"] = "3 per minute"
    try:
        codes = [api("GET", "/api/v1/me", secret).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = api("GET", "/api/v1/me", secret)
        assert limited.get_json()["error"]["code"] == "too_many_requests"
        assert api("GET", "/api/v1/me", other).status_code == 200
    finally:
        app.config["IRIS_RATELIMIT_API"] = "300 per minute"
