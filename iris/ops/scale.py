"""``flask --app wsgi iris demo --scale N``: a large, realistic dataset for benchmarks.

N certificates (up to 1,000,000 and more) with everything around them: agencies (names with
diacritics — Łódź, Київ, München —, countries, registration numbers, corridors, a site),
applications in every state, certification cases in every state with their audit teams and
findings, certificates in every status (mostly active; suspended, withdrawn, expired,
superseded, a few cancelled), each with a **valid hash-chained history** (the records
are built and sealed in Python with :mod:`iris.core.history`'s own functions), a **signed
credential** (Ed25519 over the same facts as issuance, about 60 µs each) and its **registry
entry** (built by :func:`iris.registry.sync.entry_row`, the code the live sync uses).

Fast: rows are generated in chunks of agencies and written without the ORM — PostgreSQL
through ``COPY ... FROM STDIN`` (psycopg 3), SQLite through ``executemany`` with
``PRAGMA synchronous=OFF`` — with ids assigned here (sequences are moved past them at the
end). What it does not make: PDFs (``pdf_sha256`` stays empty: a PDF is rendered on issue,
0.35 s each), questionnaire responses, and user accounts for the generated agencies (their
own steps in the history carry the agency admin role without a person); the audit
companies, their staff (who can sign in, password as for ``demo``) and one application
reviewer are created, so queues and dashboards can be opened as a real user.

Run after ``demo`` (it is: ``demo --scale N`` loads the normal demo data first when the
database is empty), or on a database that already has data: ids, certificate numbers and
sequences continue from what is there.
"""

from __future__ import annotations

import json
import operator
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from iris.core.db import db, new_public_id
from iris.core.history import record_hash

#: chunk of agencies generated and written together (bounded memory)
CHUNK = 2000
#: processes generating and writing at once (each owns some countries: see build_scale)
WORKERS = 3

# ----------------------------------------------------------------------------- vocabulary

COUNTRIES: tuple[tuple[str, int], ...] = (
    ("PL", 40),
    ("UA", 18),
    ("DE", 6),
    ("PH", 6),
    ("NP", 5),
    ("IN", 5),
    ("VN", 4),
    ("GE", 3),
    ("MD", 3),
    ("UZ", 3),
    ("RO", 3),
    ("LT", 2),
    ("CZ", 2),
)
CITIES = {
    "PL": (
        "Łódź",
        "Kraków",
        "Gdańsk",
        "Wrocław",
        "Poznań",
        "Białystok",
        "Rzeszów",
        "Zielona Góra",
        "Bielsko-Biała",
        "Świnoujście",
        "Warszawa",
        "Częstochowa",
    ),
    "UA": ("Київ", "Львів", "Харків", "Дніпро", "Одеса", "Вінниця", "Житомир", "Чернівці"),
    "DE": ("München", "Köln", "Düsseldorf", "Nürnberg", "Lübeck", "Görlitz"),
    "PH": ("Manila", "Cebu", "Davao", "Quezon City"),
    "NP": ("Kathmandu", "Pokhara", "Biratnagar"),
    "IN": ("Mumbai", "Kochi", "Chennai", "Hyderabad"),
    "VN": ("Hà Nội", "Hồ Chí Minh", "Đà Nẵng", "Huế"),
    "GE": ("Tbilisi", "Batumi", "Kutaisi"),
    "MD": ("Chișinău", "Bălți"),
    "UZ": ("Toshkent", "Samarqand", "Buxoro"),
    "RO": ("București", "Iași", "Timișoara", "Brașov"),
    "LT": ("Vilnius", "Kaunas", "Klaipėda", "Šiauliai"),
    "CZ": ("Praha", "Brno", "Ostrava", "České Budějovice"),
}
NAME_PARTS = {
    "PL": (
        ("Agencja Pracy", "Biuro Pośrednictwa Pracy", "Personel", "Kadry"),
        (
            "Żółkiewski",
            "Wiśniewska",
            "Kowalczyk",
            "Łęcki",
            "Grześkowiak",
            "Sęk",
            "Pająk",
            "Nowak",
            "Mazur",
            "Wójcik",
        ),
        ("Sp. z o.o.", "S.A.", "sp.j."),
    ),
    "UA": (
        ("Кадрове агентство", "Агенція працевлаштування", "Центр зайнятості"),
        ("Світанок", "Ясень", "Дніпровські кадри", "Калина", "Лелека", "Їжак"),
        ("ТОВ", "ПП"),
    ),
    "DE": (
        ("Personalvermittlung", "Arbeitsvermittlung", "Fachkräfte"),
        ("Müller", "Schäfer", "Größ", "Weiß", "Bäcker"),
        ("GmbH", "AG"),
    ),
}
GENERIC_PARTS = (
    ("Global Recruitment", "Overseas Employment", "Manpower Services", "Fair Jobs"),
    ("Horizon", "Lotus", "Everest", "Sunrise", "Unity", "Orchid"),
    ("Ltd", "Inc.", "Co."),
)
LANGUAGE = {"PL": "pl", "UA": "uk", "MD": "ru", "UZ": "ru", "GE": "ru"}
DESTINATIONS = ("PL", "DE", "CZ", "LT", "NL", "SE")
SECTORS = ("agriculture", "construction", "manufacturing", "care", "logistics", "hospitality")
SERVICES = ("sourcing", "selection", "placement", "documentation", "travel", "orientation")
SUSPENSION_REASONS = (
    "unresolved_major_finding",
    "surveillance_refused_or_overdue",
    "substantiated_complaint",
    "misuse_of_mark",
    "voluntary",
)
#: share (per thousand) of each certified agency's story
STORIES = (
    ("active", 760),
    ("recertified", 90),
    ("suspended", 45),
    ("withdrawn", 40),
    ("expired", 60),
    ("cancelled", 5),
)
#: states of the applications of agencies that are not (yet) certified, per thousand
APPLICATION_STATES = (
    ("draft", 200),
    ("submitted", 120),
    ("under_review", 120),
    ("deferred", 80),
    ("rejected", 80),
    ("lapsed", 50),
    ("withdrawn", 50),
    ("accepted", 300),
)
#: where the case of an accepted application stands
OPEN_CASE_STATES = (
    "team_pending",
    "audit_planned",
    "stage1",
    "stage2",
    "findings_issued",
    "cap_submitted",
    "recommended",
    "decision_pending",
    "refused",
    "closed_not_certified",
)
#: share of certified agencies with a surveillance audit running now
SURVEILLANCE_SHARE = 0.08
STAFF_ROLES = ("planner", "lead_auditor", "auditor", "technical_reviewer", "decision_maker")


