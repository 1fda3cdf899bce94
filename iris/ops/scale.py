"""``flask --app wsgi iris demo --scale N``: a large, realistic dataset for benchmarks.

N certificates (1,000,000 and more) with everything around them: agencies (names with
diacritics — Łódź, Київ, München —, countries, registration numbers, corridors, a site),
applications in every state, certification cases in every state with their audit teams
and findings, certificates in every status (mostly active; suspended, withdrawn, expired,
superseded, a few cancelled), each with a **valid hash-chained history** (its head on the
subject's row, as the engine writes it), a **signed credential** (Ed25519 over the same
facts as issuance) and its **registry entry** (built by
:func:`iris.registry.sync.entry_row`, the code the live sync uses).

How it is fast (figures in BENCHMARKS.md, "Building the data"):

* **Rows are tuples of plain values** (text, integers, NULL) made once: datetimes are
  written as the database's own text (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC; the PostgreSQL
  connection's time zone is UTC), JSON columns as JSON text. No ORM, no dicts per row, no
  driver adapters: psycopg's ``COPY ... write_row`` and SQLite's INSERTs (500 rows each:
  a quarter less time a row than ``executemany``) bind them as they are.
* **Transition records are sealed from templates of the engine's own canonical JSON.** For
  each kind of step (subject type, trigger, states, role, reason, payload keys) the
  template is :func:`iris.core.history.canonical_json` of :func:`~iris.core.history.
  record_content` of a probe record whose variable fields hold sentinels; the sentinels are
  then replaced by each record's id, sequence, actor, time and payload values, and the
  SHA-256 is taken as :func:`~iris.core.history.record_hash` takes it. Templates are made
  from the engine's functions as the load runs, so a change to what the hash covers is
  followed; one they cannot express (a per-record value they do not fill, a time written
  another way) leaves a sentinel unfound or fails the check of each template's first
  record against ``record_hash`` itself: the load stops instead of writing chains that do
  not verify (tests/ops/test_scale.py changes the engine's content both ways).
* **The credential's header is made once** (one key, one signing time). The first
  credential of each process is compared with :func:`iris.core.signing.sign`'s (Ed25519
  signatures are deterministic: they must be equal).
* **One process per core** (``os.cpu_count()``), each owning some countries, so each
  country-year numbering is made by one process and stays gap-free without coordination.
* **PostgreSQL builds its indexes once, after the load**: the loaded tables' indexes and
  unique constraints (as the database reports them, so those added later are
  included; not the primary keys nor what a foreign key depends on) are
  dropped before and made again after, in a ``finally``; ``synchronous_commit`` is off and
  ``maintenance_work_mem`` larger for the session; foreign-key triggers are skipped
  (``session_replication_role = replica``, superuser only) for rows made consistent here;
  tables stay logged. **SQLite** keeps its indexes (built after, they cost as much as kept
  up), loads without a journal and with ``synchronous`` off, and is back in WAL mode at
  the end. **The registry's text index** (word index and terms table, kept by triggers
  row by row) is dropped and made again from all the entries with the registry's own
  ``drop_text_index`` / ``create_text_index(rebuild=True)``. Either way: load into a database nobody else writes to meanwhile, and that you
  can rebuild (an error or Ctrl-C still makes the indexes again, but a killed load leaves
  a SQLite file possibly unusable and a PostgreSQL database without the dropped indexes).

What it does not make: PDFs (``pdf_sha256`` stays empty: a PDF is rendered on issue,
0.35 s each), questionnaire responses, and user accounts for the generated agencies (their
own steps in the history carry the agency admin role without a person); the audit
companies, their staff (who can sign in, password as for ``demo``) and one application
reviewer are created, so queues and dashboards can be opened as a real user.

Run after ``demo`` (it is: ``demo --scale N`` loads the normal demo data first when the
database is empty), or on a database that already has data: ids, certificate numbers and
sequences continue from what is there.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from json.encoder import encode_basestring
from typing import Any

import sqlalchemy as sa
from flask import current_app

from iris.core import history
from iris.core.db import db

#: chunk of agencies generated and written together (bounded memory)
CHUNK = 2000

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
    ``json_safe`` makes of it), without the JSON round trip."""
    if isinstance(value, datetime):
        if value.utcoffset():
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _cumulative(table: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    keys, cum, total = [], [], 0
    for key, weight in table:
        total += weight
        keys.append(key)
        cum.append(total)
    return keys, cum


# ----------------------------------------------------------------------------- rows

#: The columns of each table, in the order of the tuples the generator makes and in
#: insertion order (foreign keys). The writer checks them against the models: a column
#: the models no longer have is an error, a column added since gets its scalar default.
COLUMNS: dict[str, tuple[str, ...]] = {
    "organisations": (
        "id", "kind", "name", "country", "city", "address", "status", "status_changed_at",
        "public_id", "created_at", "updated_at",
    ),
    "agency_profiles": (
        "organisation_id", "trade_names", "services", "staff_count", "preferred_language",
        "website", "postal_code", "created_at", "updated_at",
    ),
    "registration_numbers": (
        "id", "organisation_id", "kind", "value", "public_id", "created_at", "updated_at",
    ),
    "corridors": (
        "id", "organisation_id", "origin_country", "destination_country", "sectors",
        "workers_per_year", "public_id", "created_at", "updated_at",
    ),
    "sites": (
        "id", "organisation_id", "name", "address", "city", "country", "public_id",
        "created_at", "updated_at",
    ),
    "applications": (
        "id", "agency_id", "state", "version", "created_by_id", "submitted_at", "reviewer_id",
        "review_due_at", "requested_items", "deferral_due_at", "rejection_reason_code",
        "decided_at", "appeal_due_at", "public_id", "created_at", "updated_at",
        "history_seq", "history_hash",
    ),
    "certification_cases": (
        "id", "agency_id", "audit_company_id", "application_id", "audit_type", "state",
        "version", "cap_due_at", "recommendation", "recommendation_rationale",
        "technical_reviewer_id", "decision_maker_id", "decided_at", "decision_rationale",
        "appeal_due_at", "public_id", "created_at", "updated_at", "history_seq", "history_hash",
    ),
    "case_team_members": (
        "id", "case_id", "user_id", "team_role", "coi_confirmed_at", "created_at", "updated_at",
    ),
    "findings": (
        "id", "case_id", "criterion", "grade", "statement", "evidence", "due_at", "status",
        "correction", "root_cause", "action", "owner", "target_date", "verified_at",
        "verified_by_id", "public_id", "created_at", "updated_at",
    ),
    "certificates": (
        "id", "number", "agency_id", "audit_company_id", "case_id", "state", "version",
        "issued_at", "original_issued_at", "expires_at", "next_surveillance_due",
        "last_surveillance_at", "suspended_at", "suspension_reason_code",
        "suspension_ends_at", "withdrawn_at", "status_changed_at", "replaces_id",
        "standard_version", "language", "facts", "credential", "pdf_sha256", "public_id",
        "created_at", "updated_at", "history_seq", "history_hash",
    ),
    "transition_records": (
        "id", "subject_type", "subject_id", "seq", "trigger", "from_state", "to_state",
        "actor_id", "actor_role", "at", "reason", "payload", "prev_hash", "hash",
    ),
    # the columns of iris.registry.sync.entry_row's row, in its order (set by the first entry)
    "registry_entries": (),
    "registry_identifiers": ("identifier", "certificate_id"),
}  # fmt: skip
#: insertion order (foreign keys)
ORDER = tuple(COLUMNS)


#: "HH:MM:SS" of each second of a day, and "YYYY-MM-DD" of each day met (by ordinal):
#: formatting a datetime from them costs half of ``isoformat`` (about 40 a certificate)
_SECONDS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_DAYS: dict[int, str] = {}


def _clock(moment: datetime) -> tuple[str, str]:
    """("YYYY-MM-DD", "HH:MM:SS.ffffff") of a UTC datetime."""
    day = _DAYS.get(ordinal := moment.toordinal())
    if day is None:
        day = _DAYS[ordinal] = moment.date().isoformat()
    second = _SECONDS[moment.hour * 3600 + moment.minute * 60 + moment.second]
    micro = moment.microsecond
    return day, f"{second}.{micro:06d}" if micro else second + ".000000"


def _ts(moment: datetime) -> str:
    """A UTC datetime as the database holds it: SQLAlchemy's SQLite text (naive UTC,
    ``isoformat(" ", "microseconds")`` without the offset), which PostgreSQL reads as
    ``timestamptz`` in a UTC session."""
    day, time_ = _clock(moment)
    return f"{day} {time_}"


def _ts_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _ts(moment)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    """Compact JSON text (UTF-8 characters as they are)."""
    return _ENCODER.encode(value)


def _plain(value: Any) -> Any:
    """A value of entry_row's row as the database holds it."""
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, datetime):
        return _ts(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    return _json(value)


def _public_ids(n: int) -> list[str]:
    """``n`` random public ids as :func:`iris.core.db.new_public_id` makes them (the hex
    of a version-4 UUID), from one read of the system's random source."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes(b & 0x0F | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes(b & 0x3F | 0x80 for b in raw[8::16])  # RFC 4122 variant
    text = raw.hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


class _Record:
    """A transition record's columns: what record_content / record_hash and entry_row's
    history read."""

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

    def __init__(
        self,
        *,
        id: int = 0,
        subject_type: str,
        subject_id: int,
        seq: int,
        trigger: str,
        from_state: str | None,
        to_state: str,
        actor_id: int | None,
        actor_role: str,
        at: datetime,
        reason: str | None,
        payload: dict[str, Any],
        prev_hash: str | None = None,
        hash: str = "",
    ) -> None:
        self.id, self.subject_type, self.subject_id, self.seq = id, subject_type, subject_id, seq
        self.trigger, self.from_state, self.to_state = trigger, from_state, to_state
        self.actor_id, self.actor_role, self.at, self.reason = actor_id, actor_role, at, reason
        self.payload, self.prev_hash, self.hash = payload, prev_hash, hash


@dataclass(slots=True)
class _Cert:
    """A certificate's columns (what :func:`iris.registry.sync.entry_row` reads), its
    facts, its records so far and its decision maker."""

    id: int
    number: str
    agency_id: int
    audit_company_id: int
    case_id: int
    state: str
    issued_at: datetime
    original_issued_at: datetime
    expires_at: datetime
    next_surveillance_due: date
    status_changed_at: datetime
    updated_at: datetime
    replaces_id: int | None
    language: str
    facts: dict[str, Any]
    facts_json: str
    credential: str
    public_id: str
    dm: int
    records: list[_Record] = field(default_factory=list)
    last_surveillance_at: datetime | None = None
    suspended_at: datetime | None = None
    suspension_reason_code: str | None = None
    suspension_ends_at: datetime | None = None
    withdrawn_at: datetime | None = None


# ----------------------------------------------------------------------------- sealing

#: sentinels of a template's variable fields (each must appear in the text)
_SID, _SEQ, _ACTOR = 9_100_000_000_000_001, 9_100_000_000_000_002, 9_100_000_000_000_003
_AT = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_MARK = "\ue000"  # payload values: a private-use character, kept as it is by the JSON


class TemplateError(RuntimeError):
    """The engine's record content no longer has the shape the loader's templates assume."""


class _Template:
    __slots__ = ("checked", "content", "payload")

    def __init__(self, content: str, payload: str) -> None:
        self.content, self.payload, self.checked = content, payload, False


def _fill(text: str, slots: Sequence[tuple[str, int]]) -> str:
    """``text`` as a str.format template: braces escaped, each sentinel a numbered field."""
    text = text.replace("{", "{{").replace("}", "}}")
    for sentinel, index in slots:
        if sentinel not in text:
            raise TemplateError(
                f"the sentinel {sentinel!r} is not in the record's canonical JSON: what the "
                "hash covers changed shape, update iris/ops/scale.py"
            )
        text = text.replace(sentinel, f"{{{index}}}")
    return text


def make_template(
    subject_type: str,
    trigger: str,
    src: str | None,
    dst: str,
    actor: bool,
    role: str,
    reason: str | None,
    keys: tuple[str, ...],
) -> _Template:
    """The canonical JSON of a record of this kind, as :func:`record_content` and
    :func:`canonical_json` make it, with fields {0} subject id, {1} seq, {2} time, {3} actor,
    {4}... the payload values (JSON literals) in ``keys`` order; and its payload's JSON with
    fields {0}... for the same values."""
    marks = [f"{_MARK}{i}" for i in range(len(keys))]
    probe = _Record(
        subject_type=subject_type,
        subject_id=_SID,
        seq=_SEQ,
        trigger=trigger,
        from_state=src,
        to_state=dst,
        actor_id=_ACTOR if actor else None,
        actor_role=role,
        at=_AT,
        reason=reason,
        payload=dict(zip(keys, marks, strict=True)),
    )
    literals = [history.canonical_json(m) for m in marks]
    slots = [(str(_SID), 0), (str(_SEQ), 1), (_AT.isoformat(timespec="microseconds"), 2)]
    if actor:
        slots.append((str(_ACTOR), 3))
    slots += [(lit, 4 + i) for i, lit in enumerate(literals)]
    content = _fill(history.canonical_json(history.record_content(probe)), slots)
    payload = _fill(
        history.canonical_json(probe.payload), [(lit, i) for i, lit in enumerate(literals)]
    )
    return _Template(content, payload)


@functools.cache
def _case_path(
    initial: bool, with_findings: bool, state: str
) -> tuple[tuple[str, str, str, str, str], ...]:
    """The steps (trigger, from, to, actor's staff role or "", role) of a case that ends in
    ``state`` (a follow-up audit's ``stage1`` is ``stage2``)."""
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
    if with_findings:
        path += [
            ("issue_findings", "stage2", "findings_issued", "lead_auditor", "lead_auditor"),
            ("submit_cap", "findings_issued", "cap_submitted", "", "agency_admin"),
            ("recommend", "cap_submitted", "recommended", "lead_auditor", "lead_auditor"),
        ]
    else:
        path += [("recommend", "stage2", "recommended", "lead_auditor", "lead_auditor")]
    path += [
        ("review", "recommended", "decision_pending", "technical_reviewer", "technical_reviewer"),
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
    if state == "team_pending":
        return ()
    for i, step in enumerate(path):
        if step[2] == state:
            return tuple(path[: i + 1])
    return tuple(path)


# ----------------------------------------------------------------------------- generating


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


Sign = Callable[[str], str]


class Generator:
    """Builds the rows as tuples (``self.out``, per table, in :data:`COLUMNS` order); ids
    come from ``next_ids`` (one counter per table)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        staff: list[Staff],
        reviewer_id: int,
        next_ids: dict[str, int],
        counters: dict[tuple[str, int], int],
        sign: Sign,
        kid: str,
        base_url: str,
        config: Any,
        countries: Sequence[tuple[str, int]] = COUNTRIES,
        check_credential: Callable[[dict[str, Any], str], None] | None = None,
    ) -> None:
        self.rng = rng
        self.country_keys, self.country_cum = _cumulative(countries)
        self.story_keys, self.story_cum = _cumulative(STORIES)
        self.application_keys, self.application_cum = _cumulative(APPLICATION_STATES)
        self.now = now.astimezone(UTC)
        self.staff = staff
        self.reviewer_id = reviewer_id
        self.ids = next_ids
        self.counters = counters
        self.sign = sign
        self.check_credential = check_credential
        self.kid = kid
        self.base_url = base_url
        self.config = config
        self.validity = int(config["IRIS_CERT_VALIDITY_YEARS"])
        self.suspension_months = int(config["IRIS_SUSPENSION_MAX_MONTHS"])
        self.cap_days = int(config["IRIS_CAP_DEADLINE_DAYS"])
        self.deferral_days = int(config["IRIS_DEFERRAL_DAYS"])
        self.review_days = int(config["IRIS_REVIEW_TARGET_DAYS"])
        self.standard = str(config.get("IRIS_STANDARD_VERSION", "1.2"))
        self.columns = dict(COLUMNS)
        self.out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ORDER}
        self.templates: dict[tuple[Any, ...], _Template] = {}
        self.certificates = 0
        self._pool: list[str] = []
        self._json_cache: dict[tuple[str, ...], str] = {}

    # -- helpers
    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def public_id(self) -> str:
        if not self._pool:
            self._pool = _public_ids(4096)
        return self._pool.pop()

    def json_list(self, items: list[str]) -> str:
        """JSON text of a short list of strings (made once per distinct list)."""
        key = tuple(items)
        text = self._json_cache.get(key)
        if text is None:
            text = self._json_cache[key] = _json(items)
        return text

    def take(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows made since the last call."""
        out, self.out = self.out, {name: [] for name in ORDER}
        return out

    def number(self, country: str, year: int) -> str:
        from iris.certificates.numbering import format_number

        seq = self.counters.get((country, year), 0) + 1
        self.counters[(country, year)] = seq
        return format_number(country, year, seq)

    def chain(
        self,
        subject_type: str,
        subject_id: int,
        steps: Iterable[tuple[Any, ...]],
        *,
        prev: str | None = None,
        seq: int = 0,
        keep: list[_Record] | None = None,
    ) -> tuple[int, str]:
        """Records for ``steps`` = (trigger, from, to, actor_id, role, at, reason, payload),
        after record ``seq`` of hash ``prev``; kept in ``keep`` as objects if given. Returns
        the chain's head, (seq, hash) of its last record, which the subject's row carries
        (as :func:`iris.core.workflow.fire` writes it)."""
        rows = self.out["transition_records"]
        templates = self.templates
        sha256 = hashlib.sha256
        for trigger, src, dst, actor, role, at, reason, payload in steps:
            seq += 1
            keys = tuple(payload) if payload else ()
            key = (subject_type, trigger, src, dst, actor is None, role, reason, keys)
            template = templates.get(key)
            if template is None:
                template = templates[key] = make_template(
                    subject_type, trigger, src, dst, actor is not None, role, reason, keys
                )
            if keys:
                plain = {k: _j(payload[k]) for k in keys}
                # a string's JSON literal as canonical_json writes it (json.dumps with
                # ensure_ascii=False); checked with the template's first record
                values = [
                    encode_basestring(v) if type(v) is str else history.canonical_json(v)
                    for v in plain.values()
                ]
                stored = template.payload.format(*values)
            else:
                plain, values, stored = {}, [], "{}"
            day, time_ = _clock(at)
            # the engine's text of the time (isoformat with microseconds, UTC): checked with
            # each template's first record
            iso = f"{day}T{time_}+00:00"
            content = template.content.format(subject_id, seq, iso, actor, *values)
            digest = sha256(((prev or "") + content).encode()).hexdigest()
            record_id = self.ids["transition_records"]
            self.ids["transition_records"] = record_id + 1
            if not template.checked or keep is not None:
                record = _Record(
                    id=record_id,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    seq=seq,
                    trigger=trigger,
                    from_state=src,
                    to_state=dst,
                    actor_id=actor,
                    actor_role=role,
                    at=at,
                    reason=reason,
                    payload=plain,
                    prev_hash=prev,
                    hash=digest,
                )
                if not template.checked:
                    self._check(template, record, stored)
                if keep is not None:
                    keep.append(record)
            rows.append(
                (
                    record_id,
                    subject_type,
                    subject_id,
                    seq,
                    trigger,
                    src,
                    dst,
                    actor,
                    role,
                    f"{day} {time_}",
                    reason,
                    stored,
                    prev,
                    digest,
                )
            )
            prev = digest
        assert prev is not None, "a chain of no steps"
        return seq, prev

    @staticmethod
    def _check(template: _Template, record: _Record, stored: str) -> None:
        """The first record of each template: sealed as the engine seals it, and its
        stored payload reads back as the payload the hash covers."""
        if history.record_hash(record.prev_hash, record) != record.hash:
            raise TemplateError(
                f"a {record.subject_type} {record.trigger!r} record sealed from its template "
                "differs from iris.core.history.record_hash: update iris/ops/scale.py"
            )
        if json.loads(stored) != record.payload:
            raise TemplateError(f"the stored payload of {record.trigger!r} reads back changed")
        template.checked = True

    def moment(self, start: datetime, end: datetime) -> datetime:
        span = max(1, int((end - start).total_seconds()))
        return (start + timedelta(seconds=int(self.rng.random() * span))).replace(microsecond=0)

    # -- an agency
    def agency(self) -> dict[str, Any]:
        rng = self.rng
        out = self.out
        country = rng.choices(self.country_keys, cum_weights=self.country_cum)[0]
        city = rng.choice(CITIES[country])
        first, second, form = NAME_PARTS.get(country, GENERIC_PARTS)
        name = f"{rng.choice(first)} {rng.choice(second)} {city} {rng.choice(form)}"
        org_id = self.next_id("organisations")
        created = self.moment(
            self.now - timedelta(days=365 * 8), self.now - timedelta(days=365 * 4)
        )
        c = _ts(created)
        address = (
            f"ul. Główna {org_id % 200 + 1}"
            if country == "PL"
            else f"{org_id % 200 + 1} Main Street"
        )
        out["organisations"].append(
            (org_id, "agency", name, country, city, address, "active", None, self.public_id(), c, c)
        )
        trade = [f"{name.split()[0]} {city}"] if rng.random() < 0.3 else []
        services = sorted(rng.sample(SERVICES, rng.randint(2, 4)))
        out["agency_profiles"].append(
            (
                org_id,
                _json(trade) if trade else "[]",
                self.json_list(services),
                rng.randint(3, 400),
                LANGUAGE.get(country, "en"),
                None,
                None,
                c,
                c,
            )
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
        table = out["registration_numbers"]
        for kind, value in regs.items():
            table.append(
                (self.next_id("registration_numbers"), org_id, kind, value, self.public_id(), c, c)
            )
        corridors = []
        table = out["corridors"]
        for dest in rng.sample(DESTINATIONS, rng.choice((1, 1, 2))):
            origin = country if country != dest else rng.choice(("UA", "PH", "NP", "IN", "VN"))
            sectors = sorted(rng.sample(SECTORS, rng.randint(1, 2)))
            corridors.append((origin, dest, sectors))
            table.append(
                (
                    self.next_id("corridors"),
                    org_id,
                    origin,
                    dest,
                    self.json_list(sectors),
                    rng.randint(10, 2000),
                    self.public_id(),
                    c,
                    c,
                )
            )
        site_name = "Head office" if country != "PL" else "Siedziba"
        out["sites"].append(
            (self.next_id("sites"), org_id, site_name, "", city, country, self.public_id(), c, c)
        )
        return {
            "id": org_id,
            "name": name,
            "country": country,
            "city": city,
            "trade": trade,
            # the certified facts' parts (keys in sorted order: see certificate())
            "registration_numbers": {k.upper(): v for k, v in sorted(regs.items())},
            "scope": {
                "corridors": [
                    {"destination": d, "origin": o, "sectors": s} for o, d, s in sorted(corridors)
                ],
                "services": services,
                "sites": [f"{site_name}, {city}"],
            },
            "created": created,
        }

    # -- applications
    def application(
        self, agency: dict[str, Any], state: str, start: datetime
    ) -> tuple[int, datetime]:
        """An application of ``agency`` that ends in ``state``; returns (id, last step time)."""
        rng = self.rng
        app_id = self.next_id("applications")
        t = start
        steps: list[tuple[Any, ...]] = [
            ("create", None, "draft", None, "agency_admin", t, None, None)
        ]
        submitted = reviewer = review_due = deferral_due = rejection = decided = None
        requested = "[]"

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
            t = t + timedelta(days=days, seconds=int(rng.random() * 3600))
            steps.append((trigger, src, dst, actor, role, t, reason, payload))

        rid = self.reviewer_id
        if state == "withdrawn" and rng.random() < 0.5:
            step("withdraw", "draft", "withdrawn", None, "agency_admin", 10)
        elif state != "draft":
            step("submit", "draft", "submitted", None, "agency_admin", rng.uniform(3, 40))
            submitted = t
            review_due = t + timedelta(days=self.review_days)
            if state == "withdrawn":
                step("withdraw", "submitted", "withdrawn", None, "agency_admin", 2)
            elif state != "submitted":
                step(
                    "start_review",
                    "submitted",
                    "under_review",
                    rid,
                    "application_reviewer",
                    rng.uniform(1, 10),
                )
                reviewer = rid
                if state in ("deferred", "lapsed") or rng.random() < 0.15:
                    step(
                        "defer",
                        "under_review",
                        "deferred",
                        rid,
                        "application_reviewer",
                        5,
                        "Licence extract missing",
                    )
                    requested = '[{"text":"Current KRAZ register extract","answer":""}]'
                    deferral_due = t + timedelta(days=self.deferral_days)
                    if state == "lapsed":
                        step("lapse", "deferred", "lapsed", None, "system", self.deferral_days + 1)
                    elif state != "deferred":
                        step("resubmit", "deferred", "under_review", None, "agency_admin", 20)
                        requested = '[{"text":"Current KRAZ register extract","answer":"Uploaded"}]'
                if state == "rejected":
                    step(
                        "reject",
                        "under_review",
                        "rejected",
                        rid,
                        "application_reviewer",
                        7,
                        "Not a labour recruiter",
                        {"reason_code": "not_eligible"},
                    )
                    rejection = "not_eligible"
                    decided = t
                elif state == "accepted":
                    step("accept", "under_review", "accepted", rid, "application_reviewer", 7)
                    decided = t
        head = self.chain("application", app_id, steps)
        self.out["applications"].append(
            (
                app_id,
                agency["id"],
                state,
                1,
                None,
                _ts_or_none(submitted),
                reviewer,
                _ts_or_none(review_due),
                requested,
                _ts_or_none(deferral_due),
                rejection,
                _ts_or_none(decided),
                None,
                self.public_id(),
                _ts(start),
                _ts(t),
                *head,
            )
        )
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
        rng = self.rng
        case_id = self.next_id("certification_cases")
        u = staff.users
        t = start
        initial = audit_type == "initial"
        steps: list[tuple[Any, ...]] = [
            ("open", None, "team_pending", None, "agency_admin", t, None, None)
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
        cap_due = recommendation = rationale = reviewer = decider = decided = None
        decision = appeal_due = None
        with_findings = state in ("findings_issued", "cap_submitted", "closed_not_certified") or (
            state in ("recommended", "decision_pending", "certified", "refused")
            and rng.random() < 0.3
        )
        if state == "stage1" and not initial:
            state = "stage2"  # follow-up audits have no stage 1
        for trigger, src, dst, who, role in _case_path(initial, with_findings, state):
            t = t + timedelta(days=rng.uniform(3, 25), seconds=int(rng.random() * 3600))
            payload: dict[str, Any] | None = None
            reason = None
            if trigger == "issue_findings":
                cap_due = t + timedelta(days=self.cap_days)
                payload = {"cap_due_at": cap_due}
            elif trigger == "recommend":
                recommendation = "refuse" if state == "refused" else "grant"
                rationale = reason = "Conforms to the standard."
                payload = {"recommendation": recommendation}
            elif trigger == "review":
                reviewer = u["technical_reviewer"]
            elif trigger in ("grant", "refuse"):
                decider = u["decision_maker"]
                decided = t
                decision = reason = "Four-eyes decision on the recommended report."
                if trigger == "refuse":
                    appeal_due = t + timedelta(days=30)
            steps.append((trigger, src, dst, u[who] if who else None, role, t, reason, payload))
        s = _ts(start)
        head = self.chain("certification", case_id, steps)
        self.out["certification_cases"].append(
            (
                case_id,
                agency["id"],
                staff.company_id,
                application_id,
                audit_type,
                state,
                1,
                _ts_or_none(cap_due),
                recommendation,
                rationale,
                reviewer,
                decider,
                _ts_or_none(decided),
                decision,
                _ts_or_none(appeal_due),
                self.public_id(),
                s,
                _ts(t),
                *head,
            )
        )
        if state != "team_pending":
            table = self.out["case_team_members"]
            for member, role in ((u["lead_auditor"], "lead"), (u["auditor"], "auditor")):
                table.append((self.next_id("case_team_members"), case_id, member, role, s, s, s))
        if with_findings:
            due = _ts(cap_due or (t + timedelta(days=self.cap_days)))
            closed = state not in ("findings_issued", "cap_submitted", "closed_not_certified")
            status = (
                "verified_closed"
                if closed
                else ("plan_submitted" if state == "cap_submitted" else "open")
            )
            at = _ts(t)
            table = self.out["findings"]
            for criterion, grade in (("C.1", "major"), ("E.1", "minor")):
                table.append(
                    (
                        self.next_id("findings"),
                        case_id,
                        criterion,
                        grade,
                        "Fee register incomplete for two workers.",
                        "Sample of 12 contracts",
                        due,
                        status,
                        None,
                        None,
                        None,
                        None,
                        None,
                        at if closed else None,
                        u["lead_auditor"] if closed else None,
                        self.public_id(),
                        at,
                        at,
                    )
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
        replaces: _Cert | None = None,
    ) -> _Cert:
        """A certificate issued at ``issued`` whose story ends in ``final`` before ``until``;
        its row and registry entry are written by :meth:`publish` (a supersession may
        change it first)."""
        from iris.certificates.workflow import surveillance_due
        from iris.core.dates import add_months, add_years

        rng = self.rng
        cert_id = self.next_id("certificates")
        number = self.number(agency["country"], issued.year)
        expires = add_years(issued, self.validity)
        original = replaces.original_issued_at if replaces else issued
        dm = staff.users["decision_maker"]
        # the facts as issuance makes them, written with their keys in sorted order: their
        # JSON is then at once the canonical JSON the credential signs (iris.core.signing's:
        # sorted keys, no spaces; checked against the engine's signature) and the stored
        # facts (the registry document, built from the facts as stored, keeps that order)
        facts = {
            "audit_company": {"country": staff.company_country, "name": staff.company_name},
            "expires_at": expires.date().isoformat(),
            "holder": {
                "city": agency["city"],
                "country": agency["country"],
                "name": agency["name"],
                "registration_numbers": agency["registration_numbers"],
                "trade_names": agency["trade"],
            },
            "iss": self.base_url,
            "issued_at": issued.date().isoformat(),
            "kid": self.kid,
            "number": number,
            "original_issued_at": original.date().isoformat(),
            "scope": agency["scope"],
            "standard": {"name": "IRIS Standard", "version": self.standard},
            "status_list": f"{self.base_url}/registry/status-list.jwt",
            "type": "IRISCertificate",
            "v": 1,
            "verify_url": f"{self.base_url}/verify/{number}",
        }
        facts_json = _json(facts)
        credential = self.sign(facts_json)
        if self.check_credential is not None:
            self.check_credential(facts, credential)
            self.check_credential = None
        next_due = surveillance_due(issued)
        cert = _Cert(
            id=cert_id,
            number=number,
            agency_id=agency["id"],
            audit_company_id=staff.company_id,
            case_id=case_id,
            state="active",
            issued_at=issued,
            original_issued_at=original,
            expires_at=expires,
            next_surveillance_due=next_due,
            status_changed_at=issued,
            updated_at=issued,
            replaces_id=replaces.id if replaces else None,
            language=LANGUAGE.get(agency["country"], "en"),
            facts=facts,
            facts_json=facts_json,
            credential=credential,
            public_id=self.public_id(),
            dm=dm,
        )
        steps: list[tuple[Any, ...]] = [
            (
                "issue",
                None,
                "active",
                dm,
                "decision_maker",
                issued,
                None,
                {"number": number, "expires_at": expires, "next_surveillance_due": next_due},
            )
        ]
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
                code = rng.choice(SUSPENSION_REASONS)
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
                        at + timedelta(days=rng.randint(20, 150)), self.now - timedelta(hours=1)
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
                at = expires + timedelta(hours=rng.randint(1, 48))
                steps.append(("expire", "active", "expired", None, "system", at, None, None))
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
        self.chain("certificate", cert_id, steps, keep=cert.records)
        self.certificates += 1
        return cert

    def supersede(self, old: _Cert, new_number: str, at: datetime) -> None:
        """Append the supersession to ``old``'s chain (its row is written after)."""
        last = old.records[-1]
        step = (
            "supersede",
            "active",
            "superseded",
            old.dm,
            "decision_maker",
            at,
            "Recertification granted.",
            {"superseded_by": new_number},
        )
        self.chain("certificate", old.id, [step], prev=last.hash, seq=last.seq, keep=old.records)
        old.state, old.status_changed_at, old.updated_at = "superseded", at, at

    def publish(self, cert: _Cert) -> None:
        """The certificate's row, its registry entry (entry_row's) and identifiers."""
        from iris.registry.sync import entry_row

        issued = _ts(cert.issued_at)
        self.out["certificates"].append(
            (
                cert.id,
                cert.number,
                cert.agency_id,
                cert.audit_company_id,
                cert.case_id,
                cert.state,
                1,
                issued,
                _ts(cert.original_issued_at),
                _ts(cert.expires_at),
                cert.next_surveillance_due.isoformat(),
                _ts_or_none(cert.last_surveillance_at),
                _ts_or_none(cert.suspended_at),
                cert.suspension_reason_code,
                _ts_or_none(cert.suspension_ends_at),
                _ts_or_none(cert.withdrawn_at),
                _ts(cert.status_changed_at),
                cert.replaces_id,
                self.standard,
                cert.language,
                cert.facts_json,
                cert.credential,
                None,
                cert.public_id,
                issued,
                _ts(cert.updated_at),
                cert.records[-1].seq,
                cert.records[-1].hash,
            )
        )
        row, keys = entry_row(cert, cert.facts, cert.records, self.base_url)
        columns = self.columns["registry_entries"]
        if not columns:
            columns = self.columns["registry_entries"] = tuple(row)
        elif len(row) != len(columns):
            raise RuntimeError(f"entry_row's columns changed: {sorted(row)}")
        self.out["registry_entries"].append(tuple([_plain(row[c]) for c in columns]))
        table = self.out["registry_identifiers"]
        for key in sorted(keys):
            table.append((key, cert.id))

    # -- one agency's whole story
    def certified_agency(self, story: str) -> None:
        rng = self.rng
        agency = self.agency()
        staff = rng.choice(self.staff)
        validity_days = 365 * self.validity
        now = self.now
        # the application and the initial case take 30 to 230 days from ``start`` to the grant
        if story == "expired":
            start = self.moment(
                now - timedelta(days=validity_days + 400),
                now - timedelta(days=validity_days + 240),
            )
        elif story == "recertified":
            start = self.moment(
                now - timedelta(days=2 * validity_days - 400),
                now - timedelta(days=validity_days + 200),
            )
        else:
            start = self.moment(now - timedelta(days=validity_days), now - timedelta(days=250))
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
        cert = self.certificate(agency, staff, case_id, issued, final=final, until=now)
        if story == "recertified":
            start2 = min(cert.expires_at - timedelta(days=200), now - timedelta(days=160))
            case2, t2 = self.case(
                agency,
                staff,
                state="certified",
                audit_type="recertification",
                application_id=None,
                start=start2,
            )
            issued2 = max(t2 + timedelta(minutes=1), issued + timedelta(days=30))
            cert2 = self.certificate(
                agency, staff, case2, issued2, final="active", until=now, replaces=cert
            )
            self.supersede(cert, cert2.number, issued2)
            self.publish(cert)
            cert = cert2
        self.publish(cert)
        if cert.state == "active" and rng.random() < SURVEILLANCE_SHARE:
            state = rng.choice(OPEN_CASE_STATES[:8])
            self.case(
                agency,
                staff,
                state=state,
                audit_type="surveillance",
                application_id=None,
                start=now - timedelta(days=rng.randint(155, 200)),
            )

    def applicant_agency(self, state: str | None = None, case_state: str | None = None) -> None:
        rng = self.rng
        agency = self.agency()
        state = state or rng.choices(self.application_keys, cum_weights=self.application_cum)[0]
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

    def story(self) -> str:
        return self.rng.choices(self.story_keys, cum_weights=self.story_cum)[0]


# ----------------------------------------------------------------------------- writing


def _raw_connection() -> Any:
    """A DBAPI connection of its own to the app's database: on PostgreSQL one of the
    engine's, detached from the pool (never handed back with the load's settings); on
    SQLite a plain ``sqlite3`` connection in autocommit mode (the engine's connections
    put the file back in WAL mode as they open)."""
    if _is_postgres():
        raw = db.engine.raw_connection()
        driver = raw.driver_connection
        raw.detach()
        return driver
    import sqlite3

    path = db.engine.url.database
    if not path or path == ":memory:":
        raise RuntimeError("demo --scale needs a database file (SQLite) or PostgreSQL")
    return sqlite3.connect(path, isolation_level=None, timeout=600)


@contextmanager
def _autocommit() -> Iterator[Any]:
    """:func:`_raw_connection` in autocommit mode (each statement on its own, as ``CREATE
    INDEX`` and ``ANALYZE`` run best), closed afterwards."""
    conn = _raw_connection()
    try:
        if _is_postgres():
            conn.autocommit = True
        yield conn
    finally:
        conn.close()


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


class Writer:
    """Bulk writes of the generator's tuples on a private DBAPI connection: ``COPY ... FROM
    STDIN`` (psycopg 3's ``write_row``) on PostgreSQL, INSERTs of many rows each on SQLite.
    The values are plain text, integers and NULLs: no adapters."""

    def __init__(self) -> None:
        self.postgres = _is_postgres()
        self.driver: Any = _raw_connection()
        self.statements: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[Any, ...]]] = {}
        self.batches: dict[tuple[str, int], str] = {}  # SQLite: INSERTs of n rows
        if self.postgres:
            with self.driver.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")  # the datetimes' text is UTC
                cur.execute("SET synchronous_commit = off")
                try:  # superuser only: skip the FK triggers for rows made consistent here
                    cur.execute("SET session_replication_role = replica")
                except Exception:  # then the triggers check them
                    self.driver.rollback()
                    cur.execute("SET TIME ZONE 'UTC'")
                    cur.execute("SET synchronous_commit = off")
            self.driver.commit()
        else:
            import sqlite3

            self.driver.execute("PRAGMA foreign_keys=OFF")
            _sqlite_load_pragmas(self.driver)
            self.max_variables = self.driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def statement(self, table: str, columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
        """The INSERT (SQLite) or COPY (PostgreSQL) for ``columns`` of ``table``, and the
        values of the table's other columns (their scalar defaults, or NULL)."""
        cached = self.statements.get((table, columns))
        if cached is not None:
            return cached
        model = db.metadata.tables[table]
        unknown = set(columns) - set(model.c.keys())
        if unknown:
            raise RuntimeError(f"{table} has no column {', '.join(sorted(unknown))}")
        extra_names, extra = [], []
        for col in model.c:
            if col.name in columns:
                continue
            default = getattr(col.default, "arg", None)
            if callable(default) or (default is None and not col.nullable):
                raise RuntimeError(f"{table}.{col.name}: the scale loader gives it no value")
            extra_names.append(col.name)
            extra.append(getattr(default, "value", default))
        names = ", ".join([*columns, *extra_names])
        if self.postgres:
            sql = f"COPY {table} ({names}) FROM STDIN"
        else:
            sql = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 (metadata names)
        self.statements[(table, columns)] = (sql, tuple(extra))
        return sql, tuple(extra)

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql, extra = self.statement(table, columns)
        if extra:
            rows = [row + extra for row in rows]
        if self.postgres:
            with self.driver.cursor() as cur, cur.copy(sql) as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
            return
        # SQLite: many rows per INSERT (a quarter less time a row than executemany, which
        # steps and resets the statement once per row)
        width = len(rows[0])
        per = max(1, min(500, self.max_variables // width))
        execute = self.driver.execute
        for start in range(0, len(rows), per):
            batch = rows[start : start + per]
            many = self.batches.get((sql, len(batch)))
            if many is None:
                one = "(" + ",".join("?" * width) + ")"
                many = self.batches[(sql, len(batch))] = sql + ",".join([one] * len(batch))
            execute(many, list(chain.from_iterable(batch)))

    def write_chunk(
        self, out: dict[str, list[tuple[Any, ...]]], columns: dict[str, tuple[str, ...]]
    ) -> dict[str, int]:
        """Every table's rows of one chunk, in one transaction."""
        if not self.postgres:
            self.driver.execute("BEGIN IMMEDIATE")
        for name in ORDER:
            self.write(name, columns[name], out[name])
        if self.postgres:
            self.driver.commit()
        else:
            self.driver.execute("COMMIT")
        return {name: len(out[name]) for name in ORDER}

    def close(self) -> None:
        if self.postgres:
            self.driver.rollback()
        self.driver.close()


#: SQLite page cache of each loading connection (KiB, negative): the indexes on random keys
#: (public ids, names, the text index) are written all over; their pages stay cached
SQLITE_CACHE = -524288


def _sqlite_load_pragmas(conn: Any) -> None:
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=OFF")  # in effect only once the file is out of WAL
    conn.execute(f"PRAGMA cache_size={SQLITE_CACHE}")


#: PostgreSQL: the indexes of the loaded tables that the load may drop and rebuild: all but
#: the primary keys and those a foreign key depends on; a constraint's index as its
#: constraint (unique), with the statements that drop and make each again
_PG_INDEXES = """
SELECT ix.relname,
       CASE WHEN c.oid IS NULL THEN 'DROP INDEX ' || i.indexrelid::regclass::text
            ELSE 'ALTER TABLE ' || quote_ident(t.relname) || ' DROP CONSTRAINT '
                 || quote_ident(c.conname) END,
       CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE 'ALTER TABLE ' || quote_ident(t.relname) || ' ADD CONSTRAINT '
                 || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) END
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_class ix ON ix.oid = i.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
     AND c.contype IN ('p', 'u', 'x')
WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace
  AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
                  AND f.conindid = i.indexrelid)
ORDER BY 1
"""


class LoadSetup:
    """The database before and after a bulk load.

    The registry's text index (:mod:`iris.registry.models`: the word index and the
    terms table, kept by triggers row by row) is dropped before and made again from all
    the entries after, with the registry's own ``drop_text_index`` and
    ``create_text_index(rebuild=True)`` (a few times faster than its triggers).

    PostgreSQL: the loaded tables' indexes — secondary ones and unique constraints, not the
    primary keys nor what a foreign key depends on — are dropped before and made again
    after from the database's own definitions (so indexes added since are included), then
    ANALYZE. Inserting into a unique index on random public ids reads and dirties a random
    page per row once the index outgrows shared_buffers; built after, each index is one
    sort.

    SQLite: out of WAL mode, without a journal, while it loads; back in WAL mode after;
    ANALYZE from a sample. Its indexes stay (built after they cost as much as kept up:
    measured; the unique ones cannot be dropped).
    """

    def __init__(
        self, tables: Iterable[str], echo: Callable[[str], None], *, drop_indexes: bool = True
    ) -> None:
        self.tables = list(tables)
        self.echo = echo
        self.postgres = _is_postgres()
        self.drop_indexes = drop_indexes and self.postgres
        #: (name, statement that drops it, statement that makes it)
        self.indexes: list[tuple[str, str, str]] = []
        self.journal: str | None = None
        self.text_index = False

    def before(self) -> None:
        from iris.registry.models import drop_text_index

        db.session.remove()
        with db.engine.begin() as conn:
            self.text_index = _has_text_index(conn)
            if self.text_index:
                drop_text_index(conn)
        db.engine.dispose()  # SQLite leaves WAL mode only without other connections
        conn = _raw_connection()
        try:
            if self.postgres:
                if self.drop_indexes:
                    with conn.cursor() as cur:
                        cur.execute(_PG_INDEXES, (self.tables,))
                        self.indexes = cur.fetchall()
                        for _name, drop, _make in self.indexes:
                            cur.execute(drop)
                    conn.commit()
            else:
                self.journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
                conn.execute("PRAGMA journal_mode=OFF")  # stays "wal" if someone else is connected
        finally:
            conn.close()
        dropped = [f"{len(self.indexes)} indexes"] if self.indexes else []
        dropped += ["the registry's text index"] if self.text_index else []
        if dropped:
            self.echo(f"  {' and '.join(dropped)} dropped for the load")

    def after(self) -> None:
        """Make the indexes and the text index again; ANALYZE; SQLite back to its journal
        mode (WAL)."""
        from iris.registry.models import create_text_index

        started = time.perf_counter()
        with _autocommit() as conn:
            if self.postgres:
                conn.execute("SET maintenance_work_mem = '512MB'")
                for _name, _drop, make in self.indexes:
                    conn.execute(make)
            elif self.journal and self.journal.lower() != "off":
                conn.execute(f"PRAGMA journal_mode={self.journal}")
        if self.indexes:
            self.echo(f"  {len(self.indexes)} indexes made again ({_since(started)})")
        if self.text_index:
            started = time.perf_counter()
            with db.engine.connect() as sa_conn:
                if self.postgres:
                    sa_conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
                    sa_conn.exec_driver_sql("SET synchronous_commit = off")
                    sa_conn.commit()
                else:  # outside a transaction (SQLite refuses it inside one)
                    raw: Any = sa_conn.connection.dbapi_connection
                    raw.execute("PRAGMA synchronous=OFF")
                    raw.execute(f"PRAGMA cache_size={SQLITE_CACHE}")
                with sa_conn.begin():
                    create_text_index(sa_conn, rebuild=True)
                sa_conn.invalidate()  # not back to the pool with the load's settings
            self.echo(f"  the registry's text index made again ({_since(started)})")
        started = time.perf_counter()
        with _autocommit() as conn:
            if not self.postgres:
                # statistics from a sample of each index (as PRAGMA optimize takes them),
                # not a scan of every row
                conn.execute("PRAGMA analysis_limit=2000")
            conn.execute("ANALYZE")
        self.echo(f"  statistics updated ({_since(started)})")


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"


def _has_text_index(conn: sa.Connection) -> bool:
    """Whether the registry's text index is there (a database made without it, or a SQLite
    without FTS5, gets none from the loader either)."""
    from iris.registry.models import SEARCH_TABLE, TERMS_TABLE, TEXT_INDEX

    if conn.dialect.name == "postgresql":
        found = conn.execute(
            sa.text("SELECT to_regclass(:a) IS NOT NULL OR to_regclass(:b) IS NOT NULL"),
            {"a": TERMS_TABLE, "b": TEXT_INDEX},
        ).scalar()
    else:
        found = conn.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name IN (:a, :b)"),
            {"a": SEARCH_TABLE, "b": TERMS_TABLE},
        ).scalar()
    return bool(found)


def _partition(parts: int) -> list[list[tuple[str, int]]]:
    """The countries split into ``parts`` groups of similar weight (each group's numbering,
    per country and year, is then made by one process: gap-free without coordination)."""
    groups: list[list[tuple[str, int]]] = [[] for _ in range(parts)]
    for country, weight in sorted(COUNTRIES, key=lambda cw: -cw[1]):
        lightest = min(groups, key=lambda g: sum(w for _, w in g))
        lightest.append((country, weight))
    return [g for g in groups if g]


#: in a forked part: the main process's pid (None in the main process)
_parent: int | None = None

Rows = dict[str, list[tuple[Any, ...]]]
#: what a generator hands on for each chunk: (rows, their columns, certificates made so far)
Emit = Callable[[Rows, dict[str, tuple[str, ...]], int], None]


def _generate(gen: Generator, certificates: int, emit: Emit) -> None:
    """Generate ``certificates`` certificates with ``gen``, handing each chunk's rows on."""
    # the rows hold no reference cycles: the cyclic collector would only walk the chunk's
    # hundred thousand tuples again and again (3 % of the time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        # every application state and every case state at least once, whatever the size
        for state, _weight in APPLICATION_STATES:
            gen.applicant_agency(state, OPEN_CASE_STATES[0] if state == "accepted" else None)
        for case_state in OPEN_CASE_STATES[1:]:
            gen.applicant_agency("accepted", case_state)
        agencies = 0
        while gen.certificates < certificates:
            # the first agencies tell every story once: every status at any size
            story = STORIES[agencies][0] if agencies < len(STORIES) else gen.story()
            if story == "recertified" and certificates - gen.certificates < 2:
                story = "active"
            gen.certified_agency(story)
            agencies += 1
            if agencies % 18 == 0:  # about one applicant agency per 20 certificates
                gen.applicant_agency()
            if agencies % CHUNK == 0 or gen.certificates >= certificates:
                if _parent is not None and os.getppid() != _parent:
                    raise RuntimeError("the loader's main process is gone")
                emit(gen.take(), gen.columns, gen.certificates)
    finally:
        if collecting:
            gc.enable()


def _add(totals: dict[str, int], counts: dict[str, int]) -> None:
    for name, n in counts.items():
        totals[name] = totals.get(name, 0) + n


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


def default_workers() -> int:
    """One process per core."""
    return max(1, os.cpu_count() or 1)


def build_scale(
    certificates: int,
    *,
    password: str = "demo-password-1",  # noqa: S107 (the local demo's password, as iris demo)
    seed: int = 2026,
    now: datetime | None = None,
    echo: Callable[[str], None] = print,
    workers: int | None = None,
    drop_indexes: bool = True,
) -> ScaleReport:
    """Add ``certificates`` certificates and everything around them; commits in chunks."""
    from iris.certificates.operations import CREDENTIAL_TYPE
    from iris.core.signing import ALG, b64url_encode, signing_ring_for_app
    from iris.core.signing import canonical_json as signing_json
    from iris.core.signing import sign as engine_sign

    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    report = ScaleReport()
    ring = signing_ring_for_app()
    if not ring.exists():
        ring.generate()
    infos, private = ring._load()  # one key for the whole load: no file read per signature
    current = next(i for i in infos if i.is_current)
    key = private[current.kid]
    # iris.core.signing.sign with its header made once (one key, one signing time) and the
    # payload's canonical JSON made by the generator (which also stores it as the facts)
    header = {"alg": ALG, "kid": current.kid, "typ": CREDENTIAL_TYPE, "iat": int(now.timestamp())}
    header_b64 = b64url_encode(signing_json(header))

    def sign(facts_json: str) -> str:
        signing_input = f"{header_b64}.{b64url_encode(facts_json.encode())}"
        return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"

    def check_credential(facts: dict[str, Any], credential: str) -> None:
        # Ed25519 is deterministic: the engine's own signature of the same facts is equal
        expected = engine_sign(facts, key, kid=current.kid, typ=CREDENTIAL_TYPE, at=now)
        if credential != expected:
            raise RuntimeError("the loader's credential differs from iris.core.signing.sign's")

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
    # a process per core (at least 100 certificates each), each owning some countries
    groups = _partition(max(1, min(workers or default_workers(), certificates // 100)))
    weight = sum(w for _, w in COUNTRIES)
    shares = [certificates * sum(w for _, w in g) // weight for g in groups]
    shares[0] += certificates - sum(shares)
    #: each part's ids start where the previous part's may end (at most ~40 rows a table
    #: per certificate)
    offsets = [sum(s * 40 + 100_000 for s in shares[:i]) for i in range(len(shares))]
    base_url = str(app.config["IRIS_BASE_URL"]).rstrip("/")

    def generator(index: int) -> Generator:
        return Generator(
            rng=random.Random(seed * 1000 + index),  # noqa: S311 (demo data)
            now=now,
            staff=staff,
            reviewer_id=reviewer_id,
            next_ids={t: v + offsets[index] for t, v in next_ids.items()},
            counters=dict(counters),
            sign=sign,
            kid=current.kid,
            base_url=base_url,
            config=app.config,
            countries=groups[index],
            check_credential=check_credential,
        )

    def progress(index: int, made: int) -> None:
        label = f"[{index + 1}/{len(groups)}] " if len(groups) > 1 else ""
        echo(
            f"  {label}{made:,} / {shares[index]:,} certificates "
            f"({time.perf_counter() - started:.0f} s)"
        )

    def part(index: int) -> Part:
        """One part, generated and written by this process."""
        gen = generator(index)
        writer = Writer()
        totals: dict[str, int] = {}

        def emit(rows: Rows, columns: dict[str, tuple[str, ...]], made: int) -> None:
            _add(totals, writer.write_chunk(rows, columns))
            progress(index, made)

        try:
            _generate(gen, shares[index], emit)
        finally:
            writer.close()
        return totals, gen.counters, gen.certificates

    setup = LoadSetup(ORDER, echo, drop_indexes=drop_indexes)
    setup.before()
    try:
        # each part writes its own chunks (PostgreSQL: a server process each; SQLite: one
        # at a time). Measured against one SQLite writer fed through a queue: pickling the
        # rows cost more than that writer's warm page cache saved (each connection drops
        # its cache when another has changed the file)
        results = [part(0)] if len(groups) == 1 else _in_processes(app, part, len(groups))
    finally:
        setup.after()
    totals: dict[str, int] = {}
    made = 0
    for part_totals, part_counters, part_made in results:
        made += part_made
        _add(totals, part_totals)
        for key_, seq in part_counters.items():
            counters[key_] = max(counters.get(key_, 0), seq)
    _finish(counters, before)
    report.certificates = made
    report.counts = totals
    report.seconds = time.perf_counter() - started
    return report


#: a part's row counts per table, its numbering counters and its number of certificates
Part = tuple[dict[str, int], dict[tuple[str, int], int], int]


def _in_processes(app: Any, part: Callable[[int], Part], n: int) -> list[Part]:
    """``part(0)`` ... ``part(n - 1)`` in forked processes; their results."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child(index: int) -> None:
        global _parent  # this forked process's own copy
        _parent = os.getppid()  # a part stops at its next chunk if the main process is gone
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's pooled connections stay its own
            try:
                queue.put((index, part(index), None))
            except BaseException as exc:  # reported by the parent
                queue.put((index, None, repr(exc)))

    db.engine.dispose()
    procs = [ctx.Process(target=child, args=(i,)) for i in range(n)]
    for proc in procs:
        proc.start()
    results: list[Part] = []
    errors: list[str] = []
    try:
        for _ in procs:
            index, result, error = _get(queue, procs)
            if error:
                errors.append(f"part {index + 1}: {error}")
            else:
                results.append(result)
    finally:
        _end(procs)
    if errors:
        raise RuntimeError("the scale loader failed: " + "; ".join(errors))
    return results


def _get(queue: Any, procs: list[Any]) -> Any:
    """The next message; an error if a process died without a word (killed, say)."""
    import queue as queues

    while True:
        try:
            return queue.get(timeout=5)
        except queues.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"a scale loader process ended with exit code {dead[0].exitcode}"
                ) from None


def _end(procs: list[Any]) -> None:
    """Wait for the processes; stop those still running (after an error)."""
    for proc in procs:
        proc.join(timeout=1 if proc.exitcode is None else None)
        if proc.is_alive():
            proc.terminate()
            proc.join()


def _finish(counters: dict[tuple[str, int], int], before: dict[tuple[str, int], int]) -> None:
    """The numbering continues after the generated numbers; the id sequences (PostgreSQL)
    continue after the loaded ids."""
    counter_t = db.metadata.tables["certificate_counters"]
    with db.engine.begin() as conn:
        for (country, year), seq in sorted(counters.items()):
            old = before.get((country, year))
            if old == seq:
                continue
            if old is None:
                conn.execute(
                    counter_t.insert().values(country=country, year=year, last_sequence=seq)
                )
            else:
                conn.execute(
                    counter_t.update()
                    .where(counter_t.c.country == country, counter_t.c.year == year)
                    .values(last_sequence=seq)
                )
        if conn.dialect.name == "postgresql":
            for table in ORDER:
                if "id" in db.metadata.tables[table].c:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 (metadata names)
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
