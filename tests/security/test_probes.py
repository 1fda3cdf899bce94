"""Probes: what an attacker types or sends is shown escaped, searched literally, refused with
a clear 4xx, and never answered with a traceback, SQL or a path of the server."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from iris.certificates.operations import issue_certificate
from iris.complaints.models import Complaint
from iris.questionnaires.models import EvidenceDocument
from tests.helpers import text_of
from tests.security import objects
from workflows.certification import CaseState

PAYLOAD = '<script>alert("x")</script><img src=x onerror="alert(1)">'
ESCAPED = "&lt;script&gt;"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
#: What must never reach a user: a traceback, SQL, the server's paths, driver names.
LEAKS = re.compile(
    r"Traceback|File \"/|/work/|site-packages|sqlalchemy|sqlite3|psycopg|"
    r"\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bUPDATE\b \w+ \bSET\b",
    re.IGNORECASE,
)


@pytest.fixture
def o(app, make, db_session):  # type: ignore[no-untyped-def]
    objs = objects.build(make, db_session)
    db_session.commit()  # a refused request's rollback undoes that request only
    return objs


def _as(client: Any, user: Any | None) -> None:
    client.logout()
    if user is not None:
        client.login(user)


def _escaped(resp: Any, before: str = "") -> None:
    """The page shows the payload (after ``before``) as text, never as markup."""
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, resp.status_code
    assert "<script>alert" not in html and "<img src=x" not in html
    assert before + ESCAPED in html, "the text was not shown back at all"


# Script and HTML injection --------------------------------------------------------------------


def test_agency_name_is_escaped_in_the_registry_and_on_the_verify_page(client, o, db_session):  # type: ignore[no-untyped-def]
    w = o.world
    w.agency.name = "Agencja " + PAYLOAD
    cert = issue_certificate(w.case(CaseState.CERTIFIED), actor=w.decider, now=w.now)
    db_session.commit()
    _as(client, None)
    _escaped(client.get("/registry?q=Agencja"))
    _escaped(client.get(f"/verify/{cert.number}"))
    csv = client.get("/registry.csv").get_data(as_text=True)
    assert not re.search(r'(^|,)"?[=+@]', csv, re.MULTILINE), "a cell starts a spreadsheet formula"


def test_answers_comments_and_findings_are_escaped(client, o, db_session):  # type: ignore[no-untyped-def]
    w = o.world
    # the self-assessment is submitted (no longer editable): the answer is put in place
    o.response.answers = {**o.response.answers, "M01": "yes", "M01.manager": PAYLOAD}
    o.finding.statement = "Fee paid " + PAYLOAD
    db_session.commit()
    # the auditor asks about an answer, in a message shown to the agency
    _as(client, w.lead)
    asked = client.post(
        f"/audit/cases/{o.case.public_id}/answers/A02", {"body": "Explain " + PAYLOAD}
    )
    assert asked.status_code in (200, 302), text_of(asked)[:300]
    _as(client, w.agency_admin)
    _escaped(client.get(f"/audit/cases/{o.case.public_id}/answers/A02"), "Explain ")
    _escaped(client.get(f"/audit/cases/{o.case.public_id}"), "Fee paid ")  # the finding
    _escaped(client.get(f"/applications/{o.application.public_id}/self-assessment/M"))


def test_complaint_text_is_escaped(client, o, db_session):  # type: ignore[no-untyped-def]
    _as(client, None)
    url = f"/verify/{o.certificate.number}/concern"
    resp = client.post(url, {"text": "I paid a fee. " + PAYLOAD, "language": "en"})
    assert resp.status_code == 302, text_of(resp)[:300]
    complaint = db_session.scalars(
        sa.select(Complaint).where(Complaint.text.contains("I paid a fee."))
    ).one()
    _as(client, o.world.scheme_admin)
    _escaped(client.get(f"/complaints/{complaint.public_id}"))


# SQL metacharacters in every search box -------------------------------------------------------

META = ["'", '"', ";", "--", "%", "_", "\\", "' OR '1'='1", "%' --", "a%b_c\\"]
SEARCHES = [
    ("/registry", "q", None),
    ("/admin/users", "q", "Anna Admin"),
    ("/admin/organisations", "q", "Cert Audit"),
    ("/admin/auditors", "q", "Leon Lead"),
    ("/admin/outbox", "q", None),
    ("/admin/access-log", "person", None),
    ("/applications/", "q", None),
    ("/complaints/", "q", None),
    ("/audit/cases", "q", None),
]


def test_sql_metacharacters_are_searched_literally(client, o):  # type: ignore[no-untyped-def]
    _as(client, o.world.scheme_admin)
    for value, (url, param, name) in ((v, s) for v in META for s in SEARCHES):
        resp = client.get(url, query_string={param: value})
        if url == "/audit/cases":  # the scheme admin has no queue there; the lead auditor does
            _as(client, o.world.lead)
            resp = client.get(url, query_string={param: value})
            _as(client, o.world.scheme_admin)
        text = text_of(resp)
        assert resp.status_code == 200, (url, value, resp.status_code)
        assert not LEAKS.search(resp.get_data(as_text=True)), (url, value)
        if name:  # nobody's name contains these characters: nothing matches
            assert name not in text, (url, value, "the search matched everything")
        # the public registry finds nothing either
        assert "Agencja Pracy" not in text_of(client.get("/registry", query_string={"q": value}))


# Uploads --------------------------------------------------------------------------------------


def _upload(client: Any, name: str, data: bytes, content_type: str, **over: Any) -> Any:
    form = {
        "file": (io.BytesIO(data), name, content_type), "title": "Policy", "doc_type": "policy",
        "language": "pl", "confidentiality": "audit_only", "valid_from": "", "valid_to": "",
    } | over  # fmt: skip
    return client.post("/evidence/upload", form, content_type="multipart/form-data")


@pytest.fixture
def agency_admin(make, db_session):  # type: ignore[no-untyped-def]
    from iris.questionnaires import definition as d
    from iris.questionnaires import operations as qops
    from iris.questionnaires.demo import IRIS_12
    from workflows.roles import Role

    if qops.latest_published() is None:  # the evidence types come from the questionnaire
        qops.publish_version(qops.import_version(d.read_data(IRIS_12)).version)
    user = make.user_with_role(Role.AGENCY_ADMIN, make.agency(complete=True))
    db_session.commit()
    return user


def _documents(db_session: Any) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(EvidenceDocument))


@pytest.mark.parametrize(
    ("name", "data", "claimed"),
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("scan.png", b"MZ\x90\x00\x03" + b"\x00" * 64, "image/png"),
        ("policy.html", PDF, "text/html"),
        ("policy.exe", PDF, "application/pdf"),
        ("policy.pdf", b"", "application/pdf"),
    ],
)
def test_lying_uploads_are_refused_and_nothing_is_stored(
    client, agency_admin, db_session, name, data, claimed
):  # type: ignore[no-untyped-def]
    before = _documents(db_session)
    _as(client, agency_admin)
    resp = _upload(client, name, data, claimed)
    assert resp.status_code == 422, resp.status_code
    assert name in text_of(resp)  # the message names the file and what is wrong
    assert _documents(db_session) == before


def test_path_traversal_names_are_cut_to_the_file_name(client, agency_admin, db_session, app):  # type: ignore[no-untyped-def]
    from pathlib import Path

    storage_dir = Path(app.config["IRIS_STORAGE_DIR"])
    outside = set(storage_dir.parent.iterdir())
    _as(client, agency_admin)
    for name in ("../../../../etc/cron.d/x.pdf", "..\\..\\windows\\x.pdf"):
        resp = _upload(client, name, PDF + name.encode(), "application/pdf")
        assert resp.status_code == 302, text_of(resp)[:300]
    names = db_session.scalars(
        sa.select(EvidenceDocument.file_name).order_by(EvidenceDocument.id.desc()).limit(2)
    ).all()
    assert names[1] == "x.pdf"  # the name without its directories
    assert not any("/" in n or "\\" in n for n in names), names
    assert set(storage_dir.parent.iterdir()) == outside  # nothing written beside the store


def test_an_oversized_body_gets_the_413_page_and_nothing_is_stored(
    client, agency_admin, db_session, app
):  # type: ignore[no-untyped-def]
    before = _documents(db_session)
    _as(client, agency_admin)
    token = client.csrf_token("/evidence/upload")
    head = (
        f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        '--b\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = head + PDF + b"0" * app.config["MAX_CONTENT_LENGTH"] + b"\r\n--b--\r\n"
    resp = client.open(
        "POST", "/evidence/upload", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert resp.status_code == 413
    assert "larger than the limit" in text_of(resp)
    assert _documents(db_session) == before


@pytest.mark.parametrize(
    "over",
    [
        {"valid_from": "2024-13-45"},
        {"valid_from": "2025-01-01", "valid_to": "2024-01-01"},
        {"confidentiality": "top-secret"},
        {"doc_type": "<script>"},
        {"language": "xx" * 40},
        {"title": "x" * 5000},
    ],
)
def test_wrong_types_and_values_are_refused_and_nothing_is_stored(
    client, agency_admin, db_session, over
):  # type: ignore[no-untyped-def]
    before = _documents(db_session)
    _as(client, agency_admin)
    resp = _upload(client, "policy.pdf", PDF + repr(over).encode(), "application/pdf", **over)
    assert resp.status_code == 422, resp.status_code
    assert _documents(db_session) == before
    assert "<script>" not in resp.get_data(as_text=True)


def test_a_start_of_validity_without_an_end_is_kept(client, agency_admin, db_session):  # type: ignore[no-untyped-def]
    _as(client, agency_admin)
    resp = _upload(
        client, "policy.pdf", PDF + b"start-only", "application/pdf", valid_from="2024-02-29"
    )
    assert resp.status_code in (302, 303), resp.status_code
    doc = db_session.scalars(
        sa.select(EvidenceDocument).order_by(EvidenceDocument.id.desc())
    ).first()
    assert (doc.valid_from, doc.valid_to) == (dt.date(2024, 2, 29), None)


# Error pages ----------------------------------------------------------------------------------


@pytest.fixture
def production_errors(app):  # type: ignore[no-untyped-def]
    """Errors as users see them in production: debug off, exceptions not propagated."""
    saved = {k: app.config.get(k) for k in ("PROPAGATE_EXCEPTIONS", "DEBUG", "IRIS_DEBUG")}
    app.config.update(PROPAGATE_EXCEPTIONS=False, DEBUG=False, IRIS_DEBUG=False)
    yield app
    app.config.update(saved)


def _boom(*_a: Any, **_kw: Any) -> Any:
    raise sa.exc.OperationalError(
        "SELECT password_hash FROM users WHERE email = 'x'", {}, Exception("/srv/iris/db locked")
    )


@pytest.mark.parametrize("endpoint, url", [("main.home", "/"), ("api.ping", "/api/v1/ping")])
def test_an_internal_error_shows_no_traceback_sql_or_path(
    client, production_errors, monkeypatch, endpoint, url
):  # type: ignore[no-untyped-def]
    app = production_errors
    monkeypatch.setitem(app.view_functions, endpoint, _boom)
    resp = client.get(url)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert not LEAKS.search(body) and "password_hash" not in body and "/srv/" not in body
    if url.startswith("/api/"):
        assert resp.json["error"]["code"] == "server_error"
    else:
        assert "Something went wrong" in text_of(resp)


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/api/v1/no-such-thing", 404),
        ("DELETE", "/registry", 405),
        ("POST", "/login", 400),  # no CSRF token
        ("GET", "/registry?status=%27%3B--", 400),
        ("GET", "/verify/%27%20OR%201%3D1--", 404),
    ],
)
def test_error_answers_are_clear_and_leak_nothing(client, production_errors, method, url, status):  # type: ignore[no-untyped-def]
    resp = client.open(method, url)
    assert resp.status_code == status
    assert not LEAKS.search(resp.get_data(as_text=True))