def _j(value: Any) -> Any:
    """A payload value as it reads back from the JSON column (what the engine's
    ``json_safe`` makes of it), without the JSON round trip: 1,000,000 certificates have
    about 12,000,000 records."""
    if isinstance(value, datetime):
        if value.utcoffset():
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _pick(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


# ----------------------------------------------------------------------------- rows


@dataclass
class Rows:
    """Rows of one chunk, per table, as dicts in insertion order."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.tables.setdefault(table, []).append(row)
        return row


#: insertion order (foreign keys)
ORDER = (
    "organisations",
    "agency_profiles",
    "registration_numbers",
    "corridors",
    "sites",
    "applications",
    "certification_cases",
    "case_team_members",
    "findings",
    "certificates",
    "transition_records",
    "registry_entries",
    "registry_identifiers",
)


class _Record:
    """A transition record's columns, for :func:`record_hash`."""

    __slots__ = (
        "actor_id",
        "actor_role",
        "at",
        "from_state",
        "hash",
        "id",
        "payload",
        "prev_hash",
        "reason",
        "seq",
        "subject_id",
        "subject_type",
        "to_state",
        "trigger",
    )

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class _Cert:
    """A certificate's columns, for :func:`iris.registry.sync.entry_row`."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


@dataclass
class Staff:
    company_id: int
    company_name: str
    company_country: str
    users: dict[str, int]


@dataclass
class ScaleReport:
    certificates: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


class Generator:
    """Builds the rows; ids come from ``next_ids`` (one counter per table)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        staff: list[Staff],
        reviewer_id: int,
        next_ids: dict[str, int],
        counters: dict[tuple[str, int], int],
        sign: Callable[[dict[str, Any], datetime], str],
        kid: str,
        base_url: str,
        config: Any,
        countries: Sequence[tuple[str, int]] = COUNTRIES,
    ) -> None:
        self.rng = rng
        self.countries = list(countries)
        self.now = now
        self.staff = staff
        self.reviewer_id = reviewer_id
        self.ids = next_ids
        self.counters = counters
        self.sign = sign
        self.kid = kid
        self.base_url = base_url
        self.validity = int(config["IRIS_CERT_VALIDITY_YEARS"])
        self.suspension_months = int(config["IRIS_SUSPENSION_MAX_MONTHS"])
        self.cap_days = int(config["IRIS_CAP_DEADLINE_DAYS"])
        self.deferral_days = int(config["IRIS_DEFERRAL_DAYS"])
        self.review_days = int(config["IRIS_REVIEW_TARGET_DAYS"])
        self.standard = str(config.get("IRIS_STANDARD_VERSION", "1.2"))
        self.agency_seq = 0
        self.rows = Rows()
        self.certificates = 0

    # -- helpers
    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def number(self, country: str, year: int) -> str:
        from iris.certificates.numbering import format_number

        seq = self.counters.get((country, year), 0) + 1
        self.counters[(country, year)] = seq
        return format_number(country, year, seq)

    def chain(
        self, subject_type: str, subject_id: int, steps: Iterable[tuple[Any, ...]]
    ) -> list[_Record]:
        """Records for ``steps`` = (trigger, from, to, actor_id, role, at, reason, payload)."""
        out: list[_Record] = []
        prev: str | None = None
        for seq, (trigger, src, dst, actor, role, at, reason, payload) in enumerate(steps, 1):
            rec = _Record()
            rec.id = self.next_id("transition_records")
            rec.subject_type, rec.subject_id, rec.seq = subject_type, subject_id, seq
            rec.trigger, rec.from_state, rec.to_state = trigger, src, dst
            rec.actor_id, rec.actor_role, rec.at = actor, role, at
            rec.reason = reason
            rec.payload = {k: _j(v) for k, v in payload.items()} if payload else {}
            rec.prev_hash = prev
            rec.hash = record_hash(prev, rec)
            prev = rec.hash
            out.append(rec)
            self.rows.add("transition_records", rec.as_row())
        return out

    def moment(self, start: datetime, end: datetime) -> datetime:
        span = max(1, int((end - start).total_seconds()))
        return (start + timedelta(seconds=self.rng.randrange(span))).replace(microsecond=0)

    # -- an agency
    def agency(self, certified: bool) -> dict[str, Any]:
        rng = self.rng
        self.agency_seq += 1
        country = _pick(rng, self.countries)
        city = rng.choice(CITIES[country])
        first, second, form = NAME_PARTS.get(country, GENERIC_PARTS)
        name = f"{rng.choice(first)} {rng.choice(second)} {city} {rng.choice(form)}"
        org_id = self.next_id("organisations")
        created = self.moment(
            self.now - timedelta(days=365 * 8), self.now - timedelta(days=365 * 4)
        )
        self.rows.add(
            "organisations",
            {
                "id": org_id,
                "kind": "agency",
                "name": name,
                "country": country,
                "city": city,
                "address": f"ul. Główna {org_id % 200 + 1}"
                if country == "PL"
                else f"{org_id % 200 + 1} Main Street",
                "status": "active",
                "status_changed_at": None,
                "public_id": new_public_id(),
                "created_at": created,
                "updated_at": created,
            },
        )
        trade = [f"{name.split()[0]} {city}"] if rng.random() < 0.3 else []
        services = sorted(rng.sample(SERVICES, rng.randint(2, 4)))
        self.rows.add(
            "agency_profiles",
            {
                "organisation_id": org_id,
                "trade_names": trade,
                "services": services,
                "staff_count": rng.randint(3, 400),
                "preferred_language": LANGUAGE.get(country, "en"),
                "website": None,
                "postal_code": None,
                "created_at": created,
                "updated_at": created,
            },
        )
        regs: dict[str, str] = {}
        if country == "PL":
            regs = {
                "nip": f"{5200000000 + org_id:010d}",
                "krs": f"{org_id:010d}",
                "kraz": f"{org_id % 30000 + 1}/{org_id % 17 + 2008}",
            }
        elif country == "UA":
            regs = {"edrpou": f"{30000000 + org_id:08d}"}
        else:
            regs = {"other": f"{country}-LIC-{org_id:08d}"}
        for kind, value in regs.items():
            self.rows.add(
                "registration_numbers",
                {
                    "id": self.next_id("registration_numbers"),
                    "organisation_id": org_id,
                    "kind": kind,
                    "value": value,
                    "public_id": new_public_id(),
                    "created_at": created,
                    "updated_at": created,
                },
            )
        corridors = []
        for dest in rng.sample(DESTINATIONS, rng.choice((1, 1, 2))):
            origin = country if country != dest else rng.choice(("UA", "PH", "NP", "IN", "VN"))
            sectors = sorted(rng.sample(SECTORS, rng.randint(1, 2)))
            corridors.append((origin, dest, sectors))
            self.rows.add(
                "corridors",
                {
                    "id": self.next_id("corridors"),
                    "organisation_id": org_id,
                    "origin_country": origin,
                    "destination_country": dest,
                    "sectors": sectors,
                    "workers_per_year": rng.randint(10, 2000),
                    "public_id": new_public_id(),
                    "created_at": created,
                    "updated_at": created,
                },
            )
        site_name = "Head office" if country != "PL" else "Siedziba"
        self.rows.add(
            "sites",
            {
                "id": self.next_id("sites"),
                "organisation_id": org_id,
                "name": site_name,
                "address": "",
                "city": city,
                "country": country,
                "public_id": new_public_id(),
                "created_at": created,
                "updated_at": created,
            },
        )
        return {
            "id": org_id,
            "name": name,
            "country": country,
            "city": city,
            "trade": trade,
            "services": services,
            "regs": regs,
            "corridors": sorted(corridors),
            "site": f"{site_name}, {city}",
            "created": created,
        }

    # -- applications
    def application(
        self, agency: dict[str, Any], state: str, start: datetime
    ) -> tuple[int, datetime]:
        """An application of ``agency`` that ends in ``state``; returns (id, last step time)."""
        app_id = self.next_id("applications")
        t = start
        steps: list[tuple[Any, ...]] = [
            ("create", None, "draft", None, "agency_admin", t, None, {})
        ]
        row: dict[str, Any] = {
            "id": app_id,
            "agency_id": agency["id"],
            "state": state,
            "version": 1,
            "created_by_id": None,
            "submitted_at": None,
            "reviewer_id": None,
            "review_due_at": None,
            "requested_items": [],
            "deferral_due_at": None,
            "rejection_reason_code": None,
            "decided_at": None,
            "appeal_due_at": None,
            "public_id": new_public_id(),
            "created_at": start,
        }

        def step(
            trigger: str,
            src: str,
            dst: str,
            actor: int | None,
            role: str,
            days: float,
            reason: str | None = None,
            payload: dict[str, Any] | None = None,
        ) -> None:
            nonlocal t
            t = t + timedelta(days=days, seconds=self.rng.randrange(3600))
            steps.append((trigger, src, dst, actor, role, t, reason, payload or {}))

        if state == "withdrawn" and self.rng.random() < 0.5:
            step("withdraw", "draft", "withdrawn", None, "agency_admin", 10)
        elif state != "draft":
            step("submit", "draft", "submitted", None, "agency_admin", self.rng.uniform(3, 40))
            row["submitted_at"] = t
            row["review_due_at"] = t + timedelta(days=self.review_days)
            if state == "withdrawn":
                step("withdraw", "submitted", "withdrawn", None, "agency_admin", 2)
            elif state != "submitted":
                step(
                    "start_review",
                    "submitted",
                    "under_review",
                    self.reviewer_id,
                    "application_reviewer",
                    self.rng.uniform(1, 10),
                )
                row["reviewer_id"] = self.reviewer_id
                if state in ("deferred", "lapsed") or self.rng.random() < 0.15:
                    step(
                        "defer",
                        "under_review",
                        "deferred",
                        self.reviewer_id,
                        "application_reviewer",
                        5,
                        "Licence extract missing",
                    )
                    row["requested_items"] = [
                        {"text": "Current KRAZ register extract", "answer": ""}
                    ]
                    row["deferral_due_at"] = t + timedelta(days=self.deferral_days)
                    if state == "lapsed":
                        step("lapse", "deferred", "lapsed", None, "system", self.deferral_days + 1)
                    elif state != "deferred":
                        step("resubmit", "deferred", "under_review", None, "agency_admin", 20)
                        row["requested_items"] = [
                            {"text": "Current KRAZ register extract", "answer": "Uploaded"}
                        ]
                if state == "rejected":
                    step(
                        "reject",
                        "under_review",
                        "rejected",
                        self.reviewer_id,
                        "application_reviewer",
                        7,
                        "Not a labour recruiter",
                        {"reason_code": "not_eligible"},
                    )
                    row["rejection_reason_code"] = "not_eligible"
                    row["decided_at"] = t
                elif state == "accepted":
                    step(
                        "accept",
                        "under_review",
                        "accepted",
                        self.reviewer_id,
                        "application_reviewer",
                        7,
                    )
                    row["decided_at"] = t
        row["updated_at"] = t
        self.rows.add("applications", row)
        self.chain("application", app_id, steps)
        return app_id, t

    # -- cases
    def case(
        self,
        agency: dict[str, Any],
        staff: Staff,
        *,
        state: str,
        audit_type: str,
        application_id: int | None,
        start: datetime,
    ) -> tuple[int, datetime]:
        """A case that ends in ``state`` (``certified`` for a grant); (id, last step time)."""
        case_id = self.next_id("certification_cases")
        u = staff.users
        t = start
        initial = audit_type == "initial"
        steps: list[tuple[Any, ...]] = [
            ("open", None, "team_pending", None, "agency_admin", t, None, {})
            if initial
            else (
                "open_followup",
                None,
                "team_pending",
                u["planner"],
                "planner",
                t,
                None,
                {"audit_type": audit_type},
            )
        ]
        row: dict[str, Any] = {
            "id": case_id,
            "agency_id": agency["id"],
            "audit_company_id": staff.company_id,
            "application_id": application_id,
            "audit_type": audit_type,
            "state": state,
            "version": 1,
            "cap_due_at": None,
            "recommendation": None,
            "recommendation_rationale": None,
            "technical_reviewer_id": None,
            "decision_maker_id": None,
            "decided_at": None,
            "decision_rationale": None,
            "appeal_due_at": None,
            "public_id": new_public_id(),
            "created_at": start,
        }
        path: list[tuple[str, str, str, str, str]] = [
            ("assign_team", "team_pending", "audit_planned", "planner", "planner"),
        ]
        if initial:
            path += [
                ("start_stage1", "audit_planned", "stage1", "lead_auditor", "lead_auditor"),
                ("start_stage2", "stage1", "stage2", "lead_auditor", "lead_auditor"),
            ]
        else:
            path += [("start_onsite", "audit_planned", "stage2", "lead_auditor", "lead_auditor")]
        with_findings = state in ("findings_issued", "cap_submitted", "closed_not_certified") or (
            state in ("recommended", "decision_pending", "certified", "refused")
            and self.rng.random() < 0.3
        )
        if with_findings:
            path += [
                ("issue_findings", "stage2", "findings_issued", "lead_auditor", "lead_auditor"),
                ("submit_cap", "findings_issued", "cap_submitted", "", "agency_admin"),
                ("recommend", "cap_submitted", "recommended", "lead_auditor", "lead_auditor"),
            ]
        else:
            path += [("recommend", "stage2", "recommended", "lead_auditor", "lead_auditor")]
        path += [
            (
                "review",
                "recommended",
                "decision_pending",
                "technical_reviewer",
                "technical_reviewer",
            ),
            ("grant", "decision_pending", "certified", "decision_maker", "decision_maker"),
        ]
        if state == "refused":
            path[-1] = ("refuse", "decision_pending", "refused", "decision_maker", "decision_maker")
        if state == "closed_not_certified":
            path = [
                p
                for p in path
                if p[1] != "cap_submitted"
                and p[2] not in ("recommended", "decision_pending", "certified")
            ]
            path += [("close_overdue", "cap_submitted", "closed_not_certified", "", "system")]
        if state == "stage1" and not initial:
            state = row["state"] = "stage2"  # follow-up audits have no stage 1
        if state == "team_pending":
            path = []
        for trigger, src, dst, who, role in path:
            gap = self.rng.uniform(3, 25)
            t = t + timedelta(days=gap, seconds=self.rng.randrange(3600))
            payload: dict[str, Any] = {}
            reason = None
            if trigger == "issue_findings":
                row["cap_due_at"] = t + timedelta(days=self.cap_days)
                payload = {"cap_due_at": row["cap_due_at"]}
            if trigger == "recommend":
                row["recommendation"] = "refuse" if state == "refused" else "grant"
                row["recommendation_rationale"] = "Conforms to the standard."
                reason = "Conforms to the standard."
                payload = {"recommendation": row["recommendation"]}
            if trigger == "review":
                row["technical_reviewer_id"] = u["technical_reviewer"]
            if trigger in ("grant", "refuse"):
                row["decision_maker_id"] = u["decision_maker"]
                row["decided_at"] = t
                row["decision_rationale"] = "Four-eyes decision on the recommended report."
                reason = row["decision_rationale"]
                if trigger == "refuse":
                    row["appeal_due_at"] = t + timedelta(days=30)
            steps.append((trigger, src, dst, u[who] if who else None, role, t, reason, payload))
            if dst == state:
                break
        row["updated_at"] = t
        self.rows.add("certification_cases", row)
        self.chain("certification", case_id, steps)
        if state != "team_pending":
            for member, role in ((u["lead_auditor"], "lead"), (u["auditor"], "auditor")):
                self.rows.add(
                    "case_team_members",
                    {
                        "id": self.next_id("case_team_members"),
                        "case_id": case_id,
                        "user_id": member,
                        "team_role": role,
                        "coi_confirmed_at": start,
                        "created_at": start,
                        "updated_at": start,
                    },
                )
        if with_findings:
            due = row["cap_due_at"] or (t + timedelta(days=self.cap_days))
            closed = state not in ("findings_issued", "cap_submitted", "closed_not_certified")
            for criterion, grade in (("C.1", "major"), ("E.1", "minor")):
                self.rows.add(
                    "findings",
                    {
                        "id": self.next_id("findings"),
                        "case_id": case_id,
                        "criterion": criterion,
                        "grade": grade,
                        "statement": "Fee register incomplete for two workers.",
                        "evidence": "Sample of 12 contracts",
                        "due_at": due,
                        "status": "verified_closed"
                        if closed
                        else ("plan_submitted" if state == "cap_submitted" else "open"),
                        "correction": None,
                        "root_cause": None,
                        "action": None,
                        "owner": None,
                        "target_date": None,
                        "verified_at": t if closed else None,
                        "verified_by_id": u["lead_auditor"] if closed else None,
                        "public_id": new_public_id(),
                        "created_at": t,
                        "updated_at": t,
                    },
                )
        return case_id, t

    # -- certificates
    def certificate(
        self,
        agency: dict[str, Any],
        staff: Staff,
        case_id: int,
        issued: datetime,
        *,
        final: str,
        until: datetime,
        replaces: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A certificate issued at ``issued`` whose story ends in ``final`` before ``until``."""
        from iris.certificates.workflow import surveillance_due
        from iris.core.dates import add_months, add_years

        cert_id = self.next_id("certificates")
        number = self.number(agency["country"], issued.year)
        expires = add_years(issued, self.validity)
        original = replaces["original_issued_at"] if replaces else issued
        u = staff.users
        facts = {
            "v": 1,
            "type": "IRISCertificate",
            "iss": self.base_url,
            "number": number,
            "holder": {
                "name": agency["name"],
                "trade_names": agency["trade"],
                "country": agency["country"],
                "city": agency["city"],
                "registration_numbers": {k.upper(): v for k, v in sorted(agency["regs"].items())},
            },
            "scope": {
                "corridors": [
                    {"origin": o, "destination": d, "sectors": s} for o, d, s in agency["corridors"]
                ],
                "services": agency["services"],
                "sites": [agency["site"]],
            },
            "audit_company": {"name": staff.company_name, "country": staff.company_country},
            "standard": {"name": "IRIS Standard", "version": self.standard},
            "issued_at": issued.date().isoformat(),
            "original_issued_at": original.date().isoformat(),
            "expires_at": expires.date().isoformat(),
            "verify_url": f"{self.base_url}/verify/{number}",
            "status_list": f"{self.base_url}/registry/status-list.jwt",
            "kid": self.kid,
        }
        next_due = surveillance_due(issued)
        cert = _Cert(
            id=cert_id,
            number=number,
            agency_id=agency["id"],
            audit_company_id=staff.company_id,
            case_id=case_id,
            state="active",
            version=1,
            issued_at=issued,
            original_issued_at=original,
            expires_at=expires,
            next_surveillance_due=next_due,
            last_surveillance_at=None,
            suspended_at=None,
            suspension_reason_code=None,
            suspension_ends_at=None,
            withdrawn_at=None,
            status_changed_at=issued,
            replaces_id=replaces["id"] if replaces else None,
            standard_version=self.standard,
            language=LANGUAGE.get(agency["country"], "en"),
            facts=facts,
            credential=self.sign(facts, self.now),
            pdf_sha256=None,
            public_id=new_public_id(),
            created_at=issued,
            updated_at=issued,
        )
        steps: list[tuple[Any, ...]] = [
            (
                "issue",
                None,
                "active",
                u["decision_maker"],
                "decision_maker",
                issued,
                None,
                {"number": number, "expires_at": expires, "next_surveillance_due": next_due},
            )
        ]
        dm = u["decision_maker"]
        if final != "active" and final != "superseded":
            at = self.moment(issued + timedelta(days=60), min(until, expires) - timedelta(days=2))
            if final == "withdrawn":
                at = self.moment(issued + timedelta(days=30), self.now - timedelta(days=160))
            if final in ("suspended", "withdrawn"):
                if final == "suspended":  # suspended within the limit
                    at = self.moment(
                        max(issued + timedelta(days=1), self.now - timedelta(days=150)),
                        self.now - timedelta(days=1),
                    )
                code = self.rng.choice(SUSPENSION_REASONS)
                ends = add_months(at, self.suspension_months)
                steps.append(
                    (
                        "suspend",
                        "active",
                        "suspended",
                        dm,
                        "decision_maker",
                        at,
                        "Suspended pending corrective action.",
                        {"reason_code": code, "suspension_ends_at": ends},
                    )
                )
                cert.state, cert.suspended_at = "suspended", at
                cert.suspension_reason_code, cert.suspension_ends_at = code, ends
                cert.status_changed_at = at
                if final == "withdrawn":
                    at2 = min(
                        at + timedelta(days=self.rng.randint(20, 150)),
                        self.now - timedelta(hours=1),
                    )
                    steps.append(
                        (
                            "withdraw",
                            "suspended",
                            "withdrawn",
                            dm,
                            "decision_maker",
                            at2,
                            "Cause not resolved within the suspension.",
                            {"reason_code": "unresolved_major_finding"},
                        )
                    )
                    cert.state, cert.withdrawn_at, cert.status_changed_at = "withdrawn", at2, at2
            elif final == "expired":
                at = expires + timedelta(hours=self.rng.randint(1, 48))
                steps.append(("expire", "active", "expired", None, "system", at, None, {}))
                cert.state, cert.status_changed_at = "expired", at
            elif final == "cancelled":
                steps.append(
                    (
                        "cancel",
                        "active",
                        "cancelled",
                        None,
                        "scheme_admin",
                        at,
                        "Issued in error.",
                        {"reason_code": "issued_in_error"},
                    )
                )
                cert.state, cert.status_changed_at = "cancelled", at
        if final == "active" and issued < self.now - timedelta(days=400):
            cert.last_surveillance_at = issued + timedelta(days=360)
            cert.next_surveillance_due = add_months(issued, 24).date()
        row = self.rows.add("certificates", dict(cert.__dict__))
        records = self.chain("certificate", cert_id, steps)
        self.certificates += 1
        return {
            "cert": cert,
            "records": records,
            "original_issued_at": original,
            "id": cert_id,
            "staff": staff,
            "row": row,
        }

    def supersede(self, old: dict[str, Any], new_number: str, at: datetime) -> None:
        """Append the supersession to ``old``'s chain (its registry entry is built after)."""
        cert = old["cert"]
        rec = _Record()
        prev = old["records"][-1]
        rec.id = self.next_id("transition_records")
        rec.subject_type, rec.subject_id, rec.seq = "certificate", cert.id, prev.seq + 1
        rec.trigger, rec.from_state, rec.to_state = "supersede", "active", "superseded"
        rec.actor_id, rec.actor_role = old["staff"].users["decision_maker"], "decision_maker"
        rec.at, rec.reason = at, "Recertification granted."
        rec.payload = {"superseded_by": new_number}
        rec.prev_hash = prev.hash
        rec.hash = record_hash(prev.hash, rec)
        old["records"].append(rec)
        self.rows.add("transition_records", rec.as_row())
        cert.state, cert.status_changed_at, cert.updated_at = "superseded", at, at
        old["row"].update(state="superseded", status_changed_at=at, updated_at=at)

    def entry(self, made: dict[str, Any]) -> None:
        from iris.registry.sync import entry_row

        cert = made["cert"]
        row, keys = entry_row(cert, cert.facts, made["records"], self.base_url)
        self.rows.add("registry_entries", row)
        for key in sorted(keys):
            self.rows.add("registry_identifiers", {"identifier": key, "certificate_id": cert.id})

    # -- one agency's whole story
    def certified_agency(self, story: str) -> None:
        rng = self.rng
        agency = self.agency(True)
        staff = rng.choice(self.staff)
        validity_days = 365 * self.validity
        # the application and the initial case take 30 to 230 days from ``start`` to the grant
        if story == "expired":
            start = self.moment(
                self.now - timedelta(days=validity_days + 400),
                self.now - timedelta(days=validity_days + 240),
            )
        elif story == "recertified":
            start = self.moment(
                self.now - timedelta(days=2 * validity_days - 400),
                self.now - timedelta(days=validity_days + 200),
            )
        else:
            start = self.moment(
                self.now - timedelta(days=validity_days), self.now - timedelta(days=250)
            )
        start = max(start, agency["created"])
        app_id, t = self.application(agency, "accepted", start)
        case_id, t = self.case(
            agency,
            staff,
            state="certified",
            audit_type="initial",
            application_id=app_id,
            start=t + timedelta(days=3),
        )
        issued = t + timedelta(minutes=1)
        final = "active" if story == "recertified" else story
        made = self.certificate(agency, staff, case_id, issued, final=final, until=self.now)
        if story == "recertified":
            start2 = min(
                made["cert"].expires_at - timedelta(days=200), self.now - timedelta(days=160)
            )
            case2, t2 = self.case(
                agency,
                staff,
                state="certified",
                audit_type="recertification",
                application_id=None,
                start=start2,
            )
            issued2 = max(t2 + timedelta(minutes=1), issued + timedelta(days=30))
            made2 = self.certificate(
                agency, staff, case2, issued2, final="active", until=self.now, replaces=made
            )
            self.supersede(made, made2["cert"].number, issued2)
            self.entry(made)
            made = made2
        self.entry(made)
        if made["cert"].state == "active" and rng.random() < SURVEILLANCE_SHARE:
            state = rng.choice(OPEN_CASE_STATES[:8])
            self.case(
                agency,
                staff,
                state=state,
                audit_type="surveillance",
                application_id=None,
                start=self.now - timedelta(days=rng.randint(155, 200)),
            )

    def applicant_agency(self, state: str | None = None, case_state: str | None = None) -> None:
        rng = self.rng
        agency = self.agency(False)
        state = state or _pick(rng, APPLICATION_STATES)
        start = self.moment(self.now - timedelta(days=500), self.now - timedelta(days=100))
        if state == "accepted":  # then a case of up to 200 days
            start = self.moment(self.now - timedelta(days=700), self.now - timedelta(days=300))
        if state in ("submitted", "under_review", "deferred", "draft"):
            start = self.moment(self.now - timedelta(days=120), self.now - timedelta(days=60))
        app_id, t = self.application(agency, state, start)
        if state == "accepted":
            case_state = case_state or rng.choice(OPEN_CASE_STATES)
            self.case(
                agency,
                rng.choice(self.staff),
                state=case_state,
                audit_type="initial",
                application_id=app_id,
                start=t + timedelta(days=2),
            )


# ----------------------------------------------------------------------------- writing


def _sqlite_datetime(value: datetime) -> str:
    # SQLAlchemy's SQLite format, naive UTC: "YYYY-MM-DD HH:MM:SS.ffffff"
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Writer:
    """Bulk writes on a private DBAPI connection: COPY on PostgreSQL, executemany on SQLite.

    Rows go to the driver as tuples (``itemgetter``) and the driver converts datetimes,
    dates and JSON values itself through adapters registered for the load only (SQLite's
    module-level adapters are restored by :meth:`close`; PostgreSQL's are on this
    connection, which is detached from the pool and closed at the end).
    """

    def __init__(self) -> None:
        self.raw = db.engine.raw_connection()
        self.driver: Any = self.raw.driver_connection
        self.raw.detach()  # never handed back to the pool with the load's settings
        self.postgres = db.engine.dialect.name == "postgresql"
        self.columns: dict[str, list[str]] = {}
        if self.postgres:
            from psycopg.types.json import JsonDumper

            self.driver.adapters.register_dumper(dict, JsonDumper)
            self.driver.adapters.register_dumper(list, JsonDumper)
            with self.driver.cursor() as cur:
                try:  # superuser only: skip the FK triggers for rows made consistent here
                    cur.execute("SET session_replication_role = replica")
                except Exception:
                    self.driver.rollback()
        else:
            import sqlite3

            self.saved_adapters = dict(sqlite3.adapters)
            for kind, adapt in (
                (datetime, _sqlite_datetime),
                (date, date.isoformat),
                (dict, _json),
                (list, _json),
            ):
                sqlite3.register_adapter(kind, adapt)
            self.driver.execute("PRAGMA foreign_keys=OFF")
            self.driver.execute("PRAGMA synchronous=OFF")
            self.driver.execute("PRAGMA cache_size=-262144")  # 256 MiB: index pages stay cached
            self.driver.execute("PRAGMA busy_timeout=600000")  # the other loaders' chunks

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        cols = self.columns.setdefault(table, list(db.metadata.tables[table].c.keys()))
        missing = set(cols) - set(rows[0])
        if missing:  # a column added to the model since: its scalar default, or NULL
            fill = {}
            for name in missing:
                col = db.metadata.tables[table].c[name]
                default = col.default.arg if col.default is not None else None
                if callable(default) or (default is None and not col.nullable):
                    raise RuntimeError(f"{table}.{name}: the scale loader gives it no value")
                fill[name] = default
            for row in rows:
                row.update(fill)
        values = map(operator.itemgetter(*cols), rows)
        if self.postgres:
            with (
                self.driver.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy,
            ):
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            self.driver.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})",  # noqa: S608 (metadata names)
                values,
            )

    def write_chunk(self, rows: Rows) -> dict[str, int]:
        """Every table's rows of one chunk, in one transaction."""
        if not self.postgres:
            self.driver.execute("BEGIN IMMEDIATE")
        counts = {}
        for name in ORDER:
            table_rows = rows.tables.get(name, [])
            self.write(name, table_rows)
            counts[name] = len(table_rows)
        if self.postgres:
            self.driver.commit()
        else:
            self.driver.execute("COMMIT")
        return counts

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """One statement; ``{m}`` in ``sql`` is the driver's parameter mark."""
        if self.postgres:
            with self.driver.cursor() as cur:
                cur.execute(sql.format(m="%s"), params)
            self.driver.commit()
        else:
            self.driver.execute(sql.format(m="?"), params)

    def close(self, *, finish: bool = False) -> None:
        """Close; ``finish``: move the id sequences past the loaded ids and ANALYZE."""
        if self.postgres:
            self.driver.rollback()
            with self.driver.cursor() as cur:
                cur.execute("SET session_replication_role = DEFAULT")
                for table in ORDER if finish else ():
                    if "id" in db.metadata.tables[table].c:
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (metadata names)
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                        )
                if finish:
                    cur.execute("ANALYZE")
            self.driver.commit()
        else:
            if finish:
                self.driver.execute("ANALYZE")
            import sqlite3

            sqlite3.adapters.clear()
            sqlite3.adapters.update(self.saved_adapters)
        self.driver.close()


