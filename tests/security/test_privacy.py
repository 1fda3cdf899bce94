"""Restricted personal data: the access log, a person's own data, and erasure."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from iris.accounts.models import User
from iris.admin.models import AdminAction, AdminActionKind
from iris.core.history import verify_chains
from iris.privacy.models import AccessLogEntry, AppendOnlyError, SubjectKind
from iris.questionnaires import operations as qops
from iris.questionnaires.models import Confidentiality
from tests.factories import PASSWORD
from tests.helpers import Browser, text_of
from workflows.certificate import CertificateState
from workflows.certification import CaseState
from workflows.complaint import ComplaintState

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _as(client, user):  # type: ignore[no-untyped-def]
    client.logout()
    client.login(user)


def _log(db_session) -> list[AccessLogEntry]:  # type: ignore[no-untyped-def]
    return list(db_session.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id)))


@pytest.fixture
def interviewed(world, db_session):  # type: ignore[no-untyped-def]
    case = world.case(CaseState.STAGE2)
    world.fieldwork_done(case)
    return case


# Access log --------------------------------------------------------------------------------------


def test_viewing_interviews_writes_an_entry_the_scheme_admin_sees(
    client,
    world,
    interviewed,
    db_session,
):  # type: ignore[no-untyped-def]
    url = f"/audit/cases/{interviewed.public_id}/interviews"
    _as(client, world.lead)
    assert client.get(url).status_code == 200
    [entry] = _log(db_session)
    assert entry.actor_id == world.lead.id
    assert entry.subject_kind is SubjectKind.WORKER_INTERVIEWS
    assert entry.subject_ref == interviewed.public_id
    assert entry.endpoint == "fieldwork.interviews"
    assert entry.details["interviews"][0] == "W-1"

    _as(client, world.scheme_admin)
    assert 'href="/admin/access-log"' in client.get("/admin/users").get_data(as_text=True)
    page = client.get("/admin/access-log")
    assert page.status_code == 200
    text = text_of(page)
    assert "Leon Lead" in text and interviewed.public_id in text and "W-1" in text
    # filters: by person and by subject
    assert "Leon Lead" in text_of(client.get("/admin/access-log?person=leon"))
    assert "Leon Lead" not in text_of(client.get("/admin/access-log?person=Ada"))
    assert "Leon Lead" in text_of(client.get(f"/admin/access-log?subject={interviewed.public_id}"))
    assert "Leon Lead" not in text_of(client.get("/admin/access-log?subject=nothing"))


def test_a_refused_view_writes_nothing_and_agencies_cannot_read_the_log(
    client,
    world,
    interviewed,
    db_session,
):  # type: ignore[no-untyped-def]
    _as(client, world.agency_admin)
    assert client.get(f"/audit/cases/{interviewed.public_id}/interviews").status_code == 404
    assert _log(db_session) == []
    for user in (world.agency_admin, world.lead, world.reviewer):
        _as(client, user)
        assert client.get("/admin/access-log").status_code == 403
    client.logout()
    assert client.get("/admin/access-log").status_code == 302


def test_restricted_evidence_downloads_are_logged_others_are_not(
    client,
    world,
    db_session,
):  # type: ignore[no-untyped-def]
    docs = {}
    for level in (Confidentiality.RESTRICTED, Confidentiality.AUDIT_ONLY):
        doc = qops.upload_evidence(
            world.agency, actor=world.agency_admin, data=PDF + level.value.encode(),
            file_name=f"{level.value}.pdf", content_type="application/pdf",
            title=f"Doc {level.value}", doc_type="policy", language="pl",
        )  # fmt: skip
        doc.confidentiality = level
        docs[level] = doc
    db_session.flush()
    _as(client, world.agency_admin)
    assert (
        client.get(f"/evidence/{docs[Confidentiality.AUDIT_ONLY].public_id}/download").status_code
        == 200
    )
    assert _log(db_session) == []
    assert (
        client.get(f"/evidence/{docs[Confidentiality.RESTRICTED].public_id}/download").status_code
        == 200
    )
    [entry] = _log(db_session)
    assert entry.subject_kind is SubjectKind.RESTRICTED_EVIDENCE
    assert entry.subject_ref == docs[Confidentiality.RESTRICTED].public_id
    assert entry.actor_id == world.agency_admin.id


def test_entries_cannot_be_changed_or_deleted(client, world, interviewed, db_session):  # type: ignore[no-untyped-def]
    _as(client, world.lead)
    client.get(f"/audit/cases/{interviewed.public_id}/interviews")
    [entry] = _log(db_session)
    entry.endpoint = "somewhere.else"
    with pytest.raises(AppendOnlyError):
        db_session.flush()
    db_session.rollback()
    [entry] = _log(db_session)
    db_session.delete(entry)
    with pytest.raises(AppendOnlyError):
        db_session.flush()


# My data -----------------------------------------------------------------------------------------


def test_a_person_downloads_their_own_data_and_nobody_elses(client, world, db_session):  # type: ignore[no-untyped-def]
    out = world.journey("accepted")
    doc = qops.upload_evidence(
        world.agency, actor=world.agency_admin, data=PDF + b"mine", file_name="policy.pdf",
        content_type="application/pdf", title="Our fee policy", doc_type="policy", language="pl",
    )  # fmt: skip
    db_session.flush()
    _as(client, world.agency_admin)
    page = client.get("/account/my-data")
    assert page.status_code == 200 and "Anna Admin" in text_of(page)
    resp = client.get("/account/my-data.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(resp.get_data(as_text=True))
    assert data["profile"]["name"] == "Anna Admin"
    assert data["profile"]["email"] == world.agency_admin.email
    assert [m["role"] for m in data["memberships"]] == ["agency_admin"]
    mine = {(h["subject_type"], h["subject_id"], h["trigger"]) for h in data["history"]}
    app_id = out["application"].id
    assert {("application", app_id, "create"), ("application", app_id, "submit")} <= mine
    assert ("application", app_id, "accept") not in mine  # the reviewer's step
    assert doc.public_id in {u["id"] for u in data["uploads"]}
    assert "password" not in resp.get_data(as_text=True)
    # the reviewer's file holds the accept step and not the agency's upload
    _as(client, world.reviewer)
    theirs = json.loads(client.get("/account/my-data.json").get_data(as_text=True))
    assert ("application", app_id, "accept") in {
        (h["subject_type"], h["subject_id"], h["trigger"]) for h in theirs["history"]
    }
    assert theirs["uploads"] == [] and theirs["profile"]["name"] == "Rita Reviewer"
    client.logout()
    assert client.get("/account/my-data.json").status_code == 302


# Erasure -----------------------------------------------------------------------------------------


def test_erasure_needs_a_reason_and_refuses_oneself(client, world, db_session):  # type: ignore[no-untyped-def]
    url = f"/admin/users/{world.agency_admin.public_id}/erase"
    _as(client, world.scheme_admin)
    assert url in client.get(f"/admin/users/{world.agency_admin.public_id}").get_data(as_text=True)
    assert "Anna Admin" in text_of(client.get(url))
    assert client.post(url, {"reason": "  "}).status_code == 422
    db_session.refresh(world.agency_admin)
    assert world.agency_admin.name == "Anna Admin" and world.agency_admin.is_active
    own = client.post(f"/admin/users/{world.scheme_admin.public_id}/erase", {"reason": "test"})
    assert own.status_code == 409 and "your own account" in text_of(own)
    _as(client, world.agency_admin)
    assert client.get(url).status_code == 403


def test_erasure_pseudonymises_and_keeps_history_verifiable(client, app, world, db_session):  # type: ignore[no-untyped-def]
    out = world.journey("accepted")
    person = world.agency_admin
    old_name, old_email = person.name, person.email
    assert verify_chains(db_session).ok

    # the person has an API token
    from datetime import timedelta

    from iris.api.models import ApiToken
    from iris.api.operations import create_token

    token, secret = create_token(
        actor=person,
        name="ERP",
        scopes=["applications:read"],
        expires_at=world.now + timedelta(days=30),
    )
    db_session.flush()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200

    # the person is signed in elsewhere
    elsewhere = Browser(app.test_client())
    elsewhere.login(person)
    assert elsewhere.get("/account/my-data").status_code == 200

    _as(client, world.scheme_admin)
    resp = client.post(
        f"/admin/users/{person.public_id}/erase", {"reason": "Request under GDPR art. 17"}
    )
    assert resp.status_code == 302
    db_session.expire_all()
    person = db_session.get(User, person.id)
    assert person.name.startswith("Erased person #") and not person.is_active
    assert person.password_hash is None

    # the history still verifies, and names nobody
    result = verify_chains(db_session)
    assert result.ok and result.checked >= 4
    # no user row holds the old name or e-mail in any column
    rows = db_session.execute(sa.select(User.__table__)).all()
    flat = " ".join(str(v) for row in rows for v in row)
    assert old_name not in flat and old_email not in flat
    # pages that show actors show the pseudonym
    for url in (
        f"/application/{out['application'].public_id}",
        f"/admin/users/{person.public_id}",
        "/admin/users",
    ):
        text = text_of(client.get(url))
        assert old_name not in text and old_email not in text, url
        assert person.name in text, url
    # the erasure is in the administrators' log, with its reason and by whom
    entry = db_session.scalars(
        sa.select(AdminAction).where(AdminAction.kind == AdminActionKind.USER_ERASED)
    ).one()
    assert entry.actor_id == world.scheme_admin.id and entry.user_id == person.id
    assert entry.reason == "Request under GDPR art. 17"
    assert "Personal data erased" in text_of(client.get(f"/admin/users/{person.public_id}"))
    # the open session has ended and the old password no longer signs in
    assert elsewhere.get("/account/my-data").status_code == 302
    elsewhere.logout()
    login = elsewhere.post("/login", {"email": old_email, "password": PASSWORD})
    assert login.status_code != 302 or "/login" in login.headers.get("Location", "")
    assert elsewhere.get("/account/my-data").status_code == 302
    # the API token is revoked (kept, by whom) and no longer opens the API
    db_session.refresh(token)
    assert token.revoked_at is not None and token.revoked_by_id == world.scheme_admin.id
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert entry.details["api_tokens_revoked"] == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    # a second erasure is refused
    again = client.post(f"/admin/users/{person.public_id}/erase", {"reason": "again"})
    assert again.status_code == 409


def test_erasure_reaches_mail_subscriptions_and_complaints_with_the_address(
    client, world, make, db_session
):  # type: ignore[no-untyped-def]
    from iris.core.mail import OutboxMessage, queue_mail
    from iris.core.outbox import OutboxStatus
    from iris.notifications.models import Subscription

    person = world.agency_admin
    old_name, old_email = person.name, person.email
    queue_mail(old_email, "verify_email", user=person, link="https://example.com/x")
    cert = world.certificate(CertificateState.ACTIVE)
    db_session.add(Subscription(certificate=cert, email=old_email.upper()))
    complaint = world.complaint(
        ComplaintState.RECEIVED,
        text="Fees were asked at the office.",
        complainant_name=old_name,
        complainant_contact=old_email,
    )
    mail = db_session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to_address == old_email)
    ).all()
    assert mail and any(old_name in m.body for m in mail)

    _as(client, world.scheme_admin)
    resp = client.post(f"/admin/users/{person.public_id}/erase", {"reason": "Request"})
    assert resp.status_code == 302
    db_session.expire_all()
    for message in mail:
        db_session.refresh(message)
        assert old_email not in message.to_address and old_name not in message.body
        assert message.status != OutboxStatus.PENDING  # never delivered to the old address
    db_session.refresh(complaint)
    assert complaint.complainant_contact is None and complaint.complainant_name != old_name
    assert complaint.text == "Fees were asked at the office."  # the complaint itself stays
    subs = db_session.scalars(sa.select(Subscription)).all()
    assert subs and all(old_email.lower() != s.email.lower() and s.unsubscribed_at for s in subs)
