"""Query budgets: a list page runs the same number of SQL statements for few rows and many.

One database of its own, filled by the scale loader (iris/ops/scale.py) twice: the counts are
taken after a small load and again after a load six times larger (more agencies,
applications, cases, certificates, registry entries and history), as the people who use
each page. A page whose count grows with the rows has an N+1; the budget is the most
statements the page may run. Every page below must exist in the URL map (a renamed page
fails here instead of silently leaving the budget).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from iris import create_app
from iris.accounts.models import Membership, Organisation, User
from iris.core.db import db, utcnow
from iris.core.security import hash_password
from iris.ops.scale import build_scale
from tests.helpers import Browser
from workflows.roles import OrgKind, Role

PASSWORD = "budget-password-1"

#: (url, who, budget of SQL statements); who: None = anonymous, or a login e-mail
PAGES = (
    ("/registry", None, 4),
    ("/registry?q=lodz", None, 6),
    ("/registry?q=lodz+sp&status=active", None, 6),
    ("/registry?status=active&country=PL&page=2", None, 4),
    ("/registry/feed.atom", None, 1),
    ("/audit/cases", "scale-001-planner@example.com", 4),
    ("/audit/cases", "scale-001-lead-auditor@example.com", 4),
    ("/applications/", "scale-reviewer-001@example.com", 4),
    ("/oversight/", "admin@example.com", 3),  # the stored figures (refreshed by tick)
    ("/admin/users", "admin@example.com", 5),
    ("/admin/organisations", "admin@example.com", 4),
    ("/admin/auditors", "admin@example.com", 6),
    ("/admin/outbox", "admin@example.com", 4),
    ("/complaints/", "admin@example.com", 5),
)


@pytest.fixture(scope="module")
def counts(tmp_path_factory):  # type: ignore[no-untyped-def]
    """{(url, who): [statements at the small size, at the large size]}."""
    from iris.extensions import limiter

    limits_were_on = limiter.enabled  # create_app() sets the shared limiter's switch
    tmp = tmp_path_factory.mktemp("budgets")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'budgets.db'}",
            "SERVER_NAME": "localhost",
            "IRIS_STORAGE_DIR": str(tmp / "storage"),
            "IRIS_SIGNING_KEY_DIR": str(tmp / "keys"),
            "IRIS_SMTP_URL": "",
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "IRIS_VERIFICATION_LOG_SYNC": True,
        }
    )
    out: dict[tuple[str, str | None], list[int]] = {}
    with app.app_context():
        db.create_all()
        manager = Organisation(kind=OrgKind.SCHEME_MANAGER, name="Scheme", country="CH")
        admin = User(
            email="admin@example.com",
            name="Admin",
            password_hash=hash_password(PASSWORD),
            email_verified_at=utcnow(),
        )
        db.session.add_all([manager, admin])
        db.session.flush()
        db.session.add(
            Membership(user_id=admin.id, organisation_id=manager.id, role=Role.SCHEME_ADMIN)
        )
        db.session.commit()
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        entries = []
        for size in (25, 150):
            build_scale(size, password=PASSWORD, seed=size, echo=lambda _: None, workers=1)
            db.session.remove()
            entries.append(db.session.scalar(sa.text("SELECT count(*) FROM registry_entries")))
            for url, who in {(u, w) for u, w, _ in PAGES}:
                assert url.split("?")[0] in rules, url
                out.setdefault((url, who), []).append(_statements(app, url, who))
        db.engine.dispose()
    assert entries == [25, 175]  # the second measurement saw seven times the rows
    out[("app", None)] = app  # type: ignore[assignment]
    yield out
    limiter.enabled = limits_were_on


def _statements(app, url: str, who: str | None) -> int:  # type: ignore[no-untyped-def]
    with app.test_client() as raw:
        browser = Browser(raw)
        if who is not None:
            login = browser.post("/login", {"email": who, "password": PASSWORD})
            assert login.status_code == 302, who
        browser.get(url)  # warm: caches filled once per process are not the page's cost
        seen: list[str] = []

        def count(*_args) -> None:  # type: ignore[no-untyped-def]
            seen.append("x")

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = browser.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, who, response.status_code)
        return len(seen)


@pytest.mark.parametrize(("url", "who", "budget"), PAGES)
def test_the_page_runs_a_fixed_number_of_statements(counts, url, who, budget):  # type: ignore[no-untyped-def]
    small, large = counts[(url, who)]
    assert large == small, f"{url} as {who}: {small} statements with few rows, {large} with more"
    assert large <= budget, f"{url} as {who}: {large} statements, budget {budget}"


def test_long_lists_are_paginated(counts):  # type: ignore[no-untyped-def]
    """The reviewer's application list (about 190 applications) shows one page at a time."""
    app = counts[("app", None)]
    with app.app_context(), app.test_client() as raw:
        browser = Browser(raw)
        browser.post("/login", {"email": "scale-reviewer-001@example.com", "password": PASSWORD})
        first = browser.get("/applications/").get_data(as_text=True)
        assert first.count(">Open</a>") == 25
        assert 'href="/applications/?page=2"' in first and 'aria-current="page">1<' in first
        second = browser.get("/applications/?page=2").get_data(as_text=True)
        assert 'aria-current="page">2<' in second


def test_past_the_count_cap_the_lists_run_the_same_statements(counts, monkeypatch):  # type: ignore[no-untyped-def]
    """With more matches than the cap, the registry and the queue take their other plan (a
    walk in the page's order): the same number of statements as when they count."""
    from iris.fieldwork import queries as fieldwork_queries
    from iris.registry import queries as registry_queries

    app = counts[("app", None)]
    monkeypatch.setattr(registry_queries, "COUNT_CAP", 3)
    monkeypatch.setattr(fieldwork_queries, "QUEUE_COUNT_CAP", 3)
    with app.app_context():
        for url, who in (
            ("/registry", None),
            ("/registry?q=lodz", None),
            ("/registry?status=active&country=PL&page=2", None),
            ("/audit/cases", "scale-001-planner@example.com"),
            ("/audit/cases", "scale-001-lead-auditor@example.com"),
        ):
            capped = _statements(app, url, who)
            assert capped == counts[(url, who)][1], (url, who, capped, counts[(url, who)])
        with app.test_client() as raw:
            page = Browser(raw).get("/registry?q=lodz").get_data(as_text=True)
        assert "More than 3 certificates" in page