def _partition(parts: int) -> list[list[tuple[str, int]]]:
    """The countries split into ``parts`` groups of similar weight (each group's numbering,
    per country and year, is then made by one process: gap-free without coordination)."""
    groups: list[list[tuple[str, int]]] = [[] for _ in range(parts)]
    for country, weight in sorted(COUNTRIES, key=lambda cw: -cw[1]):
        lightest = min(groups, key=lambda g: sum(w for _, w in g))
        lightest.append((country, weight))
    return [g for g in groups if g]


def _run_part(
    gen: Generator, certificates: int, echo: Callable[[str], None], started: float, label: str
) -> dict[str, int]:
    """Generate and write ``certificates`` certificates with ``gen``; the row counts."""
    writer = Writer()
    totals: dict[str, int] = {}
    try:
        # every application state and every case state at least once, whatever the size
        for state, _weight in APPLICATION_STATES:
            gen.applicant_agency(state, OPEN_CASE_STATES[0] if state == "accepted" else None)
        for case_state in OPEN_CASE_STATES[1:]:
            gen.applicant_agency("accepted", case_state)
        agencies = 0
        while gen.certificates < certificates:
            # the first agencies tell every story once: every status at any size
            story = STORIES[agencies][0] if agencies < len(STORIES) else _pick(gen.rng, STORIES)
            if story == "recertified" and certificates - gen.certificates < 2:
                story = "active"
            gen.certified_agency(story)
            agencies += 1
            if agencies % 18 == 0:  # about one applicant agency per 20 certificates
                gen.applicant_agency()
            if agencies % CHUNK == 0 or gen.certificates >= certificates:
                for name, n in writer.write_chunk(gen.rows).items():
                    totals[name] = totals.get(name, 0) + n
                gen.rows = Rows()
                echo(
                    f"  {label}{gen.certificates:,} / {certificates:,} certificates "
                    f"({time.perf_counter() - started:.0f} s)"
                )
    finally:
        writer.close()
    return totals


