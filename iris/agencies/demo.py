"""Demo agency profiles: every demo agency gets a complete, realistic profile.

The first five (Poland and Ukraine) have the richest profiles, with members and
sub-agents; the others (:data:`MORE_AGENCIES`: Poland, Ukraine, Moldova, Romania, Czechia,
Lithuania) carry the later stages of the fieldwork and certificates demos.

Runs after ``iris/accounts/demo.py`` (which creates the agencies and their administrators).
Registration numbers are generated with valid check digits from the demo's seeded random
generator; licence documents are small specimen PDFs stored in the file store.
Deliberate imperfections for the demo: ``agency_lviv``'s only licence has expired (its
profile shows the gap), and some sub-agents have no contract or an old due-diligence check.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from iris.accounts.models import Membership, User
from iris.agencies import numbers
from iris.agencies import operations as ops
from iris.agencies.models import RegistrationKind, Risk
from iris.agencies.specimen import specimen_pdf
from iris.core import security
from iris.core.db import db, utcnow
from workflows.roles import Role


def _years(today: date, years: int, days: int = 0) -> date:
    return today.replace(year=today.year + years, day=min(today.day, 28)) + timedelta(days=days)


def _profiles(ctx: Any, today: date) -> dict[str, dict[str, Any]]:
    rng = ctx.rng
    return {
        "agency_wisla": {
            "details": {
                "address": "ul. Piotrkowska 112",
                "postal_code": "90-006",
                "city": "Łódź",
                "trade_names": ["Wisła Jobs"],
                "website": "https://wisla-praca.pl",
                "staff_count": 24,
                "preferred_language": "pl",
                "services": [
                    "sourcing",
                    "selection",
                    "placement",
                    "documentation",
                    "orientation",
                    "post_arrival",
                ],
            },
            "registrations": [
                (RegistrationKind.NIP, numbers.make_nip(rng, "725")),
                (RegistrationKind.REGON, numbers.make_regon(rng, "47")),
                (RegistrationKind.KRS, numbers.make_krs(rng)),
                (RegistrationKind.KRAZ, "7391"),
            ],
            "licences": [
                (
                    "Certyfikat wpisu do rejestru agencji zatrudnienia (KRAZ)",
                    "7391",
                    "Marszałek Województwa Łódzkiego",
                    "PL",
                    _years(today, -6, 12),
                    _years(today, 2, 40),
                ),
            ],
            "sites": [
                ("Biuro główne", "ul. Piotrkowska 112", "Łódź", "PL"),
                ("Oddział Kutno", "ul. Królewska 20, 99-300", "Kutno", "PL"),
            ],
            "corridors": [
                ("UA", "PL", ["manufacturing", "logistics"], 180),
                ("MD", "PL", ["food_processing"], 45),
                ("PH", "PL", ["logistics"], 60),
            ],
            "sub_agents": [
                (
                    "Manila Bay Manpower Services Inc.",
                    "PH",
                    "DMW-081-LB-120322-R",
                    True,
                    today - timedelta(days=118),
                    Risk.LOW,
                ),
                (
                    "ТОВ «Карпати Рекрутинг»",
                    "UA",
                    None,
                    True,
                    today - timedelta(days=300),
                    Risk.MEDIUM,
                ),
            ],
            "member": ("Michał Kaczmarek", "m.kaczmarek@wisla-praca.pl", "pl"),
        },
        "agency_mazowsze": {
            "details": {
                "address": "al. Jerozolimskie 65/79",
                "postal_code": "00-697",
                "city": "Warszawa",
                "trade_names": ["MBRZ", "Mazowsze Work Abroad"],
                "website": "https://mbrz.pl",
                "staff_count": 61,
                "preferred_language": "pl",
                "services": [
                    "sourcing",
                    "selection",
                    "placement",
                    "documentation",
                    "travel",
                    "orientation",
                    "post_arrival",
                    "temporary_work",
                ],
            },
            "registrations": [
                (RegistrationKind.NIP, numbers.make_nip(rng, "526")),
                (RegistrationKind.REGON, numbers.make_regon(rng, "14")),
                (RegistrationKind.KRS, numbers.make_krs(rng)),
                (RegistrationKind.KRAZ, "412"),
            ],
            "licences": [
                (
                    "Certyfikat wpisu do rejestru agencji zatrudnienia (KRAZ)",
                    "412",
                    "Marszałek Województwa Mazowieckiego",
                    "PL",
                    _years(today, -9, 3),
                    _years(today, 1, 95),
                ),
            ],
            "sites": [
                ("Centrala", "al. Jerozolimskie 65/79", "Warszawa", "PL"),
                ("Biuro regionalne Radom", "ul. Żeromskiego 53, 26-600", "Radom", "PL"),
            ],
            "corridors": [
                ("NP", "PL", ["construction"], 120),
                ("PH", "PL", ["hospitality", "healthcare"], 90),
                ("IN", "PL", ["logistics", "transport"], 70),
                ("UA", "PL", ["manufacturing", "cleaning"], 300),
            ],
            "sub_agents": [
                (
                    "Himalayan Overseas Employment Pvt. Ltd.",
                    "NP",
                    "1283/076/77",
                    True,
                    today - timedelta(days=190),
                    Risk.MEDIUM,
                ),
                (
                    "Cebu Global Placement Agency Inc.",
                    "PH",
                    "DMW-112-LB-030523-R",
                    True,
                    today - timedelta(days=75),
                    Risk.LOW,
                ),
                (
                    "Mumbai Skilled Workforce Pvt. Ltd.",
                    "IN",
                    "B-0712/MUM/PART/1000+/5/9876/2019",
                    False,
                    None,
                    Risk.HIGH,
                ),
            ],
            "member": ("Joanna Mazur", "j.mazur@mbrz.pl", "pl"),
        },
        "agency_baltyk": {
            "details": {
                "address": "ul. Długa 45",
                "postal_code": "80-827",
                "city": "Gdańsk",
                "trade_names": ["Baltyk Crew"],
                "website": "https://baltyk-personel.pl",
                "staff_count": 17,
                "preferred_language": "pl",
                "services": ["selection", "placement", "documentation", "temporary_work"],
            },
            "registrations": [
                (RegistrationKind.NIP, numbers.make_nip(rng, "583")),
                (RegistrationKind.REGON, numbers.make_regon(rng, "22")),
                (RegistrationKind.KRS, numbers.make_krs(rng)),
                (RegistrationKind.KRAZ, "15820"),
            ],
            "licences": [
                (
                    "Certyfikat wpisu do rejestru agencji zatrudnienia (KRAZ)",
                    "15820",
                    "Marszałek Województwa Pomorskiego",
                    "PL",
                    _years(today, -3, 20),
                    _years(today, 3, -10),
                ),
            ],
            "sites": [
                ("Siedziba", "ul. Długa 45", "Gdańsk", "PL"),
                ("Biuro Gdynia", "ul. Świętojańska 36, 81-372", "Gdynia", "PL"),
            ],
            "corridors": [
                ("UA", "PL", ["shipbuilding"], 140),
                ("PH", "PL", ["shipbuilding"], 40),
                ("UZ", "PL", ["transport"], 35),
                ("PL", "DE", ["construction"], 25),
            ],
            "sub_agents": [
                (
                    "Tashkent Labour Partners LLC",
                    "UZ",
                    "UZ-MIG-0457",
                    True,
                    today - timedelta(days=410),
                    Risk.MEDIUM,
                ),
            ],
            "member": ("Krzysztof Grabowski", "k.grabowski@baltyk-personel.pl", "pl"),
        },
        "agency_dnipro": {
            "details": {
                "address": "просп. Яворницького, 52",
                "postal_code": "49000",
                "city": "Дніпро",
                "trade_names": ["Dnipro Kadry"],
                "website": "https://dnipro-kadry.com.ua",
                "staff_count": 14,
                "preferred_language": "uk",
                "services": ["sourcing", "selection", "placement", "documentation", "orientation"],
            },
            "registrations": [(RegistrationKind.EDRPOU, numbers.make_edrpou(rng, "4"))],
            "licences": [
                (
                    "Ліцензія на посередництво у працевлаштуванні за кордоном",
                    "АЕ 284517",
                    "Міністерство економіки України",
                    "UA",
                    _years(today, -5, 60),
                    None,
                ),
            ],
            "sites": [
                ("Головний офіс", "просп. Яворницького, 52", "Дніпро", "UA"),
                ("Філія Запоріжжя", "просп. Соборний, 158", "Запоріжжя", "UA"),
            ],
            "corridors": [
                ("UA", "PL", ["manufacturing", "food_processing"], 220),
                ("UA", "CZ", ["manufacturing"], 110),
                ("UA", "LT", ["logistics"], 60),
            ],
            "sub_agents": [
                (
                    "ФОП Петренко Ігор Васильович",
                    "UA",
                    None,
                    True,
                    today - timedelta(days=150),
                    Risk.MEDIUM,
                ),
            ],
            "member": ("Ігор Бондар", "i.bondar@dnipro-kadry.com.ua", "uk"),
        },
        "agency_lviv": {
            "details": {
                "address": "вул. Городоцька, 17",
                "postal_code": "79007",
                "city": "Львів",
                "trade_names": ["LCP Work"],
                "website": "https://lcp.lviv.ua",
                "staff_count": 9,
                "preferred_language": "uk",
                "services": ["sourcing", "selection", "placement", "travel"],
            },
            "registrations": [(RegistrationKind.EDRPOU, numbers.make_edrpou(rng, "3"))],
            "licences": [
                # Expired: the demo shows how the profile and the application react.
                (
                    "Ліцензія на посередництво у працевлаштуванні за кордоном",
                    "АГ 571093",
                    "Міністерство соціальної політики України",
                    "UA",
                    _years(today, -6, 0),
                    today - timedelta(days=41),
                ),
            ],
            "sites": [
                ("Головний офіс", "вул. Городоцька, 17", "Львів", "UA"),
                ("Філія Тернопіль", "вул. Руська, 8", "Тернопіль", "UA"),
            ],
            "corridors": [
                ("UA", "PL", ["agriculture"], 400),
                ("UA", "CZ", ["manufacturing"], 150),
                ("UA", "DE", ["healthcare"], 20),
            ],
            "sub_agents": [
                ("ТОВ «Буковина Персонал»", "UA", None, False, None, Risk.HIGH),
            ],
            "member": ("Наталія Ткаченко", "n.tkachenko@lcp.lviv.ua", "uk"),
        },
    }


PL_LICENCE = "Certyfikat wpisu do rejestru agencji zatrudnienia (KRAZ)"
UA_LICENCE = "Ліцензія на посередництво у працевлаштуванні за кордоном"
UA_MINISTRY = "Міністерство економіки України"

#: key -> (postal code, street address, trade name, website, staff, preferred language,
#:         services, licence (type, number, issuer), head-office name, corridors)
#: of the agencies of the later stages (registration numbers are generated below)
MORE_AGENCIES: dict[str, tuple[Any, ...]] = {
    "agency_poznan": ("61-806", "ul. Święty Marcin 29", "WAPT", "https://wapt.pl", 38, "pl",
                      ["sourcing", "selection", "placement", "documentation", "post_arrival"],
                      (PL_LICENCE, "2214", "Marszałek Województwa Wielkopolskiego"), "Siedziba",
                      [("UA", "PL", ["manufacturing"], 250), ("PH", "PL", ["logistics"], 80)]),
    "agency_katowice": ("40-014", "ul. Mariacka 17", "SBPP", "https://sbpp.pl", 12, "pl",
                        ["selection", "placement", "temporary_work"],
                        (PL_LICENCE, "18034", "Marszałek Województwa Śląskiego"), "Biuro",
                        [("UA", "PL", ["manufacturing", "cleaning"], 210)]),
    "agency_rzeszow": ("35-030", "ul. 3 Maja 21", "PCZ", "https://pcz-rzeszow.pl", 19, "pl",
                       ["sourcing", "selection", "placement", "documentation", "orientation"],
                       (PL_LICENCE, "6620", "Marszałek Województwa Podkarpackiego"), "Siedziba",
                       [("UA", "PL", ["agriculture"], 300), ("UA", "DE", ["healthcare"], 30)]),
    "agency_kharkiv": ("61002", "вул. Сумська, 72", "SKC", "https://skc.kharkiv.ua", 22, "uk",
                       ["sourcing", "selection", "placement", "documentation"],
                       (UA_LICENCE, "АЕ 615204", UA_MINISTRY), "Головний офіс",
                       [("UA", "PL", ["manufacturing"], 200), ("UA", "CZ", ["logistics"], 60)]),
    "agency_odesa": ("65026", "вул. Дерибасівська, 12", "ChAP", "https://chap.od.ua", 16, "uk",
                     ["sourcing", "selection", "placement", "travel"],
                     (UA_LICENCE, "АЕ 590871", UA_MINISTRY), "Головний офіс",
                     [("UA", "PL", ["shipbuilding"], 90), ("UA", "LT", ["transport"], 50)]),
    "agency_poltava": ("36014", "вул. Соборності, 41", "PRK", "https://prk.poltava.ua", 8, "uk",
                       ["sourcing", "selection", "placement"],
                       (UA_LICENCE, "АЕ 633410", UA_MINISTRY), "Офіс",
                       [("UA", "PL", ["food_processing"], 160)]),
    "agency_vinnytsia": ("21050", "вул. Соборна, 59", "Podillia Personal",
                         "https://podillia-personal.ua", 11, "uk",
                         ["sourcing", "selection", "placement", "orientation"],
                         (UA_LICENCE, "АЕ 602775", UA_MINISTRY), "Головний офіс",
                         [("UA", "DE", ["healthcare"], 40), ("UA", "PL", ["agriculture"], 220)]),
    "agency_chisinau": ("MD-2012", "str. Mihai Eminescu 47", "Nistru Muncă",
                        "https://nistru-munca.md", 14, "ru",
                        ["sourcing", "selection", "placement", "documentation", "travel"],
                        ("Licență pentru plasarea în câmpul muncii în străinătate",
                         "ANOFM 0412/2019",
                         "Agenția Națională pentru Ocuparea Forței de Muncă"), "Oficiul central",
                        [("MD", "PL", ["food_processing"], 120), ("MD", "CZ", ["manufacturing"], 60)]),
    "agency_iasi": ("700063", "Bd. Ștefan cel Mare și Sfânt 8", "Carpați Jobs",
                    "https://carpati-recrutare.ro", 21, "en",
                    ["sourcing", "selection", "placement", "post_arrival"],
                    ("Autorizație agent de plasare a forței de muncă în străinătate",
                     "ITM-IS 137/2018", "Inspectoratul Teritorial de Muncă Iași"), "Sediu",
                    [("UA", "RO", ["construction"], 70), ("PH", "RO", ["hospitality"], 40)]),
    "agency_brno": ("602 00", "Masarykova 427/31", "MPA", "https://moravska-pa.cz", 17, "en",
                    ["selection", "placement", "temporary_work"],
                    ("Povolení ke zprostředkování zaměstnání", "MPSV 2016/41275-421",
                     "Generální ředitelství Úřadu práce ČR"), "Sídlo",
                    [("UA", "CZ", ["manufacturing"], 180)]),
    "agency_vilnius": ("LT-01103", "Gedimino pr. 9", "BIP", "https://bip.lt", 13, "en",
                       ["sourcing", "selection", "placement", "travel"],
                       ("Leidimas teikti įdarbinimo paslaugas", "UŽT-2017-118",
                        "Užimtumo tarnyba"), "Būstinė",
                       [("UA", "LT", ["transport"], 90), ("BY", "LT", ["transport"], 40)]),
}  # fmt: skip

#: registration numbers of the agencies outside Poland and Ukraine (company registers)
OTHER_REGISTRATIONS = {
    "agency_chisinau": "IDNO 1017600034512",
    "agency_iasi": "CUI RO31577452",
    "agency_brno": "IČO 27164381",
    "agency_vilnius": "Įmonės kodas 304512873",
}


def _more_profiles(ctx: Any, today: date) -> dict[str, dict[str, Any]]:
    """Complete profiles of :data:`MORE_AGENCIES`; their licences date from years back, so
    the demo can take them through steps in the past (the expired certificate's case)."""
    out = {}
    for key, row in MORE_AGENCIES.items():
        org = ctx.objects.get(key)
        if org is None:
            continue
        postal, street, trade, website, staff, lang, services, licence, office, corr = row
        if org.country == "PL":
            registrations = [
                (RegistrationKind.NIP, numbers.make_nip(ctx.rng, "779")),
                (RegistrationKind.REGON, numbers.make_regon(ctx.rng, "30")),
                (RegistrationKind.KRS, numbers.make_krs(ctx.rng)),
                (RegistrationKind.KRAZ, licence[1]),
            ]
        elif org.country == "UA":
            registrations = [(RegistrationKind.EDRPOU, numbers.make_edrpou(ctx.rng, "4"))]
        else:
            registrations = [(RegistrationKind.OTHER, OTHER_REGISTRATIONS[key])]
        licence_type, number, issuer = licence
        out[key] = {
            "details": {
                "address": street, "postal_code": postal, "city": org.city,
                "trade_names": [trade], "website": website, "staff_count": staff,
                "preferred_language": lang, "services": services,
            },
            "registrations": registrations,
            "licences": [(licence_type, number, issuer, org.country, _years(today, -8, 30),
                          None if org.country == "UA" else _years(today, 2, 100))],
            "sites": [(office, street, org.city, org.country)],
            "corridors": corr,
            "sub_agents": [],
        }  # fmt: skip
    return out


def _licence_pdf(org_name: str, row: tuple[Any, ...]) -> bytes:
    licence_type, number, issuer, country, valid_from, valid_to = row
    return specimen_pdf(
        licence_type,
        [
            f"Number: {number}",
            f"Holder: {org_name}",
            f"Issued by: {issuer} ({country})",
            f"Valid from: {valid_from.isoformat()}",
            f"Valid until: {valid_to.isoformat() if valid_to else 'no expiry'}",
        ],
    )


def seed(ctx: Any) -> None:
    today = utcnow().date()
    password_hash = ctx.objects.get("_hash") or security.hash_password(ctx.password)
    ctx.objects["_hash"] = password_hash
    for key, spec in (_profiles(ctx, today) | _more_profiles(ctx, today)).items():
        org = ctx.objects.get(key)
        if org is None:
            continue
        admin: User = ctx.objects[f"{key}_admin"]
        details = {"name": org.name, "country": org.country, **spec["details"]}
        ops.update_agency_details(org, actor=admin, **details)
        for kind, value in spec["registrations"]:
            ops.add_profile_row(org, "registrations", actor=admin, kind=kind, value=value)
        for row in spec["licences"]:
            licence_type, number, issuer, country, valid_from, valid_to = row
            ops.add_profile_row(
                org,
                "licences",
                actor=admin,
                licence_type=licence_type,
                number=number,
                issuer=issuer,
                country=country,
                valid_from=valid_from,
                valid_to=valid_to,
                upload=(_licence_pdf(org.name, row), f"licence-{number.replace(' ', '')}.pdf"),
            )
        for name, address, city, country in spec["sites"]:
            ops.add_profile_row(
                org, "sites", actor=admin, name=name, address=address, city=city, country=country
            )
        for origin, destination, sectors, workers in spec["corridors"]:
            ops.add_profile_row(
                org,
                "corridors",
                actor=admin,
                origin_country=origin,
                destination_country=destination,
                sectors=sectors,
                workers_per_year=workers,
            )
        for name, country, licence, contract, checked, risk in spec["sub_agents"]:
            ops.add_profile_row(
                org,
                "sub-agents",
                actor=admin,
                name=name,
                country=country,
                licence_number=licence,
                has_contract=contract,
                last_due_diligence_on=checked,
                risk=risk,
            )
        if "member" not in spec:
            continue
        name, email, locale = spec["member"]
        member = User(
            email=email,
            name=name,
            locale=locale,
            email_verified_at=utcnow(),
            password_hash=password_hash,
        )
        db.session.add(member)
        db.session.add(Membership(user=member, organisation=org, role=Role.AGENCY_MEMBER))
        ctx.objects[f"{key}_member"] = member
        ctx.logins.append((Role.AGENCY_MEMBER.value, email, org.name))
    db.session.flush()
