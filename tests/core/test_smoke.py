from tests.helpers import text_of
from workflows.roles import Role


def test_home_page_for_anonymous_invites_registration(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "Register your agency" in text_of(resp)


def test_healthz_reports_database(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_friendly_404(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "Page not found" in text_of(resp)


def test_login_as_shows_the_users_name(client, login_as):
    user = login_as(Role.AGENCY_ADMIN)
    resp = client.get("/")
    assert user.name in text_of(resp)


def test_each_test_starts_with_an_empty_database(make, db_session):
    import sqlalchemy as sa

    from iris.accounts.models import User

    before = db_session.scalar(sa.select(sa.func.count()).select_from(User))
    make.user()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == before + 1
    assert before == 0