# ----------------------------------------------------------------------------- staff


def _staff(
    companies: int, password: str, now: datetime, report: ScaleReport
) -> tuple[list[Staff], int]:
    """Audit companies with one person in each role, and an application reviewer (ORM)."""
    from iris.accounts.models import AuditorProfile, Membership, Organisation, OrgStatus, User
    from iris.core.security import hash_password
    from workflows.roles import OrgKind, Role

    digest = hash_password(password)
    existing = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Organisation)
            .where(Organisation.name.like("IRIS Scale Audit %"))
        )
        or 0
    )
    staff = []
    cities = (
        ("PL", "Łódź"),
        ("UA", "Київ"),
        ("DE", "München"),
        ("PH", "Manila"),
        ("NP", "Kathmandu"),
    )
    for i in range(existing + 1, existing + companies + 1):
        country, city = cities[i % len(cities)]
        company = Organisation(
            kind=OrgKind.AUDIT_COMPANY,
            name=f"IRIS Scale Audit {i:03d} — {city}",
            country=country,
            city=city,
            status=OrgStatus.APPROVED,
            status_changed_at=now,
        )
        db.session.add(company)
        db.session.flush()
        users = {}
        for role in STAFF_ROLES:
            email = f"scale-{i:03d}-{role.replace('_', '-')}@example.com"
            user = User(
                email=email,
                name=f"{role.replace('_', ' ').title()} {i:03d}",
                password_hash=digest,
                email_verified_at=now,
                locale="en",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, organisation_id=company.id, role=Role(role)))
            if role in ("lead_auditor", "auditor"):
                db.session.add(
                    AuditorProfile(
                        user_id=user.id,
                        languages=["en", "pl", "uk"],
                        countries=["PL", "UA"],
                        approved_at=now,
                    )
                )
            users[role] = user.id
            report.logins.append((role, email, company.name))
        staff.append(Staff(company.id, company.name, country, users))
    manager = db.session.scalar(
        sa.select(Organisation).where(Organisation.kind == OrgKind.SCHEME_MANAGER).limit(1)
    )
    if manager is None:
        manager = Organisation(
            kind=OrgKind.SCHEME_MANAGER, name="IRIS Scheme Manager", country="CH"
        )
        db.session.add(manager)
        db.session.flush()
    email = f"scale-reviewer-{existing + 1:03d}@example.com"
    reviewer = User(
        email=email, name="Scale Reviewer", password_hash=digest, email_verified_at=now, locale="en"
    )
    db.session.add(reviewer)
    db.session.flush()
    db.session.add(
        Membership(user_id=reviewer.id, organisation_id=manager.id, role=Role.APPLICATION_REVIEWER)
    )
    report.logins.append(("application_reviewer", email, manager.name))
    db.session.commit()
    return staff, reviewer.id


