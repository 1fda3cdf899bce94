"""The agency's answer to a request for information uploads a new evidence file (the
questionnaire's storage and checks) or links an existing document."""

from __future__ import annotations

import io

import sqlalchemy as sa

from iris.fieldwork.models import InformationRequest
from iris.questionnaires.models import EvidenceDocument
from tests.fieldwork.conftest import case_url
from tests.fieldwork.test_journey import as_user, assign_team, confirm
from tests.helpers import text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def asked(client, w):  # type: ignore[no-untyped-def]
    assign_team(client, w)
    confirm(client, w, w.lead)
    url = case_url(w.case, "/answers/C01")
    assert client.post(url, {"body": "Show the fee register for 2025."}).status_code == 302
    as_user(client, w.admin)
    return url


def documents(db_session, w):  # type: ignore[no-untyped-def]
    return db_session.scalars(
        sa.select(EvidenceDocument).where(EvidenceDocument.agency_id == w.agency.id)
    ).all()


def test_the_answer_uploads_a_new_evidence_file(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    url = asked(client, w)
    before = {d.id for d in documents(db_session, w)}
    resp = client.post(
        url, {"body": "The register is attached.", "document": "",
              "file": (io.BytesIO(PDF), "fee-register-2025.pdf")},
    )  # fmt: skip
    assert resp.status_code == 302, text_of(resp)[:400]
    (new,) = [d for d in documents(db_session, w) if d.id not in before]
    assert (new.file_name, new.content_type, new.size) == ("fee-register-2025.pdf",
                                                           "application/pdf", len(PDF))  # fmt: skip
    answer = db_session.scalar(
        sa.select(InformationRequest).where(InformationRequest.from_agency.is_(True))
    )
    assert answer.document_id == new.id
    # the auditor sees it in the thread and downloads the same bytes
    as_user(client, w.lead)
    page = client.get(url).get_data(as_text=True)
    href = f"/evidence/{new.public_id}/download"
    assert href in page and new.title in page
    download = client.get(href)
    assert download.status_code == 200 and download.data == PDF


def test_a_file_whose_name_lies_about_its_type_is_refused(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    url = asked(client, w)
    before = len(documents(db_session, w))
    resp = client.post(
        url, {"body": "Here it is.", "document": "",
              "file": (io.BytesIO(PNG), "fee-register.pdf")},
    )  # fmt: skip
    assert resp.status_code == 422
    assert "“fee-register.pdf” is named as PDF but its content is PNG." in text_of(resp)
    assert len(documents(db_session, w)) == before
    assert (
        db_session.scalar(
            sa.select(sa.func.count(InformationRequest.id)).where(
                InformationRequest.from_agency.is_(True)
            )
        )
        == 0
    )


def test_the_answer_links_an_existing_document(client, world, db_session):  # type: ignore[no-untyped-def]
    w = world
    url = asked(client, w)
    doc = documents(db_session, w)[0]
    resp = client.post(url, {"body": "See the register we uploaded.", "document": doc.public_id})
    assert resp.status_code == 302, text_of(resp)[:400]
    answer = db_session.scalar(
        sa.select(InformationRequest).where(InformationRequest.from_agency.is_(True))
    )
    assert answer.document_id == doc.id
