"""The self-assessment through the HTTP stack: what the agency sees and does."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale, gettext

from iris.applications.workflow import questionnaire_gaps
from iris.core.db import db
from iris.questionnaires.forms import evidence_name, field_name, sign_name
from iris.questionnaires.models import EvidenceDocument
from iris.questionnaires.queries import missing_items, response_for
from tests.helpers import text_of
from tests.questionnaires.answers import best_answers
from tests.questionnaires.conftest import pdf, qurl, section_data
from workflows.roles import Role

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def start(client, application):  # type: ignore[no-untyped-def]
    resp = client.post(qurl(application, what="start"), {}, form_url=qurl(application))
    assert resp.status_code == 302, text_of(resp)
    return response_for(application)


def _input(page: str, element_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{element_id}"[^>]*>', page)
    assert match, element_id
    return match.group(0)


def post_section(client, application, code, data, status=302):  # type: ignore[no-untyped-def]
    resp = client.post(qurl(application, code), data)
    assert resp.status_code == status, text_of(resp)[:3000]
    return resp


@pytest.mark.parametrize("locale", ["en", "pl", "uk", "ru"])
def test_the_whole_questionnaire_answered_in_each_language(  # type: ignore[no-untyped-def]
    client, application, agency_admin, iris12, db_session, locale
):
    agency_admin.locale = locale
    db_session.flush()
    start(client, application)
    definition = iris12.parsed
    answers = best_answers()
    for section in definition.sections:
        page = client.get(qurl(application, section.code))
        seen = text_of(page)
        first = next(section.questions)
        assert first.text[locale] in seen  # the question in the user's language
        assert section.title[locale] in seen
        post_section(
            client, application, section.code, section_data(definition, section.code, answers)
        )
    response = response_for(application)
    assert {k: v for k, v in response.answers.items() if k != "M05"} == {
        k: v for k, v in answers.items() if k != "M05"
    }
    assert response.answers["M05"]["name"] == "Anna Nowak"
    assert response.band == "ready" and response.overall == 1.0
    overview = text_of(client.get(qurl(application)))
    with force_locale(locale):  # the page speaks the user's language
        complete = gettext("Nothing: the self-assessment is complete.")
        ready = gettext("Ready for audit")
    assert complete in overview
    assert ready in overview
    if locale != "en":
        assert complete != "Nothing: the self-assessment is complete."
    # the application's submit guard finds nothing missing
    assert questionnaire_gaps(application) == []
    # every required document is attached and registered once per upload
    assert len(response.links) == db_session.query(EvidenceDocument).count()


def test_save_and_resume(client, application, iris12):  # type: ignore[no-untyped-def]
    start(client, application)
    post_section(client, application, "A", {"save": "Save", field_name("A01"): "yes",
                                            field_name("A03"): "partial"})  # fmt: skip
    # another day, another browser session: the answers are there
    client.get("/")  # a fresh request cycle
    page = client.get(qurl(application, "A")).get_data(as_text=True)
    assert "checked" in _input(page, "a__A01-0")  # A01: yes
    assert "checked" in _input(page, "a__A03-1")  # A03: partly
    assert "checked" not in _input(page, "a__A03-0")
    response = response_for(application)
    assert response.answers == {"A01": "yes", "A03": "partial"}
    overview = text_of(client.get(qurl(application)))
    assert "question A02 is not answered" in overview
    assert "question A01 is not answered" not in overview
    # "Save and continue" goes to the next principle
    resp = client.post(qurl(application, "A"), {"save_next": "1", field_name("A02"): "no"})
    assert resp.headers["Location"].endswith(qurl(application, "B"))


def test_visibility_rules(client, application, iris12):  # type: ignore[no-untyped-def]
    start(client, application)
    post_section(client, application, "B", {"save": "1", field_name("B03"): "no"})
    missing = [str(m) for m in missing_items(application)]
    assert not any("B04" in m or "B05" in m for m in missing)  # hidden: not required
    post_section(client, application, "B", {
        "save": "1", field_name("B03"): "yes", field_name("B04"): "no",
        field_name("B05"): "yearly", field_name("B05.method"): "Visits",
    })  # fmt: skip
    response = response_for(application)
    assert response.answers["B04"] == "no"
    missing = [str(m) for m in missing_items(application)]
    assert "B05: “Date of the last monitoring” is not answered" in missing
    assert any(m.startswith("B03: “Sub-agents”") for m in missing)
    # B04 "no" is a failed critical answer: the report lists it
    report = text_of(client.get(qurl(application, what="report")))
    assert "Not ready" in report and "B04" in report
    # answering B03 "no" again hides B04 and B05: their stale answers are discarded
    resp = client.post(qurl(application, "B"), {"save": "1", field_name("B03"): "no",
                                                field_name("B04"): "no"}, follow_redirects=True)  # fmt: skip
    assert "were removed: B04, B05, B05.method" in text_of(resp)
    assert set(response_for(application).answers) == {"B03"}


def test_an_invalid_value_of_every_type(client, application, iris12):  # type: ignore[no-untyped-def]
    start(client, application)
    resp = post_section(client, application, "A", {
        "save": "1",
        field_name("A01"): "maybe",  # yes/no
        field_name("A03"): "sometimes",  # yes/partial/no/n.a.
        field_name("A04"): "na",  # n/a not allowed for this critical question
        field_name("A02"): "yes",
        field_name("A02.details"): "x" * 2001,  # text over its limit
        field_name("A05"): "yes",  # valid: saved although others fail
    }, status=422)  # fmt: skip
    page = text_of(resp)
    assert page.count("Choose one of the options.") == 3
    assert "Use at most 2000 characters (you used 2001)." in page
    assert "Correct the answers marked below." in page
    assert response_for(application).answers == {"A02": "yes", "A05": "yes"}

    resp = post_section(client, application, "C", {
        "save": "1", field_name("C01"): "yes",
        field_name("C01.cost_types"): ["visa", "bribe"],  # multiple choice
        field_name("C03"): "yes", field_name("C03.share"): "150",  # number over max
        field_name("C04"): "yes", field_name("C04.amount"): "lots",  # not a number
    }, status=422)  # fmt: skip
    page = text_of(resp)
    assert "Choose only from the options." in page
    assert "Enter a number of at most 100." in page
    assert "Enter a number, for example 12 or 12.5." in page

    resp = post_section(client, application, "E", {
        "save": "1", field_name("E03"): "1.5",  # whole number
    }, status=422)  # fmt: skip
    assert "Enter a whole number." in text_of(resp)

    resp = post_section(client, application, "B", {
        "save": "1", field_name("B03"): "yes", field_name("B05"): "yearly",
        field_name("B05.last_date"): "2999-01-01",  # date in the future
        f"{field_name('B03.sub_agents')}-0-name": "Agent", # table row without its country
        f"{field_name('B03.sub_agents')}-0-workers": "3",
    }, status=422)  # fmt: skip
    page = text_of(resp)
    assert "The date cannot be in the future." in page
    assert "Row 1: fill in “Country”, or leave the whole row empty." in page
    resp = post_section(client, application, "B", {
        "save": "1", field_name("B05.last_date"): "31.12.2025",
    }, status=422)  # fmt: skip
    assert "Enter a date as YYYY-MM-DD, for example 2025-03-31." in text_of(resp)

    resp = post_section(client, application, "M", {
        "save": "1", field_name("M05"): "Anna Nowak",  # named but not ticked
    }, status=422)  # fmt: skip
    assert "Tick the box to sign the declaration." in text_of(resp)
    resp = post_section(client, application, "M", {"save": "1", sign_name("M05"): "y"}, status=422)
    assert "Type your full name to sign the declaration." in text_of(resp)
    assert "M05" not in response_for(application).answers


def test_an_oversized_upload_gets_a_friendly_413(client, application, iris12, app, monkeypatch):  # type: ignore[no-untyped-def]
    start(client, application)
    # a small limit keeps the test fast (and the test client's body in memory)
    monkeypatch.setitem(app.config, "IRIS_MAX_UPLOAD_MB", 0.1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (300 * 1024))
    resp = client.post(
        qurl(application, "A"), {"save": "1", evidence_name("A04", "file"): (big, "policy.pdf")}
    )
    assert resp.status_code == 413
    assert "larger than the limit of 0.1 MB" in text_of(resp)
    assert db.session.query(EvidenceDocument).count() == 0


def test_an_upload_whose_name_lies_about_its_content(client, application, iris12):  # type: ignore[no-untyped-def]
    start(client, application)
    resp = post_section(client, application, "A", {
        "save": "1", field_name("A04"): "yes",
        evidence_name("A04", "file"): (io.BytesIO(PNG), "policy.pdf"),
    }, status=422)  # fmt: skip
    assert "“policy.pdf” is named as PDF but its content is PNG." in text_of(resp)
    resp = post_section(client, application, "A", {
        "save": "1", evidence_name("A04", "file"): (io.BytesIO(b"MZ\x90\x00 not a document"), "policy.pdf"),
    }, status=422)  # fmt: skip
    assert "is not a PDF, an image (PNG, JPEG) or an office document" in text_of(resp)
    assert db.session.query(EvidenceDocument).count() == 0
    # the true name is accepted, and the document is in the register
    post_section(client, application, "A", {
        "save": "1", evidence_name("A04", "file"): (io.BytesIO(PNG), "policy-scan.png"),
    })  # fmt: skip
    doc = db.session.query(EvidenceDocument).one()
    assert (doc.content_type, doc.file_name) == ("image/png", "policy-scan.png")


def test_evidence_download_and_register(client, application, iris12, db_session):  # type: ignore[no-untyped-def]
    start(client, application)
    post_section(client, application, "A", {"save": "1", field_name("A04"): "yes",
                                            evidence_name("A04", "file"): pdf("policy.pdf"),
                                            evidence_name("A04", "valid_to"): "2020-01-31"})  # fmt: skip
    doc = db_session.query(EvidenceDocument).one()
    resp = client.get(f"/evidence/{doc.public_id}/download")
    assert resp.status_code == 200
    assert resp.data.startswith(b"%PDF-")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in resp.headers["Content-Disposition"]
    register = text_of(client.get("/evidence"))
    assert "1 document has expired" in register and "expired" in register
    assert "A04" in register  # which answers it backs
    # the URL names a random public id, never the content hash
    assert doc.sha256 not in client.get("/evidence").get_data(as_text=True)
    # one document can back several answers: link it to B01 from the register's choices
    post_section(client, application, "B", {"save": "1", field_name("B01"): "yes",
                                            evidence_name("B01", "link"): [doc.public_id]})  # fmt: skip
    assert sorted(link.answer_key for link in doc.links) == ["A04", "B01"]


def test_another_agencys_user_is_refused_the_response_and_its_evidence(  # type: ignore[no-untyped-def]
    client, application, iris12, db_session, make
):
    start(client, application)
    post_section(client, application, "A", {"save": "1", field_name("A04"): "yes",
                                            evidence_name("A04", "file"): pdf("policy.pdf")})  # fmt: skip
    doc = db_session.query(EvidenceDocument).one()
    other = make.user_with_role(Role.AGENCY_ADMIN)
    client.login(other)
    for url in (qurl(application), qurl(application, "A"), qurl(application, what="report"),
                f"/evidence/{doc.public_id}/download", f"/evidence/{doc.public_id}/edit"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    resp = client.post(qurl(application, "A"), {field_name("A04"): "no"}, form_url="/evidence")
    assert resp.status_code == 404
    assert "policy.pdf" not in text_of(client.get("/evidence"))
    assert response_for(application).answers == {"A04": "yes"}


def test_a_reviewer_sees_the_answers_read_only(client, application, iris12, make):  # type: ignore[no-untyped-def]
    start(client, application)
    post_section(client, application, "A", {"save": "1", field_name("A01"): "yes"})
    reviewer = make.user_with_role(Role.APPLICATION_REVIEWER)
    client.login(reviewer)
    page = client.get(qurl(application, "A"))
    assert page.status_code == 200
    assert "it is shown as answered" in text_of(page)
    assert 'name="a__A01"' not in page.get_data(as_text=True)
    resp = client.post(qurl(application, "A"), {field_name("A01"): "no"}, form_url="/")
    assert resp.status_code == 403


def test_missing_items_link_to_where_they_are_fixed(client, application, iris12):  # type: ignore[no-untyped-def]
    assert [str(m) for m in missing_items(application)] == [
        "the self-assessment has not been started"
    ]
    start(client, application)
    items = missing_items(application)
    first = items[0]
    assert str(first) == "question A01 is not answered"
    assert first.url.endswith(qurl(application, "A") + "#q-A01")
    assert "the declaration (M05) is not signed" in [str(i) for i in items]
    gaps = questionnaire_gaps(application)
    assert gaps and "question A01 is not answered" in gaps
    page = client.get(qurl(application)).get_data(as_text=True)
    assert (
        f'href="{first.url}"' in page
        or f'href="http://localhost{qurl(application, "A")}#q-A01"' in page
    )
