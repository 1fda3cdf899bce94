"""The demo agencies: complete, realistic profiles and a member who can sign in."""

from __future__ import annotations

import functools
import random

import pytest

from iris.accounts import demo as accounts_demo
from iris.agencies import demo as agencies_demo
from iris.agencies import numbers
from iris.agencies.models import RegistrationKind, profile_gaps
from iris.cli import DemoContext
from iris.core import security, storage
from iris.core.db import utcnow
from tests.helpers import text_of

AGENCIES = ("agency_wisla", "agency_mazowsze", "agency_baltyk", "agency_dnipro", "agency_lviv")


@pytest.fixture
def ctx(db_session, monkeypatch):
    # One argon2 hash for every demo account is enough for these tests.
    monkeypatch.setattr(security, "hash_password", functools.cache(security.hash_password))
    ctx = DemoContext(rng=random.Random(2026), password="demo-password-1")
    accounts_demo.seed(ctx)
    agencies_demo.seed(ctx)
    db_session.flush()
    return ctx


def test_demo_profiles_are_complete_except_the_expired_licence(ctx):
    today = utcnow().date()
    gaps = {key: profile_gaps(ctx.objects[key], today) for key in AGENCIES}
    assert gaps == {
        "agency_wisla": [],
        "agency_mazowsze": [],
        "agency_baltyk": [],
        "agency_dnipro": [],
        "agency_lviv": ["a licence valid today, with its file"],
    }


def test_demo_registration_numbers_have_valid_check_digits(ctx):
    checks = {
        RegistrationKind.NIP: numbers.nip_valid,
        RegistrationKind.REGON: numbers.regon_valid,
        RegistrationKind.KRS: numbers.krs_valid,
        RegistrationKind.KRAZ: numbers.kraz_valid,
        RegistrationKind.EDRPOU: numbers.edrpou_valid,
    }
    kinds = set()
    for key in AGENCIES:
        for reg in ctx.objects[key].registration_numbers:
            assert checks[reg.kind](reg.value), (key, reg.kind, reg.value)
            kinds.add(reg.kind)
    assert kinds == set(checks)


def test_demo_licence_files_are_stored_pdfs(ctx):
    for key in AGENCIES:
        for licence in ctx.objects[key].licences:
            data = storage.read_bytes(licence.file_sha256)
            assert storage.sniff(data) == "application/pdf"
            assert data.rstrip().endswith(b"%%EOF")


def test_demo_member_signs_in_and_reads_the_profile(ctx, client):
    member = ctx.objects["agency_dnipro_member"]
    assert ("agency_member", member.email, ctx.objects["agency_dnipro"].name) in ctx.logins
    resp = client.post(
        "/login", {"email": member.email, "password": "demo-password-1"}, follow_redirects=True
    )
    assert resp.status_code == 200
    page = text_of(client.get("/agency"))
    assert "ТОВ «Дніпро Кадри»" in page
    assert "Чехія" in page  # country names in the member's language (Ukrainian)
    page = text_of(client.get("/agency?lang=en"))
    assert "The profile is complete." in page
    assert "Czechia" in page and "Міністерство економіки України" in page
