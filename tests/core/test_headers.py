import re

from workflows.roles import Role


def test_pages_carry_a_strict_content_security_policy(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles(client, login_as):
    login_as(Role.SCHEME_ADMIN)
    for url in ("/", "/login", "/register"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\sstyle=\"", html), url
        assert not re.search(r"\son[a-z]+=\"", html), url


def test_session_cookie_is_httponly_and_samesite(client, make):
    from tests.factories import PASSWORD

    user = make.user()
    resp = client.post("/login", {"email": user.email, "password": PASSWORD})
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and "session=" in v)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_cookies_are_secure_outside_debug():
    from iris.config import load

    assert load("/tmp", {})["SESSION_COOKIE_SECURE"] is True
    assert load("/tmp", {"IRIS_DEBUG": "1"})["SESSION_COOKIE_SECURE"] is False
