"""The agency profile through the HTTP stack: what an agency's staff see and can change."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa

from iris.agencies.models import Corridor, Licence, RegistrationNumber, SubAgent
from iris.core.db import utcnow
from tests.helpers import text_of
from workflows.roles import Role

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def agency(make):
    return make.agency(name="Wisła Praca Sp. z o.o.")


@pytest.fixture
def admin(login_as, agency):
    return login_as(Role.AGENCY_ADMIN, org=agency)


def url(org, *parts: str) -> str:
    return "/".join([f"/agency/{org.public_id}", *parts]) if parts else f"/agency/{org.public_id}"


def licence_data(**over):
    data = {
        "licence_type": "KRAZ certificate",
        "number": "12345",
        "issuer": "Marszałek Województwa Łódzkiego",
        "country": "PL",
        "valid_from": "2024-01-15",
        "valid_to": "2027-01-14",
    }
    data.update(over)
    return data


# The home page and its completeness panel ------------------------------------------------


def test_agency_home_lists_what_the_profile_lacks_with_links(client, agency, admin):
    resp = client.get("/agency")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "Wisła Praca Sp. z o.o." in page
    assert "Profile completeness: 5 to do" in page
    for gap in (
        "at least one registration number",
        "a licence valid today, with its file",
        "at least one site",
        "at least one corridor",
        "the services the agency offers",
    ):
        assert gap in page
    html = resp.get_data(as_text=True)
    assert f'href="/agency/{agency.public_id}/licences/new"' in html
    assert f'href="/agency/{agency.public_id}/details"' in html
    # The People page is one click away.
    assert f'href="/organisations/{agency.public_id}/members"' in html


def test_complete_profile_says_so(client, make, login_as):
    org = make.agency(complete=True)
    login_as(Role.AGENCY_ADMIN, org=org)
    page = text_of(client.get("/agency"))
    assert "The profile is complete." in page
    assert "to do" not in page


def test_a_person_in_two_agencies_chooses_one(client, make, login_as):
    first, second = make.agency(name="Alpha Rekrutacja"), make.agency(name="Beta Personel")
    user = login_as(Role.AGENCY_ADMIN, org=first)
    make.membership(user, second, Role.AGENCY_MEMBER)
    resp = client.get("/agency")
    page = text_of(resp)
    assert "Choose the profile to open" in page
    assert "Alpha Rekrutacja" in page and "Beta Personel" in page
    assert f'href="/agency/{second.public_id}"' in resp.get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_sign_in(client, agency):
    resp = client.get(url(agency))
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


# Details ------------------------------------------------


def test_admin_edits_the_details(client, agency, admin):
    resp = client.post(
        url(agency, "details"),
        {
            "name": "Wisła Praca Sp. z o.o.",
            "trade_names": "Wisła Jobs\nPracaWisła\nWisła Jobs",
            "country": "PL",
            "city": "Łódź",
            "address": "ul. Piotrkowska 112",
            "postal_code": "90-006",
            "website": "wisla-praca.pl",
            "staff_count": "23",
            "preferred_language": "pl",
            "services": ["selection", "placement", "orientation"],
        },
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "The agency's details are saved." in page
    assert "Trading as Wisła Jobs, PracaWisła" in page
    assert "ul. Piotrkowska 112, 90-006, Łódź, Poland" in page
    assert "https://wisla-praca.pl" in page
    assert "Pre-departure orientation" in page
    assert "the services the agency offers" not in page


def test_details_refuse_a_malformed_polish_postal_code_and_negative_staff(client, agency, admin):
    resp = client.post(
        url(agency, "details"),
        {
            "name": "Wisła Praca",
            "country": "PL",
            "city": "Łódź",
            "address": "ul. Piotrkowska 1",
            "postal_code": "90006",
            "staff_count": "-3",
            "preferred_language": "pl",
        },
    )
    assert resp.status_code == 200
    page = text_of(resp)
    assert "A Polish postal code looks like 90-006." in page
    assert "Enter a number of staff of 0 or more." in page


# Registration numbers ------------------------------------------------


def test_a_nip_with_a_wrong_check_digit_is_refused(client, agency, admin):
    resp = client.post(
        url(agency, "registrations", "new"), {"kind": "nip", "value": "725-176-31-79"}
    )
    assert resp.status_code == 200
    assert "This NIP is not valid: its last digit (the check digit) does not match." in text_of(
        resp
    )


def test_a_valid_nip_is_saved_without_dashes(client, agency, admin, db_session):
    resp = client.post(
        url(agency, "registrations", "new"),
        {"kind": "nip", "value": "PL 123-456-32-18"},
        follow_redirects=True,
    )
    assert "Added: NIP 1234563218." in text_of(resp)
    again = client.post(url(agency, "registrations", "new"), {"kind": "nip", "value": "1234563218"})
    assert "This number is already in the profile." in text_of(again)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("nip", "12345", "A NIP has 10 digits"),
        ("regon", "123456786", "This REGON is not valid: its check digit does not match."),
        ("regon", "1234", "A REGON has 9 or 14 digits."),
        ("krs", "00001234567", "A KRS number has up to 10 digits"),
        ("krs", "KRS 12AB", "A KRS number has up to 10 digits"),
        ("kraz", "abc", "A KRAZ entry number is digits only"),
        ("edrpou", "14360571", "This EDRPOU code is not valid"),
    ],
)
def test_registration_numbers_are_checked(client, agency, admin, kind, value, message):
    resp = client.post(url(agency, "registrations", "new"), {"kind": kind, "value": value})
    assert message in text_of(resp)


def test_krs_is_stored_with_leading_zeros_and_regon_14_accepted(client, agency, admin, db_session):
    client.post(url(agency, "registrations", "new"), {"kind": "krs", "value": "123456"})
    client.post(url(agency, "registrations", "new"), {"kind": "regon", "value": "12345678512347"})
    values = set(
        db_session.scalars(
            sa.select(RegistrationNumber.value).where(
                RegistrationNumber.organisation_id == agency.id
            )
        )
    )
    assert values == {"0000123456", "12345678512347"}


# Licences ------------------------------------------------


def test_licence_with_pdf_is_stored_and_downloadable(client, agency, admin):
    resp = client.post(
        url(agency, "licences", "new"),
        {**licence_data(), "file": (BytesIO(PDF), "kraz.pdf")},
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "Added: KRAZ certificate 12345." in page
    assert "kraz.pdf" in page
    licence = agency.licences[0]
    download = client.get(url(agency, "licences", licence.public_id, "file"))
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]


def test_licence_ending_before_it_starts_is_refused(client, agency, admin):
    resp = client.post(
        url(agency, "licences", "new"), licence_data(valid_from="2025-06-01", valid_to="2025-05-31")
    )
    assert resp.status_code == 200
    assert "The licence cannot end before it starts" in text_of(resp)
    assert agency.licences == []


def test_a_png_named_pdf_is_refused_by_its_content(client, agency, admin):
    resp = client.post(
        url(agency, "licences", "new"), {**licence_data(), "file": (BytesIO(PNG), "licence.pdf")}
    )
    assert resp.status_code == 200
    assert "“licence.pdf” is named as a PDF file but its content is a PNG file." in text_of(resp)


def test_a_file_that_is_no_document_is_refused(client, agency, admin):
    resp = client.post(
        url(agency, "licences", "new"),
        {**licence_data(), "file": (BytesIO(b"MZ\x90\x00 not a pdf"), "kraz.pdf")},
    )
    assert "“kraz.pdf” is not a PDF, PNG or JPEG file (checked by its content)." in text_of(resp)


def test_a_scanned_png_licence_is_accepted(client, agency, admin):
    resp = client.post(
        url(agency, "licences", "new"),
        {**licence_data(), "file": (BytesIO(PNG), "scan.png")},
        follow_redirects=True,
    )
    assert "Added: KRAZ certificate 12345." in text_of(resp)


def test_editing_a_licence_keeps_its_file_unless_a_new_one_is_sent(client, agency, admin):
    client.post(url(agency, "licences", "new"), {**licence_data(), "file": (BytesIO(PDF), "a.pdf")})
    licence = agency.licences[0]
    old_digest = licence.file_sha256
    resp = client.post(
        url(agency, "licences", licence.public_id, "edit"),
        licence_data(number="12345/2"),
        follow_redirects=True,
    )
    assert "Saved: KRAZ certificate 12345/2." in text_of(resp)
    assert licence.file_sha256 == old_digest


def test_expired_licence_is_marked_and_counts_as_a_gap(client, agency, admin):
    old = utcnow().date() - timedelta(days=800)
    client.post(
        url(agency, "licences", "new"),
        {
            **licence_data(
                valid_from=old.isoformat(), valid_to=(old + timedelta(days=365)).isoformat()
            ),
            "file": (BytesIO(PDF), "old.pdf"),
        },
    )
    page = text_of(client.get("/agency"))
    assert "Expired" in page
    assert "a licence valid today, with its file" in page


def test_removing_a_licence_asks_for_confirmation(client, agency, admin, db_session):
    client.post(url(agency, "licences", "new"), {**licence_data(), "file": (BytesIO(PDF), "a.pdf")})
    licence = agency.licences[0]
    remove_url = url(agency, "licences", licence.public_id, "remove")
    confirm = client.get(remove_url)
    assert "Remove “KRAZ certificate 12345”?" in text_of(confirm)
    assert db_session.get(Licence, licence.id) is not None  # a GET changes nothing
    resp = client.post(remove_url, follow_redirects=True)
    assert "Removed: KRAZ certificate 12345." in text_of(resp)
    assert db_session.scalar(sa.select(Licence).where(Licence.organisation_id == agency.id)) is None


def test_removal_without_csrf_token_is_refused(client, agency, admin, make, db_session):
    client.post(
        url(agency, "sites", "new"),
        {"name": "Head office", "address": "ul. Długa 1", "city": "Gdańsk", "country": "PL"},
    )
    site = agency.sites[0]
    resp = client.post(url(agency, "sites", site.public_id, "remove"), csrf=False)
    assert resp.status_code == 400
    assert len(agency.sites) == 1


# Sites, corridors, sub-agents ------------------------------------------------


def test_corridor_with_negative_workers_is_refused(client, agency, admin):
    resp = client.post(
        url(agency, "corridors", "new"),
        {
            "origin_country": "UA",
            "destination_country": "PL",
            "sectors": ["logistics"],
            "workers_per_year": "-5",
        },
    )
    assert "The number of workers per year cannot be negative." in text_of(resp)


def test_corridor_must_cross_a_border(client, agency, admin):
    resp = client.post(
        url(agency, "corridors", "new"),
        {"origin_country": "PL", "destination_country": "PL", "workers_per_year": "10"},
    )
    assert "the destination must differ from the origin" in text_of(resp)


def test_corridor_with_zero_workers_and_sectors_is_shown(client, agency, admin, db_session):
    resp = client.post(
        url(agency, "corridors", "new"),
        {
            "origin_country": "PH",
            "destination_country": "PL",
            "sectors": ["logistics", "food_processing"],
            "workers_per_year": "0",
        },
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "Added: Philippines → Poland." in page
    assert "Logistics and warehousing, Food processing" in page
    corridor = db_session.scalar(sa.select(Corridor).where(Corridor.organisation_id == agency.id))
    assert corridor.workers_per_year == 0


def test_sub_agent_is_added_and_edited(client, agency, admin, db_session):
    client.post(
        url(agency, "sub-agents", "new"),
        {
            "name": "Manila Bay Manpower Inc.",
            "country": "PH",
            "licence_number": "DMW-123-LB",
            "has_contract": "y",
            "last_due_diligence_on": "2025-03-01",
            "risk": "low",
        },
    )
    agent = db_session.scalar(sa.select(SubAgent).where(SubAgent.organisation_id == agency.id))
    assert agent.has_contract and agent.risk == "low"
    resp = client.post(
        url(agency, "sub-agents", agent.public_id, "edit"),
        {"name": "Manila Bay Manpower Inc.", "country": "PH", "risk": "high"},
        follow_redirects=True,
    )
    page = text_of(resp)
    assert "Saved: Manila Bay Manpower Inc.." in page
    assert "High" in page
    assert agent.has_contract is False


def test_sub_agent_due_diligence_cannot_be_in_the_future(client, agency, admin):
    later = (utcnow().date() + timedelta(days=30)).isoformat()
    resp = client.post(
        url(agency, "sub-agents", "new"),
        {
            "name": "Kathmandu Overseas",
            "country": "NP",
            "last_due_diligence_on": later,
            "risk": "medium",
        },
    )
    assert "The last due-diligence check cannot be in the future." in text_of(resp)


def test_unknown_section_is_404(client, agency, admin):
    assert client.get(url(agency, "passwords", "new")).status_code == 404


# Who may see and change what ------------------------------------------------


def test_another_agencys_admin_gets_404_everywhere(client, make, login_as, db_session):
    org = make.agency(complete=True)
    licence = org.licences[0]
    site = org.sites[0]
    login_as(Role.AGENCY_ADMIN)  # of another agency
    for path in (
        url(org),
        url(org, "details"),
        url(org, "sites", "new"),
        url(org, "sites", site.public_id, "edit"),
        url(org, "sites", site.public_id, "remove"),
        url(org, "licences", licence.public_id, "file"),
    ):
        assert client.get(path).status_code == 404, path


def test_a_row_of_another_agency_is_404_even_in_my_own_profile(client, make, agency, admin):
    other = make.agency(complete=True)
    site = other.sites[0]
    assert client.get(url(agency, "sites", site.public_id, "edit")).status_code == 404
    assert (
        client.get(url(agency, "licences", other.licences[0].public_id, "file")).status_code == 404
    )


def test_member_reads_but_cannot_edit(client, make, login_as, db_session):
    org = make.agency(complete=True)
    login_as(Role.AGENCY_MEMBER, org=org)
    page = client.get("/agency")
    assert page.status_code == 200
    assert "Only the agency's administrators can change it." in text_of(page)
    assert "Edit details" not in text_of(page)
    site = org.sites[0]
    assert client.get(url(org, "details")).status_code == 403
    assert client.get(url(org, "sites", "new")).status_code == 403
    assert client.get(url(org, "sites", site.public_id, "edit")).status_code == 403
    resp = client.post(url(org, "sites", site.public_id, "remove"), form_url="/agency")
    assert resp.status_code == 403
    assert len(org.sites) == 1


def test_member_can_download_the_licence_file(client, make, login_as, agency, admin):
    client.post(url(agency, "licences", "new"), {**licence_data(), "file": (BytesIO(PDF), "a.pdf")})
    licence = agency.licences[0]
    client.logout()
    login_as(Role.AGENCY_MEMBER, org=agency)
    assert client.get(url(agency, "licences", licence.public_id, "file")).data == PDF


def test_scheme_admin_reads_the_profile_and_the_file_but_cannot_edit(
    client, agency, admin, login_as
):
    client.post(url(agency, "licences", "new"), {**licence_data(), "file": (BytesIO(PDF), "a.pdf")})
    licence = agency.licences[0]
    client.logout()
    login_as(Role.SCHEME_ADMIN)
    assert "Wisła Praca Sp. z o.o." in text_of(client.get(url(agency)))
    assert client.get(url(agency, "licences", licence.public_id, "file")).data == PDF
    assert client.get(url(agency, "details")).status_code == 403


def test_auditor_cannot_see_an_agency_profile(client, agency, login_as):
    login_as(Role.AUDITOR)
    assert client.get(url(agency)).status_code == 404
    assert client.get("/agency").status_code == 404


def test_missing_file_in_the_store_is_a_clear_404(client, make, login_as):
    org = make.agency(complete=True)  # the factory's licence names bytes never stored
    login_as(Role.AGENCY_ADMIN, org=org)
    resp = client.get(url(org, "licences", org.licences[0].public_id, "file"))
    assert resp.status_code == 404
    assert "missing from the document store" in text_of(resp)


def test_scheme_admin_without_an_agency_is_sent_to_the_agency_list(client, login_as):
    login_as(Role.SCHEME_ADMIN)
    resp = client.get("/agency")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/admin/organisations?kind=agency")