# ----------------------------------------------------------------------------- entry point


def build_scale(
    certificates: int,
    *,
    password: str = "demo-password-1",  # noqa: S107 (the local demo's password, as iris demo)
    seed: int = 2026,
    now: datetime | None = None,
    echo: Callable[[str], None] = print,
    workers: int = WORKERS,
) -> ScaleReport:
    """Add ``certificates`` certificates and everything around them; commits in chunks."""
    from iris.certificates.operations import CREDENTIAL_TYPE
    from iris.core.signing import ALG, b64url_encode, signing_ring_for_app

    def _canonical(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    started = time.perf_counter()
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    report = ScaleReport()
    ring = signing_ring_for_app()
    if not ring.exists():
        ring.generate()
    infos, private = ring._load()  # one key for the whole load: no file read per signature
    current = next(i for i in infos if i.is_current)
    key = private[current.kid]

    def sign(facts: dict[str, Any], at: datetime) -> str:
        # iris.core.signing.sign without its per-value type walk (the facts are made of
        # strings and ints here); the test verifies the result with the project's verifier
        header = {
            "alg": ALG,
            "kid": current.kid,
            "typ": CREDENTIAL_TYPE,
            "iat": int(at.timestamp()),
        }
        signing_input = f"{b64url_encode(_canonical(header))}.{b64url_encode(_canonical(facts))}"
        return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"

    companies = max(3, min(200, certificates // 20_000))
    staff, reviewer_id = _staff(companies, password, now, report)

    tables = db.metadata.tables
    next_ids = {}
    for name in ORDER:
        if "id" in tables[name].c:
            top = db.session.scalar(sa.select(sa.func.max(tables[name].c.id)))
            next_ids[name] = int(top or 0) + 1
    counter_t = tables["certificate_counters"]
    counters = {
        (c, int(y)): int(s)
        for c, y, s in db.session.execute(
            sa.select(counter_t.c.country, counter_t.c.year, counter_t.c.last_sequence)
        )
    }
    before = dict(counters)
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    groups = _partition(max(1, min(workers, certificates // 1000 or 1)))
    weight = sum(w for _, w in COUNTRIES)
    shares = [certificates * sum(w for _, w in g) // weight for g in groups]
    shares[0] += certificates - sum(shares)
    #: each part's ids start a stride apart (a certificate brings at most ~40 rows a table)
    stride = certificates * 40 + 100_000

    def part(index: int) -> tuple[dict[str, int], dict[tuple[str, int], int], int]:
        gen = Generator(
            rng=random.Random(seed * 1000 + index),  # noqa: S311 (demo data)
            now=now,
            staff=staff,
            reviewer_id=reviewer_id,
            next_ids={t: v + index * stride for t, v in next_ids.items()},
            counters=dict(counters),
            sign=sign,
            kid=current.kid,
            base_url=str(app.config["IRIS_BASE_URL"]).rstrip("/"),
            config=app.config,
            countries=groups[index],
        )
        label = f"[{index + 1}/{len(groups)}] " if len(groups) > 1 else ""
        totals = _run_part(gen, shares[index], echo, started, label)
        return totals, gen.counters, gen.certificates

    results = []
    if len(groups) == 1:
        results.append(part(0))
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()

        def child(index: int) -> None:
            with app.app_context():
                db.engine.dispose(close=False)  # the parent's pooled connections stay its own
                try:
                    queue.put((index, part(index), None))
                except BaseException as exc:  # reported by the parent
                    queue.put((index, None, repr(exc)))

        db.engine.dispose()
        procs = [ctx.Process(target=child, args=(i,)) for i in range(len(groups))]
        for proc in procs:
            proc.start()
        errors = []
        for _ in procs:
            index, result, error = queue.get()
            if error:
                errors.append(f"part {index + 1}: {error}")
            else:
                results.append(result)
        for proc in procs:
            proc.join()
        if errors:
            raise RuntimeError("the scale loader failed: " + "; ".join(errors))
    totals: dict[str, int] = {}
    made = 0
    for part_totals, part_counters, part_made in results:
        made += part_made
        for name, n in part_totals.items():
            totals[name] = totals.get(name, 0) + n
        for key_, seq in part_counters.items():
            counters[key_] = max(counters.get(key_, 0), seq)
    # the numbering continues after the generated numbers; sequences past the loaded ids
    writer = Writer()
    try:
        for (country, year), seq in counters.items():
            old = before.get((country, year))
            if old == seq:
                continue
            sql = (
                "UPDATE certificate_counters SET last_sequence = {m} "
                "WHERE country = {m} AND year = {m}"
                if old is not None
                else "INSERT INTO certificate_counters (last_sequence, country, year) "
                "VALUES ({m}, {m}, {m})"
            )
            writer.execute(sql, (int(seq), country, int(year)))
    finally:
        writer.close(finish=True)
    report.certificates = made
    report.counts = totals
    report.seconds = time.perf_counter() - started
    return report
