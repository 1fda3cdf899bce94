"""The authorisation matrix: every route × every role (and anonymous visitors) × an object of
the user's own organisation and another organisation's, against the rows declared in
:mod:`tests.security.access_matrix`.

Reads are sent as GET to every route that has one; state-changing methods are sent only by
those who must be refused (with a valid CSRF token, so the refusal is the authorisation's,
not the CSRF check's), and every such request must write nothing to the database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.routing import Rule

from tests.security import objects
from tests.security.access_matrix import EXPECTED, Expect
from workflows.roles import Role

#: Endpoints served by extensions, not by our views.
EXTENSION_ENDPOINTS = {"static", "bootstrap.static"}
CHANGING = ("POST", "PUT", "PATCH", "DELETE")
#: Everyone the matrix asks: anonymous visitors (None) and every role of workflows/roles.py
#: that a person can hold (``public`` is the anonymous visitor, ``system`` the timers).
ROLES: list[Role | None] = [None, *(r for r in Role if r not in (Role.PUBLIC, Role.SYSTEM))]
OBSERVE = os.environ.get("IRIS_MATRIX_OBSERVE")  # a file to print the observed matrix into


def _rules(app: Any) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in EXTENSION_ENDPOINTS),
        key=lambda r: (r.rule, r.endpoint),
    )


def _url(rule: Rule, exp: Expect, objs: Any) -> str:
    values = exp.args(objs)
    missing = [a for a in rule.arguments if a not in values]
    assert not missing, f"the row for {rule.endpoint} gives no value for {missing} ({rule.rule})"
    built = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)
    assert built is not None
    return built[1]


def _suggestion(app: Any, rule: Rule) -> str:
    view = app.view_functions[rule.endpoint]
    access = getattr(view, "iris_access", None)
    args = ", ".join(f'"{a}": ...' for a in sorted(rule.arguments))
    fill = f"lambda o: {{{args}}}" if args else ""
    if access == "public":
        row = f"public({fill})"
    elif access == "api":
        row = f"token({fill})"
    elif access == "roles":
        names = ", ".join(f"Role.{r.name}" for r in sorted(view.iris_roles))
        row = f"roles({names}{', args=' + fill if fill else ''}{', scoped=True' if args else ''})"
    else:
        row = f"signed_in({fill}{', scoped=True' if args else ''})"
    return f'    "{rule.endpoint}": {row},  # {rule.rule} {sorted(rule.methods or [])}'


def test_every_route_has_a_declared_expectation(app):  # type: ignore[no-untyped-def]
    missing = sorted({r.endpoint: r for r in _rules(app) if r.endpoint not in EXPECTED}.values(),
                     key=lambda r: r.endpoint)  # fmt: skip
    assert not missing, (
        "Routes without a row in tests/security/access_matrix.py EXPECTED; add (and check the "
        "roles and args of) these lines:\n" + "\n".join(_suggestion(app, r) for r in missing)
    )
    stale = sorted(set(EXPECTED) - {r.endpoint for r in _rules(app)})
    assert not stale, f"rows for routes that no longer exist (remove them): {stale}"


# --------------------------------------------------------------------------------- answers


def _to_sign_in(resp: Any) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers.get("Location", "")


def _json_401(resp: Any) -> bool:
    if resp.status_code != 401 or resp.mimetype != "application/json":
        return False
    return "error" in json.loads(resp.get_data(as_text=True))


def _refusal_for_anonymous(rule: Rule, resp: Any) -> bool:
    return _json_401(resp) if rule.rule.startswith("/api/") else _to_sign_in(resp)


def _problem(rule: Rule, exp: Expect, role: Role | None, resp: Any, *, other: bool) -> str | None:
    """What is wrong with ``resp`` (None if it is what the row says)."""
    code = resp.status_code
    if code >= 500:
        return f"{code} (server error)"
    if exp.kind == "token":
        return None if _json_401(resp) else f"{code}, expected 401 with a JSON error"
    if exp.kind == "public":
        if exp.status is not None:
            return None if code in exp.status else f"{code}, expected one of {sorted(exp.status)}"
        return None if code < 400 else f"{code}, expected a 2xx/3xx for everyone"
    if role is None:
        return None if _refusal_for_anonymous(rule, resp) else f"{code}, expected sign-in"
    if not exp.lets_in(role):
        return None if code in (403, 404) else f"{code}, expected 403 or 404"
    if other and role not in exp.sees_all:
        return None if code == 404 else f"{code} on another organisation's object, expected 404"
    if exp.status is not None:
        return None if code in exp.status else f"{code}, expected {sorted(exp.status)}"
    if code < 400 and not _to_sign_in(resp):
        return None
    return f"{code}, expected to get in"


@contextmanager
def _as(client: Any, users: dict[Role, Any], role: Role | None) -> Iterator[None]:
    client.logout()
    if role is not None:
        client.login(users[role])
    yield


@pytest.fixture
def two_worlds(app, make, db_session):  # type: ignore[no-untyped-def]
    worlds = objects.build(make, db_session), objects.build(make, db_session)
    # committed into the test's outer transaction, so that a view's rollback of a refused
    # request undoes that request only (still rolled back at the end of the test)
    db_session.commit()
    return worlds


def test_who_can_read_what(app, client, two_worlds):  # type: ignore[no-untyped-def]
    own, other = two_worlds
    problems: list[str] = []
    observed: dict[str, list[str]] = {}
    for role in ROLES:
        with _as(client, own.users, role):
            for rule in _rules(app):
                exp = EXPECTED.get(rule.endpoint)
                if exp is None or "GET" not in (rule.methods or ()):
                    continue
                resp = client.get(_url(rule, exp, own))
                cell = str(resp.status_code)
                wrong = _problem(rule, exp, role, resp, other=False)
                if wrong:
                    problems.append(
                        f"{rule.rule} [{rule.endpoint}] as {role or 'anonymous'}: {wrong}"
                    )
                if exp.scoped and rule.arguments and role is not None:
                    resp = client.get(_url(rule, exp, other))
                    cell += "/" + str(resp.status_code)
                    wrong = _problem(rule, exp, role, resp, other=True)
                    if wrong:
                        problems.append(f"{rule.rule} [{rule.endpoint}] as {role}: {wrong}")
                observed.setdefault(f"{rule.endpoint} {rule.rule}", []).append(cell)
    if OBSERVE:
        with open(OBSERVE, "w") as fh:
            fh.write("route | " + " ".join(str(r or "anon") for r in ROLES) + "\n")
            for name, cells in observed.items():
                fh.write(f"{name} | {' '.join(cells)}\n")
            fh.write("\n".join(problems))
    assert not problems, f"{len(problems)} answers differ from the matrix:\n" + "\n".join(problems)


@pytest.fixture
def writes(app):  # type: ignore[no-untyped-def]
    """The data-changing SQL statements sent while the test runs."""
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement.split("\n", 1)[0][:120])

    event.listen(sa.engine.Engine, "before_cursor_execute", _record)
    yield seen
    event.remove(sa.engine.Engine, "before_cursor_execute", _record)


def test_refused_changes_are_refused_and_write_nothing(app, client, two_worlds, writes):  # type: ignore[no-untyped-def]
    own, other = two_worlds
    problems: list[str] = []
    sent = 0
    for role in ROLES:
        with _as(client, own.users, role):
            token = client.csrf_token("/login" if role is None else "/")
            for rule in _rules(app):
                exp = EXPECTED.get(rule.endpoint)
                if exp is None:
                    continue
                for method in sorted(set(CHANGING) & (rule.methods or set())):
                    targets = []
                    if not exp.lets_in(role):
                        targets.append((own, False))
                    elif exp.scoped and rule.arguments and role not in exp.sees_all:
                        targets.append((other, True))
                    for objs, is_other in targets:
                        writes.clear()
                        resp = client.open(
                            method, _url(rule, exp, objs), data={"csrf_token": token}
                        )
                        sent += 1
                        who = role or "anonymous"
                        wrong = _problem(rule, exp, role, resp, other=is_other)
                        if wrong:
                            problems.append(
                                f"{method} {rule.rule} [{rule.endpoint}] as {who}: {wrong}"
                            )
                        if writes:
                            problems.append(
                                f"{method} {rule.rule} as {who} wrote to the database: {writes[:3]}"
                            )
    assert sent > 100  # the walk really sent the refused requests
    assert not problems, f"{len(problems)} refused changes misbehaved:\n" + "\n".join(problems)
