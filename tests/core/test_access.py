"""Every route is declared public or protected, and protected ones keep anonymous users out.

A new route that carries none of the decorators of iris.core.permissions fails here.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

#: Endpoints served by extensions, not by our views.
EXTENSION_ENDPOINTS = {"static", "bootstrap.static"}


def _rules(app) -> list[Rule]:  # type: ignore[no-untyped-def]
    return [r for r in app.url_map.iter_rules() if r.endpoint not in EXTENSION_ENDPOINTS]


def _url(rule: Rule) -> str:
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg]
        if hasattr(conv, "items"):  # any(...): one of its values
            values[arg] = sorted(conv.items)[0]
        elif type(conv).__name__ in ("IntegerConverter", "NumberConverter"):
            values[arg] = 1
        else:
            values[arg] = "x1"
    url = rule.build(values, append_unknown=False)
    assert url is not None
    return url[1]


def test_every_route_declares_its_access(app):
    undeclared = [
        r.endpoint
        for r in _rules(app)
        if getattr(app.view_functions[r.endpoint], "iris_access", None) is None
    ]
    assert undeclared == [], "routes without @public/@login_required/@roles_required"


def test_anonymous_users_are_sent_to_sign_in_on_protected_pages(app, client):
    wrong = []
    for rule in _rules(app):
        access = app.view_functions[rule.endpoint].iris_access
        if "GET" not in (rule.methods or ()) or access in ("public", "token"):
            continue
        resp = client.get(_url(rule))
        if access == "api":
            ok = resp.status_code == 401
        else:
            ok = resp.status_code == 302 and "/login" in resp.headers["Location"]
        if not ok:
            wrong.append((rule.rule, resp.status_code))
    assert wrong == []


def test_public_pages_never_fail_for_anonymous_users(app, client):
    failing = []
    for rule in _rules(app):
        if app.view_functions[rule.endpoint].iris_access != "public":
            continue
        if "GET" in (rule.methods or ()):
            resp = client.get(_url(rule))
            if resp.status_code >= 500:
                failing.append((rule.rule, resp.status_code))
    assert failing == []


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_state_changing_route_refuses_a_request_without_csrf_token(
    app, client, login_as, signed_in
):
    from workflows.roles import Role

    if signed_in:
        login_as(Role.SCHEME_ADMIN)
    accepted = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "iris_csrf_exempt", False):
            continue  # token-authenticated JSON API: no cookies, so no CSRF
        for method in {"POST", "PUT", "PATCH", "DELETE"} & (rule.methods or set()):
            resp = client.open(method, _url(rule), data={})
            if resp.status_code != 400:
                accepted.append((method, rule.rule, resp.status_code))
    assert accepted == []
