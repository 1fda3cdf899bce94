"""The public registry, through HTTP: every channel shows what the certificate is now."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from iris.certificates import numbering
from iris.core import signing
from iris.core.workflow import fire
from iris.registry.models import VerificationEvent

ATOM = "{http://www.w3.org/2005/Atom}"


def _typo(number: str) -> str:
    last = number[-2]
    return number[:-2] + ("1" if last != "1" else "2") + number[-1]


def test_verify_page_shows_status_holder_scope_and_history(client, issued):
    page = client.get(f"/verify/{issued.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "iris-status-active" in html and ">Active<" in html
    assert "Agencja Pracy Łódź" in html
    assert "Cert Audit Sp. z o.o." in html
    assert format_date(issued.expires_at.date(), locale="en") in html  # Nov 21, 2029
    assert "Report a concern" in html


def test_loosely_typed_number_redirects_to_the_canonical_page(client, issued):
    page = client.get(f"/verify/{issued.number.lower()}")
    assert page.status_code == 301
    assert page.headers["Location"].endswith(f"/verify/{issued.number}")


def test_unknown_number_gives_a_helpful_404_with_a_typo_hint(client, issued):
    typo = _typo(issued.number)
    assert not numbering.is_valid(typo)
    page = client.get(f"/verify/{typo}")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "check digit" in html
    assert "Did you mean" in html and issued.number in html

    page = client.get("/verify/hello-world")
    assert page.status_code == 404
    assert "does not look like an IRIS certificate number" in page.get_data(as_text=True)


def test_api_answers_the_documented_fields_and_the_credential_verifies(client, issued, app):
    response = client.get(f"/api/v1/certificates/{issued.number}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    for key in ("number", "status", "status_changed_at", "holder", "scope", "audit_company",
                "standard", "issued_at", "original_issued_at", "expires_at", "history",
                "verify_url", "credential"):  # fmt: skip
        assert key in body, key
    assert body["status"] == "active"
    assert body["holder"]["name"] == "Agencja Pracy Łódź"
    jwks = client.get("/.well-known/jwks.json").get_json()
    facts = signing.verify(body["credential"], jwks)
    assert facts["number"] == issued.number
    assert [h["to"] for h in body["history"]] == ["active"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/certificates/IRIS-PL-2020-0000017", 404, "not_found"),
        ("/api/v1/certificates/not-a-number", 400, "invalid_number"),
        ("/api/v1/certificates/" + "9" * 500, 400, "invalid_number"),
        ("/api/v1/certificates?status=sleeping", 400, "invalid_parameter"),
        ("/api/v1/certificates?page=0", 400, "invalid_parameter"),
        ("/api/v1/certificates?country=Poland", 400, "invalid_parameter"),
    ],
)
def test_bad_inputs_get_clear_json_errors(client, issued, path, status, code):
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_search_api_and_page_are_accent_insensitive(client, issued):
    body = client.get("/api/v1/certificates?q=lodz").get_json()
    assert [i["number"] for i in body["items"]] == [issued.number]
    assert body["total"] == 1
    assert client.get("/api/v1/certificates?q=krakow").get_json()["total"] == 0
    html = client.get("/registry?q=LODZ").get_data(as_text=True)
    assert issued.number in html
    html = client.get("/registry?q=nobody-like-this").get_data(as_text=True)
    assert issued.number not in html and "No certificate matches" in html


def test_search_by_registration_number_and_filters(client, issued, world):
    reg = world.agency.registration_numbers[0].value
    assert client.get(f"/api/v1/certificates?q={reg}").get_json()["total"] == 1
    assert client.get("/api/v1/certificates?status=suspended").get_json()["total"] == 0
    assert (
        client.get(f"/api/v1/certificates?country={world.agency.country}").get_json()["total"] == 1
    )
    assert client.get("/api/v1/certificates?country=ZZ").get_json()["total"] == 0


def test_csv_export_has_no_personal_data(client, issued, world):
    response = client.get("/registry.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["number"] for r in rows] == [issued.number]
    assert world.decider.name not in text and world.agency_admin.email not in text


def test_bulk_api_checks_certificate_and_registration_numbers(client, issued, world):
    reg = world.agency.registration_numbers[0].value
    response = client.post_json(
        "/api/v1/certificates/verify",
        {"numbers": [issued.number, reg, "IRIS-PL-2020-0000017", "junk"]},
    )
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["found"] for r in results] == [True, True, False, False]
    assert results[0]["certificates"][0]["status"] == "active"
    assert results[1]["certificates"][0]["number"] == issued.number


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"numbers": ["x"] * 1001}, 413, "too_many_items"),
        ({"nums": []}, 400, "invalid_body"),
        ({"numbers": [1, 2]}, 400, "invalid_body"),
        (None, 400, "invalid_body"),
    ],
)
def test_bulk_api_refuses_bad_requests(client, issued, payload, status, code):
    if payload is None:
        response = client.open(
            "POST", "/api/v1/certificates/verify", data="not json", content_type="application/json"
        )
    else:
        response = client.post_json("/api/v1/certificates/verify", payload)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_bulk_csv_check_in_the_browser(client, issued):
    data = f"number\n{issued.number}\nIRIS-PL-2020-0000017\n".encode()
    response = client.post(
        "/registry/check",
        {"file": (io.BytesIO(data), "numbers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["query"], r["found"], r["status"]) for r in rows] == [
        (issued.number, "yes", "active"), ("IRIS-PL-2020-0000017", "no", "")
    ]  # fmt: skip


def _channels(client, number):
    page = client.get(f"/verify/{number}").get_data(as_text=True)
    api = client.get(f"/api/v1/certificates/{number}").get_json()["status"]
    badge = client.get(f"/verify/{number}/badge.svg").get_data(as_text=True)
    feed = ET.fromstring(  # noqa: S314  (our own feed)
        client.get(f"/verify/{number}/feed.atom").get_data()
    )
    latest = feed.find(f"{ATOM}entry/{ATOM}category").get("term")
    jwks = client.get("/.well-known/jwks.json").get_json()
    status_list = signing.verify(
        client.get("/registry/status-list.jwt").get_data(as_text=True),
        jwks,
        typ="iris-status-list+jwt",
    )
    return page, api, badge, latest, status_list["statuses"][number]


def test_each_status_change_shows_in_every_channel(client, issued, world, db_session):
    page, api, badge, latest, listed = _channels(client, issued.number)
    assert ("iris-status-active" in page, api, "Active" in badge, latest, listed) == (
        True, "active", True, "active", "active"
    )  # fmt: skip

    fire(issued, "suspend", world.decider, reason="Surveillance overdue",
         reason_code="surveillance_refused_or_overdue")  # fmt: skip
    db_session.flush()
    page, api, badge, latest, listed = _channels(client, issued.number)
    assert "iris-status-suspended" in page and "Surveillance refused or overdue" in page
    assert (api, "Suspended" in badge, latest, listed) == (
        "suspended",
        True,
        "suspended",
        "suspended",
    )

    fire(issued, "restore", world.decider, reason="Surveillance done")
    fire(issued, "withdraw", world.decider, reason="Critical breach")
    db_session.flush()
    page, api, badge, latest, listed = _channels(client, issued.number)
    assert "iris-status-withdrawn" in page
    assert (api, "Withdrawn" in badge, latest, listed) == (
        "withdrawn",
        True,
        "withdrawn",
        "withdrawn",
    )
    history = client.get(f"/api/v1/certificates/{issued.number}").get_json()["history"]
    assert [h["to"] for h in history] == ["active", "suspended", "active", "withdrawn"]


def test_feed_of_all_changes_is_valid_atom(client, issued):
    root = ET.fromstring(  # noqa: S314  (our own feed)
        client.get("/registry/feed.atom").get_data()
    )
    assert root.tag == f"{ATOM}feed"
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert any(issued.number in t for t in titles)


def test_report_a_concern_opens_a_complaint_with_a_private_link(client, issued):
    from iris.complaints.models import Complaint

    url = f"/verify/{issued.number}/concern"
    response = client.post(url, {
        "text": "Agent w Lwowie kazał mi zapłacić 800 USD za wizę.",
        "language": "pl", "name": "", "contact": "",
    })  # fmt: skip
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    html = follow.get_data(as_text=True)
    complaint = Complaint.query.one()
    assert complaint.reference in html
    assert str(complaint.state) == "received" and complaint.certificate_id == issued.id
    assert complaint.language == "pl" and complaint.complainant_name is None

    too_short = client.post(url, {"text": "bad", "language": "en"})
    assert too_short.status_code == 400


def test_verifications_are_recorded_without_the_address(client, issued, db_session):
    client.get(f"/api/v1/certificates/{issued.number}")
    client.get("/api/v1/certificates/IRIS-PL-2020-0000017")
    events = db_session.scalars(sa.select(VerificationEvent).order_by(VerificationEvent.id)).all()
    assert [(e.kind, e.result) for e in events][-2:] == [("api", "found"), ("api", "not_found")]
    assert all(len(e.address_hash) == 64 and "127.0.0.1" not in e.address_hash for e in events)


def test_verification_is_rate_limited_per_address(client, issued, app):
    app.config["IRIS_RATELIMIT_VERIFY"] = "3 per minute"
    try:
        answers = [client.get(f"/api/v1/certificates/{issued.number}") for _ in range(4)]
    finally:
        app.config.pop("IRIS_RATELIMIT_VERIFY")
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["code"] == "too_many_requests"


def test_jwks_is_public_and_has_no_private_parts(client, issued):
    body = client.get("/.well-known/jwks.json")
    assert body.headers["Access-Control-Allow-Origin"] == "*"
    for key in json.loads(body.get_data())["keys"]:
        assert set(key) >= {"kty", "crv", "x", "kid", "iris:not_before", "iris:not_after"}
        assert "d" not in key


def test_a_patched_entry_equals_one_rebuilt_from_the_database(issued, world, db_session):
    """Lifecycle steps patch the entry in place; what they write is what a rebuild writes."""
    from iris.registry import sync
    from iris.registry.models import RegistryEntry

    rebuilt: list[set[int]] = []
    original = sync.refresh_entries

    def counting(conn, ids):
        rebuilt.append(set(ids))
        return original(conn, ids)

    sync.refresh_entries = counting
    try:
        fire(issued, "suspend", world.decider, reason="Surveillance overdue",
             reason_code="surveillance_refused_or_overdue")  # fmt: skip
        fire(issued, "restore", world.decider, reason="Surveillance done")
        fire(issued, "withdraw", world.decider, reason="Critical breach")
        db_session.flush()
    finally:
        sync.refresh_entries = original
    assert rebuilt == []  # three steps, no rebuild

    def entry() -> dict:
        row = db_session.get(RegistryEntry, issued.id)
        db_session.refresh(row)
        return {c.key: getattr(row, c.key) for c in sa.inspect(RegistryEntry).column_attrs}

    patched = entry()
    assert json.loads(patched["document"])["status"] == "withdrawn"
    assert [h["to"] for h in json.loads(patched["document"])["history"]] == [
        "active", "suspended", "active", "withdrawn"
    ]  # fmt: skip
    sync.refresh_entries(db_session.connection(), [issued.id])
    assert entry() == patched


def test_a_step_patches_the_entry_without_a_read_of_its_own(issued, world, db_session):
    """One statement per step for the registry: on PostgreSQL the entry's document comes
    with the engine's lock of the certificate; on SQLite the document is edited in SQL."""
    from iris.core.db import db
    from iris.registry.models import RegistryEntry

    seen: list[str] = []

    def count(_conn, _cur, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        fire(issued, "suspend", world.decider, reason="Surveillance overdue",
             reason_code="surveillance_refused_or_overdue")  # fmt: skip
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert [s for s in seen if s.startswith("SELECT registry_entries")] == []
    # one write: the agency's mail waits for the step's own flush
    writes = [s for s in seen if s.startswith("UPDATE registry_entries")]
    assert len(writes) == 1, writes
    if db.engine.dialect.name == "postgresql":
        [lock] = [s for s in seen if "FOR UPDATE" in s]
        assert "registry_entries.document" in lock
    else:
        assert all("json_set" in s for s in writes)
    row = db_session.get(RegistryEntry, issued.id)
    db_session.refresh(row)
    document = json.loads(row.document)
    assert document["status"] == "suspended"
    assert [h["event"] for h in document["history"]] == ["issue", "suspend"]


def test_a_step_on_a_certificate_without_an_entry_rebuilds_it(issued, world, db_session):
    from iris.registry.models import RegistryEntry, RegistryIdentifier

    db_session.execute(
        sa.delete(RegistryIdentifier).where(RegistryIdentifier.certificate_id == issued.id)
    )
    db_session.execute(sa.delete(RegistryEntry).where(RegistryEntry.certificate_id == issued.id))
    db_session.expire_all()
    fire(issued, "suspend", world.decider, reason="Surveillance overdue",
         reason_code="surveillance_refused_or_overdue")  # fmt: skip
    db_session.flush()
    row = db_session.get(RegistryEntry, issued.id)
    assert row is not None and row.state == "suspended"
    assert [h["event"] for h in json.loads(row.document)["history"]] == ["issue", "suspend"]


def test_a_direct_change_of_a_status_column_reaches_the_registry_at_commit(
    client, issued, db_session
):
    """A certificate column changed without a lifecycle step is patched before the commit."""
    import datetime as dt

    due = dt.date(2031, 5, 17)
    issued.next_surveillance_due = due
    db_session.commit()
    body = client.get(f"/api/v1/certificates/{issued.number}").get_json()
    assert body["next_surveillance_due"] == due.isoformat()
    assert body["status"] == "active"
