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
    # the agencies of the later stages and of every certificate status (fieldwork and
    # certificates demos); their profiles are in iris/agencies/demo.py
    ("agency_poznan", "Wielkopolska Agencja Pracy Tymczasowej Sp. z o.o.", "PL", "Poznań",
     "ul. Święty Marcin 29, 61-806 Poznań", "Małgorzata Nowicka", "m.nowicka@wapt.pl", "pl"),
    ("agency_katowice", "Śląskie Biuro Pośrednictwa Pracy Sp. z o.o.", "PL", "Katowice",
     "ul. Mariacka 17, 40-014 Katowice", "Grzegorz Wróbel", "g.wrobel@sbpp.pl", "pl"),
    ("agency_rzeszow", "Podkarpackie Centrum Zatrudnienia Sp. z o.o.", "PL", "Rzeszów",
     "ul. 3 Maja 21, 35-030 Rzeszów", "Bożena Szczepańska", "b.szczepanska@pcz-rzeszow.pl",
     "pl"),
    ("agency_kharkiv", "ТОВ «Слобожанський кадровий центр»", "UA", "Харків",
     "вул. Сумська, 72, Харків, 61002", "Світлана Гребенюк", "s.hrebeniuk@skc.kharkiv.ua",
     "uk"),
    ("agency_odesa", "ТОВ «Чорноморська агенція працевлаштування»", "UA", "Одеса",
     "вул. Дерибасівська, 12, Одеса, 65026", "Дмитро Савчук", "d.savchuk@chap.od.ua", "uk"),
    ("agency_poltava", "ТОВ «Полтавська рекрутингова компанія»", "UA", "Полтава",
     "вул. Соборності, 41, Полтава, 36014", "Юлія Мельничук", "y.melnychuk@prk.poltava.ua",
     "uk"),
    ("agency_vinnytsia", "ТОВ «Поділля Персонал»", "UA", "Вінниця",
     "вул. Соборна, 59, Вінниця, 21050", "Василь Кравчук", "v.kravchuk@podillia-personal.ua",
     "uk"),
    ("agency_chisinau", "«Nistru Muncă Internațional» SRL", "MD", "Chișinău",
     "str. Mihai Eminescu 47, MD-2012 Chișinău", "Ștefan Ciobanu", "s.ciobanu@nistru-munca.md",
     "ru"),
    ("agency_iasi", "Carpați Recrutare Internațională SRL", "RO", "Iași",
     "Bd. Ștefan cel Mare și Sfânt 8, 700063 Iași", "Ioana Popescu",
     "i.popescu@carpati-recrutare.ro", "en"),
    ("agency_brno", "Moravská personální agentura s.r.o.", "CZ", "Brno",
     "Masarykova 427/31, 602 00 Brno", "Jiří Dvořák", "j.dvorak@moravska-pa.cz", "en"),
    ("agency_vilnius", "UAB „Baltijos įdarbinimo partneriai“", "LT", "Vilnius",
     "Gedimino pr. 9, LT-01103 Vilnius", "Rūta Žemaitienė", "r.zemaitiene@bip.lt", "en"),
]  # fmt: skip

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
