"""Demo organisations and people: every role of DOMAIN.md section 2 has a login."""

from __future__ import annotations

from iris.accounts.models import AuditorProfile, Membership, Organisation, OrgStatus, User
from iris.accounts.operations import scheme_manager
from iris.core import security
from iris.core.db import db, utcnow
from workflows.roles import OrgKind, Role

AGENCIES = [
    # (key, legal name, country, city, address, admin name, e-mail, locale)
    (
        "agency_wisla",
        "Wisła Praca Sp. z o.o.",
        "PL",
        "Łódź",
        "ul. Piotrkowska 112, 90-006 Łódź",
        "Katarzyna Wiśniewska",
        "k.wisniewska@wisla-praca.pl",
        "pl",
    ),
    (
        "agency_mazowsze",
        "Mazowieckie Biuro Rekrutacji Zagranicznej S.A.",
        "PL",
        "Warszawa",
        "al. Jerozolimskie 65/79, 00-697 Warszawa",
        "Tomasz Zieliński",
        "t.zielinski@mbrz.pl",
        "pl",
    ),
    (
        "agency_baltyk",
        "Bałtyk Personel Sp. z o.o.",
        "PL",
        "Gdańsk",
        "ul. Długa 45, 80-827 Gdańsk",
        "Agnieszka Kowalczyk",
        "a.kowalczyk@baltyk-personel.pl",
        "pl",
    ),
    (
        "agency_dnipro",
        "ТОВ «Дніпро Кадри»",
        "UA",
        "Дніпро",
        "просп. Яворницького, 52, Дніпро, 49000",
        "Олена Коваленко",
        "o.kovalenko@dnipro-kadry.com.ua",
        "uk",
    ),
    (
        "agency_lviv",
        "ТОВ «Львівський центр працевлаштування»",
        "UA",
        "Львів",
        "вул. Городоцька, 17, Львів, 79007",
        "Андрій Шевчук",
        "a.shevchuk@lcp.lviv.ua",
        "uk",
    ),
]

AUDIT_COMPANIES = [
    (
        "ac_certa",
        "Certa Audit Polska Sp. z o.o.",
        "PL",
        "Kraków",
        "ul. Wielicka 28, 30-552 Kraków",
        [
            ("planner", "Marta Nowak", "m.nowak@certa-audit.pl", "pl", Role.PLANNER),
            ("lead", "Paweł Lewandowski", "p.lewandowski@certa-audit.pl", "pl", Role.LEAD_AUDITOR),
            ("auditor", "Iryna Bondarenko", "i.bondarenko@certa-audit.pl", "uk", Role.AUDITOR),
            (
                "reviewer",
                "Jan Kamiński",
                "j.kaminski@certa-audit.pl",
                "pl",
                Role.TECHNICAL_REVIEWER,
            ),
            ("decider", "Ewa Dąbrowska", "e.dabrowska@certa-audit.pl", "pl", Role.DECISION_MAKER),
        ],
    ),
    (
        "ac_fairlabour",
        "FairLabour Assurance GmbH",
        "DE",
        "Berlin",
        "Friedrichstraße 68, 10117 Berlin",
        [
            ("planner", "Julia Becker", "j.becker@fairlabour-assurance.de", "en", Role.PLANNER),
            ("lead", "Oksana Melnyk", "o.melnyk@fairlabour-assurance.de", "uk", Role.LEAD_AUDITOR),
            ("auditor", "Dmitri Sokolov", "d.sokolov@fairlabour-assurance.de", "ru", Role.AUDITOR),
            (
                "reviewer",
                "Lukas Weber",
                "l.weber@fairlabour-assurance.de",
                "en",
                Role.TECHNICAL_REVIEWER,
            ),
            (
                "decider",
                "Anna Schmidt",
                "a.schmidt@fairlabour-assurance.de",
                "en",
                Role.DECISION_MAKER,
            ),
        ],
    ),
]

AUDITOR_LANGS = {
    "pl": ["pl", "en"],
    "uk": ["uk", "ru", "en"],
    "ru": ["ru", "uk", "en"],
    "en": ["en", "de"],
}


def _user(ctx, name: str, email: str, locale: str) -> User:  # type: ignore[no-untyped-def]
    if "_hash" not in ctx.objects:  # one argon2 hash for every demo account: hashing is slow
        ctx.objects["_hash"] = security.hash_password(ctx.password)
    user = User(
        email=email,
        name=name,
        locale=locale,
        email_verified_at=utcnow(),
        password_hash=ctx.objects["_hash"],
    )
    db.session.add(user)
    return user


def seed(ctx) -> None:  # type: ignore[no-untyped-def]
    sm = scheme_manager()
    for key, name, email, role in (
        ("scheme_admin", "Maria Santos", "admin@iris-demo.org", Role.SCHEME_ADMIN),
        ("app_reviewer", "Piotr Wójcik", "reviewer@iris-demo.org", Role.APPLICATION_REVIEWER),
    ):
        user = _user(ctx, name, email, "en" if role is Role.SCHEME_ADMIN else "pl")
        db.session.add(Membership(user=user, organisation=sm, role=role))
        ctx.objects[key] = user
        ctx.logins.append((role.value, email, sm.name))

    for key, legal, country, city, address, people in AUDIT_COMPANIES:
        org = Organisation(
            kind=OrgKind.AUDIT_COMPANY,
            name=legal,
            country=country,
            city=city,
            address=address,
            status=OrgStatus.APPROVED,
            status_changed_at=utcnow(),
        )
        db.session.add(org)
        ctx.objects[key] = org
        for pkey, name, email, locale, role in people:
            user = _user(ctx, name, email, locale)
            db.session.add(Membership(user=user, organisation=org, role=role))
            if role in (Role.LEAD_AUDITOR, Role.AUDITOR):
                # Lead auditors audit too: they hold both roles.
                if role is Role.LEAD_AUDITOR:
                    db.session.add(Membership(user=user, organisation=org, role=Role.AUDITOR))
                db.session.add(
                    AuditorProfile(
                        user=user,
                        languages=AUDITOR_LANGS[locale],
                        countries=sorted({"PL", "UA", country}),
                        iris_trained_on=utcnow().date().replace(month=3, day=14),
                        approved_at=utcnow(),
                        approved_by_id=None,
                    )
                )
            ctx.objects[f"{key}_{pkey}"] = user
            ctx.logins.append((role.value, email, legal))

    pending = Organisation(
        kind=OrgKind.AUDIT_COMPANY,
        name="Nordic Social Audit AB",
        country="SE",
        city="Stockholm",
        address="Drottninggatan 33, 111 51 Stockholm",
        status=OrgStatus.PENDING,
    )
    db.session.add(pending)
    ctx.objects["ac_pending"] = pending

    for key, legal, country, city, address, admin_name, email, locale in AGENCIES:
        org = Organisation(
            kind=OrgKind.AGENCY,
            name=legal,
            country=country,
            city=city,
            address=address,
            status=OrgStatus.ACTIVE,
        )
        db.session.add(org)
        user = _user(ctx, admin_name, email, locale)
        db.session.add(Membership(user=user, organisation=org, role=Role.AGENCY_ADMIN))
        ctx.objects[key] = org
        ctx.objects[f"{key}_admin"] = user
        ctx.logins.append((Role.AGENCY_ADMIN.value, email, legal))
    db.session.flush()
