"""Who hears about what: ``notify(event, subject, **ctx)`` and the employers' subscriptions.

Every notification is written to an outbox (mail: :mod:`iris.core.mail`; webhooks:
:class:`~iris.notifications.models.WebhookDelivery`) in the caller's transaction, so it
exists exactly when the change it reports committed; the worker delivers it afterwards.
Each row has an idempotency key ``<event>:<subject>:<occurrence>:<recipient>``, so calling
``notify`` twice for the same occurrence (a retried request, a second ``tick`` on the same
day) queues nothing new. Never commits.

The lifecycle steps notify through :mod:`iris.notifications.hooks` (an every-step effect
per lifecycle, its table ``STEP_EVENTS``); the date-driven reminders come from
:func:`on_tick` (``flask iris tick`` and the worker's schedule). Mail is rendered in each
recipient's own language (the user's saved locale, a subscriber's chosen one), dates
formatted for that language. The events:

==========================  =======================================================
event                       subject and extra context
==========================  =======================================================
application_received        Application (after ``submit``)
application_deferred        Application (``defer``; ``reason=``, ``due=`` optional)
application_accepted        Application (``accept``)
application_rejected        Application (``reject``; ``reason=``)
team_assigned               CertificationCase (``assign_team``)
request_for_information     CertificationCase (:func:`notify_information_request`)
findings_issued             CertificationCase (``issue_findings``)
corrective_action_due       Finding: sent by :func:`on_tick` 14 days before it is due
corrective_action_overdue   Finding: sent by :func:`on_tick` once it is overdue
decision                    CertificationCase (``grant``/``refuse``; ``outcome=``)
certificate_issued          Certificate (``issue``)
certificate_suspended       Certificate (``suspend``; ``reason=``)
certificate_restored        Certificate (``restore``)
certificate_withdrawn       Certificate (``withdraw``; ``reason=``)
certificate_expiring        Certificate: sent by :func:`on_tick` 90 and 30 days ahead
surveillance_due            Certificate: sent by :func:`on_tick` ahead of the due date
==========================  =======================================================
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from iris.core import security
from iris.core.db import db, new_public_id, utcnow
from iris.core.jobs import after_commit_for_row, job
from iris.core.mail import OutboxMessage, queue_mail
from iris.core.outbox import deliver
from iris.core.outbox import queued as queued_row
from iris.notifications.models import (
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    payload_body,
)
from workflows.roles import Role

AGENCY = "agency"  # the agency's administrators
TEAM = "team"  # the case's audit team
PLANNERS = "planners"  # the audit company's planners
SUBSCRIBERS = "subscribers"  # employers following the certificate


@dataclass(frozen=True)
class EventSpec:
    template: str
    audience: tuple[str, ...]
    webhook: bool = False
    label: Any = ""


EVENTS: dict[str, EventSpec] = {
    "application_received": EventSpec(
        "application_received", (AGENCY,), label=_l("Application received")
    ),
    "application_deferred": EventSpec(
        "application_deferred", (AGENCY,), label=_l("Application deferred")
    ),
    "application_accepted": EventSpec(
        "application_accepted", (AGENCY,), label=_l("Application accepted")
    ),
    "application_rejected": EventSpec(
        "application_rejected", (AGENCY,), label=_l("Application rejected")
    ),
    "team_assigned": EventSpec("team_assigned", (AGENCY, TEAM), label=_l("Audit team assigned")),
    "request_for_information": EventSpec(
        "request_for_information", (AGENCY,), label=_l("Request for information")
    ),
    "findings_issued": EventSpec("findings_issued", (AGENCY, TEAM), label=_l("Findings issued")),
    "corrective_action_due": EventSpec(
        "corrective_action_due", (AGENCY, TEAM), label=_l("Corrective action due in 14 days")
    ),
    "corrective_action_overdue": EventSpec(
        "corrective_action_overdue", (AGENCY, TEAM), label=_l("Corrective action overdue")
    ),
    "decision": EventSpec("decision", (AGENCY, TEAM), label=_l("Certification decision")),
    "certificate_issued": EventSpec(
        "certificate_issued", (AGENCY, SUBSCRIBERS), webhook=True, label=_l("Certificate issued")
    ),
    "certificate_suspended": EventSpec(
        "certificate_suspended",
        (AGENCY, SUBSCRIBERS),
        webhook=True,
        label=_l("Certificate suspended"),
    ),
    "certificate_restored": EventSpec(
        "certificate_restored",
        (AGENCY, SUBSCRIBERS),
        webhook=True,
        label=_l("Certificate restored"),
    ),
    "certificate_withdrawn": EventSpec(
        "certificate_withdrawn",
        (AGENCY, SUBSCRIBERS),
        webhook=True,
        label=_l("Certificate withdrawn"),
    ),
    "certificate_expiring": EventSpec(
        "certificate_expiring",
        (AGENCY, SUBSCRIBERS),
        webhook=True,
        label=_l("Certificate expiring"),
    ),
    "surveillance_due": EventSpec(
        "surveillance_due", (AGENCY, PLANNERS), label=_l("Surveillance audit due")
    ),
}

#: events an integrating system can receive by webhook
WEBHOOK_EVENTS = tuple(name for name, spec in EVENTS.items() if spec.webhook)


class NotificationError(Exception):
    """A refusal the user should read."""


@dataclass(frozen=True)
class Recipient:
    email: str
    locale: str
    name: str = ""
    #: the public id of the subscription an employer follows the certificate by
    subscription: str | None = None


@dataclass
class Notified:
    mails: list[OutboxMessage]
    webhooks: list[WebhookDelivery]


# --------------------------------------------------------------------------- links


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for a mail, also outside a request (the worker, ``tick``)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["IRIS_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def _maybe_link(endpoint: str, **values: Any) -> str:
    if endpoint in current_app.view_functions:
        return external_url(endpoint, **values)
    return str(current_app.config["IRIS_BASE_URL"]).rstrip("/") + "/"


def _first_link(*candidates: tuple[str, dict[str, Any]]) -> str:
    """The first of the candidate pages this installation serves (else the home page)."""
    for endpoint, values in candidates:
        if endpoint in current_app.view_functions:
            return external_url(endpoint, **values)
    return _maybe_link("main.home")


def subject_link(subject: Any) -> str:
    """The page where the recipient reads about ``subject`` and acts on it."""
    table = getattr(subject, "__tablename__", "")
    public_id = getattr(subject, "public_id", None)
    if table == "certificates":
        return _maybe_link("registry.verify", number=subject.number)
    if table == "applications":
        return _first_link(("applications.detail", {"public_id": public_id}))
    if table == "certification_cases":
        return _first_link(
            ("audits.case", {"public_id": public_id}), ("fieldwork.case", {"case": public_id})
        )
    if table == "findings":
        return _first_link(
            ("fieldwork.corrective_action", {"finding": public_id}),
            ("audits.case", {"public_id": subject.case.public_id}),
        )
    return _maybe_link("main.home")


# --------------------------------------------------------------------------- facts


def _agency_id(subject: Any) -> int | None:
    if getattr(subject, "agency_id", None) is not None:
        return int(subject.agency_id)
    case = getattr(subject, "case", None)
    return int(case.agency_id) if case is not None else None


def _case(subject: Any) -> Any:
    return subject if hasattr(subject, "team") else getattr(subject, "case", None)


def _certificate(subject: Any) -> Any:
    return subject if hasattr(subject, "number") and hasattr(subject, "expires_at") else None


def facts(subject: Any) -> dict[str, Any]:
    """The plain values templates may use: no ORM objects reach a template.

    Dates are ``date`` objects: the templates format them in the recipient's language
    (``|dateformat``, inside ``force_locale``), never here.
    """
    from iris.accounts.models import Organisation

    agency_id = _agency_id(subject)
    agency = db.session.get(Organisation, agency_id) if agency_id else None
    out: dict[str, Any] = {
        "agency_name": agency.name if agency else "",
        "reference": getattr(subject, "number", None) or getattr(subject, "public_id", ""),
        "state": str(getattr(subject, "state", "") or ""),
        "link": subject_link(subject),
    }
    cert = _certificate(subject)
    if cert is not None:
        out.update(
            number=cert.number,
            expires_on=cert.expires_at.date() if cert.expires_at else None,
            surveillance_due=getattr(cert, "next_surveillance_due", None),
        )
    if hasattr(subject, "grade") and hasattr(subject, "criterion"):  # a finding
        out.update(
            criterion=subject.criterion,
            grade=str(subject.grade),
            due_on=subject.due_at.date() if subject.due_at else None,
        )
    return out


def public_data(subject: Any) -> dict[str, Any]:
    """What a webhook carries: the registry's public facts, never personal data."""
    cert = _certificate(subject)
    if cert is None:
        return {"reference": getattr(subject, "public_id", None)}
    agency = cert.agency
    return {
        "number": cert.number,
        "status": str(cert.state),
        "status_changed_at": cert.status_changed_at.isoformat() if cert.status_changed_at else None,
        "holder": {"name": agency.name, "country": agency.country},
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
        "expires_at": cert.expires_at.isoformat() if cert.expires_at else None,
        "verify_url": _maybe_link("registry.verify", number=cert.number),
    }


# --------------------------------------------------------------------------- recipients


#: the part of a lookup that lists the webhook endpoints (the others are named by audience)
WEBHOOKS = "webhooks"


def _parts(
    audiences: Iterable[str], webhook: bool, agency: Any, company: Any, certificate: Any
) -> dict[str, Any]:
    """The selects that find who hears of an event, by part: one per audience looked up in
    the database (the agency's administrators, the company's planners, the certificate's
    followers) and, for an event that goes out by webhook, the active endpoints. Each gives
    rows ``(ord, email, locale, name, ref)``; ``agency``, ``company`` and ``certificate`` are
    the SQL expressions of the subject's ids (parameters, or the locked row's columns)."""
    from iris.accounts.models import Membership, User

    def members(org: Any, role: Role) -> Any:
        return (
            sa.select(
                User.id.label("ord"),
                User.email.label("email"),
                User.locale.label("locale"),
                User.name.label("name"),
                sa.cast(sa.null(), sa.Text).label("ref"),
            )
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == org,
                Membership.role == role,
                User.is_active.is_(True),
            )
        )

    parts: dict[str, Any] = {}
    for audience in audiences:
        if audience == AGENCY:
            parts[audience] = members(agency, Role.AGENCY_ADMIN)
        elif audience == PLANNERS:
            parts[audience] = members(company, Role.PLANNER)
        elif audience == SUBSCRIBERS:
            parts[audience] = sa.select(
                Subscription.id.label("ord"),
                Subscription.email.label("email"),
                Subscription.locale.label("locale"),
                sa.literal_column("''").label("name"),
                sa.cast(Subscription.public_id, sa.Text).label("ref"),
            ).where(
                Subscription.certificate_id == certificate,
                Subscription.confirmed_at.is_not(None),
                Subscription.unsubscribed_at.is_(None),
            )
    if webhook:
        parts[WEBHOOKS] = sa.select(
            WebhookEndpoint.id.label("ord"),
            sa.cast(sa.null(), sa.String).label("email"),
            sa.cast(sa.null(), sa.String).label("locale"),
            sa.cast(sa.null(), sa.String).label("name"),
            sa.cast(WebhookEndpoint.events, sa.Text).label("ref"),
        ).where(WebhookEndpoint.is_active.is_(True))
    return parts


#: (audiences, webhook) -> the one statement that finds everyone an event reaches
_LOOKUPS: dict[tuple[tuple[str, ...], bool], Any] = {}


def _lookup_statement(spec: EventSpec) -> Any:
    """Who hears of ``spec``'s events, in one statement (built once per kind of event): a
    UNION ALL of the :func:`_parts`, rows ``(part, ord, email, locale, name, ref)``. It runs
    inside every step that notifies, so it is one round trip, not one per audience (on
    PostgreSQL none of its own: the engine's lock reads it, see :func:`lock_columns`)."""
    key = (spec.audience, spec.webhook)
    if key in _LOOKUPS:
        return _LOOKUPS[key]
    params = {
        name: sa.bindparam(name, type_=sa.Integer)
        for name in ("agency_id", "company_id", "certificate_id")
    }
    parts = _parts(
        spec.audience, spec.webhook, params["agency_id"], params["company_id"],
        params["certificate_id"],
    )  # fmt: skip
    branches = [
        select.add_columns(sa.literal_column(f"'{name}'").label("part"))
        for name, select in parts.items()
    ]
    statement = None
    if branches:
        statement = sa.union_all(*branches).order_by(
            sa.literal_column("part"), sa.literal_column("ord")
        )
    _LOOKUPS[key] = statement
    return statement


def lock_columns(model: Any, events: Iterable[EventSpec]) -> tuple[Any, ...]:
    """PostgreSQL: the :func:`_parts` of ``events`` as columns for the engine's lock of a
    ``model`` row (one JSON array of rows each, correlated to the locked row), so a step
    finds who hears of it without a statement of its own."""
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    specs = list(events)
    audiences = list(dict.fromkeys(a for spec in specs for a in spec.audience))
    table = model.__table__
    parts = _parts(
        audiences,
        any(spec.webhook for spec in specs),
        table.c.agency_id if "agency_id" in table.c else sa.null(),
        table.c.audit_company_id if "audit_company_id" in table.c else sa.null(),
        table.c.id if model.__tablename__ == "certificates" else sa.null(),
    )
    columns = []
    for select in parts.values():
        selected = list(select.selected_columns)
        row = sa.func.json_build_array(*selected)
        aggregated = sa.func.json_agg(aggregate_order_by(row, selected[0]))
        columns.append(
            select.with_only_columns(sa.cast(aggregated, sa.Text), maintain_column_froms=True)
            .correlate(table)
            .scalar_subquery()
        )
    _LOCK_PARTS[model] = list(parts)
    return tuple(columns)


#: model -> the names of the parts :func:`lock_columns` gave, in order
_LOCK_PARTS: dict[Any, list[str]] = {}
#: session.info key: (table, id) -> the parts the engine's lock read for that subject
PREFETCHED = "iris.notifications.prefetched"


def keep_lock_read(session: Any, subject: Any, values: tuple[Any, ...]) -> None:
    """What the engine's lock read (:func:`lock_columns`): kept for the step's notification."""
    names = _LOCK_PARTS[type(subject)]
    parts = {
        name: [tuple(r) for r in json.loads(v or "[]")]
        for name, v in zip(names, values, strict=True)
    }
    session.info.setdefault(PREFETCHED, {})[(subject.__tablename__, subject.id)] = parts


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_lock_reads(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(PREFETCHED, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_reads(session: Session, _previous: Any) -> None:
    session.info.pop(PREFETCHED, None)


@dataclass
class _Found:
    recipients: list[Recipient]
    #: ids of the active endpoints that want the event (webhook events only)
    endpoints: list[int]


def _find(
    event: str, spec: EventSpec, subject: Any, rows: dict[str, list[Any]] | None = None
) -> _Found:
    """Who hears of ``event``; ``rows``: the parts already read (by the engine's lock)."""
    if rows is None:
        rows = {}
        statement = _lookup_statement(spec)
        if statement is not None:
            cert = _certificate(subject)
            params = {
                "agency_id": _agency_id(subject),
                "company_id": getattr(subject, "audit_company_id", None),
                "certificate_id": cert.id if cert is not None else None,
            }
            for row in db.session.connection().execute(statement, params):
                rows.setdefault(row.part, []).append(row[:5])
    found: list[Recipient] = []
    for audience in spec.audience:
        if audience == TEAM:
            case = _case(subject)
            for member in getattr(case, "team", None) or []:
                user = member.user
                if user.is_active:
                    found.append(Recipient(user.email, user.locale or "en", user.name))
        elif audience == SUBSCRIBERS:
            found += [Recipient(email, locale, "", ref) for _o, email, locale, _n, ref in
                      rows.get(audience, ())]  # fmt: skip
        else:
            found += [Recipient(email, locale or "en", name) for _o, email, locale, name, _r in
                      rows.get(audience, ())]  # fmt: skip
    unique: dict[str, Recipient] = {}
    for r in found:
        unique.setdefault(r.email.lower(), r)
    endpoints = []
    if spec.webhook:
        for endpoint_id, _e, _l, _n, events in rows.get(WEBHOOKS, ()):
            wanted = json.loads(events) if events else []
            if not wanted or event in wanted:
                endpoints.append(int(endpoint_id))
    return _Found(list(unique.values()), endpoints)


def recipients(spec: EventSpec, subject: Any) -> list[Recipient]:
    """The people told of an event of ``spec`` about ``subject``, each address once."""
    with db.session.no_autoflush:
        return _find("", spec, subject).recipients


def _key(*parts: Any) -> str:
    text = ":".join(str(p) for p in parts)
    if len(text) <= 200:
        return text
    return text[:135] + ":" + hashlib.sha256(text.encode()).hexdigest()


def occurrence(subject: Any) -> str:
    """What tells two occurrences of one event apart: the row's version counter."""
    return str(getattr(subject, "version", "") or "")


# --------------------------------------------------------------------------- notify


def notify(
    event: str,
    subject: Any,
    *,
    key: str | None = None,
    prefetched: dict[str, list[Any]] | None = None,
    **ctx: Any,
) -> Notified:
    """Queue the mails (and webhook calls) of ``event`` about ``subject``; never commits.

    ``key`` names this occurrence of the event (default: the subject's version counter, so
    each state change is a new occurrence); a second call with the same key queues nothing.
    ``prefetched``: who hears of it, as the engine's lock read it in this transaction
    (:func:`lock_columns`); else it is looked up. ``ctx`` adds to what the template sees
    (``reason``, ``due``, ``outcome`` ...).
    """
    try:
        spec = EVENTS[event]
    except KeyError:
        raise ValueError(f"unknown notification event {event!r}") from None
    subject_ref = f"{subject.__tablename__}:{subject.id}"
    occurrence_key = key if key is not None else occurrence(subject)
    mails = []
    with db.session.no_autoflush:  # the step's own flush comes after: no extra one here
        lookup = _find(event, spec, subject, prefetched)
        found = lookup.recipients
        # the facts (a query, links) only when someone is told
        context = (facts(subject) | ctx) if found else {}
    for r in found:
        extra: dict[str, Any] = {"name": r.name}
        if r.subscription is not None:
            extra["unsubscribe_link"] = _unsubscribe_link(r.subscription)
        mails.append(
            queue_mail(
                r.email,
                spec.template,
                locale=r.locale,
                idempotency_key=_key(event, subject_ref, occurrence_key, r.email.lower()),
                **(context | extra),
            )
        )
    hooks = queue_webhooks(event, subject, occurrence_key, lookup.endpoints) if spec.webhook else []
    return Notified(mails, hooks)


def notify_information_request(case: Any, message: Any) -> Notified:
    """An auditor asked the agency about an answer: one mail per question asked."""
    link = _first_link(
        ("fieldwork.thread", {"case": case.public_id, "key": message.answer_key}),
        ("audits.case", {"public_id": case.public_id}),
    )
    return notify(
        "request_for_information",
        case,
        key=f"information-request:{message.id}",
        question=message.body,
        link=link,
    )


def queue_webhooks(
    event: str, subject: Any, occurrence_key: str, endpoint_ids: list[int] | None = None
) -> list[WebhookDelivery]:
    """Queue a delivery of ``event`` to every active endpoint that wants it (or to the
    ``endpoint_ids`` already found so, by :func:`notify`'s lookup); once per occurrence."""
    if endpoint_ids is None:
        with db.session.no_autoflush:
            endpoints = db.session.scalars(
                sa.select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True))
            ).all()
        endpoint_ids = [e.id for e in endpoints if e.wants(event)]
    data = public_data(subject) if endpoint_ids else {}
    subject_ref = f"{subject.__tablename__}:{subject.id}"
    queued = []
    for endpoint_id in endpoint_ids:
        key = _key("webhook", event, subject_ref, occurrence_key, endpoint_id)
        existing = queued_row(db.session(), WebhookDelivery, key)
        if existing is not None:
            queued.append(existing)
            continue
        public_id = new_public_id()
        row = WebhookDelivery(
            public_id=public_id,
            endpoint_id=endpoint_id,
            event=event,
            body=payload_body(public_id, event, data),
            idempotency_key=key,
        )
        db.session.add(row)
        after_commit_for_row(db.session(), deliver_webhooks, row)  # no flush here
        queued.append(row)
    return queued


@job
def deliver_webhooks(ids: list[int] | None = None) -> int:
    """POST the given deliveries (or every due one); the number that succeeded."""
    return len(deliver(db.session(), WebhookDelivery, current_app.config, ids).sent)


# --------------------------------------------------------------------------- reminders


def on_tick(now: datetime) -> int:
    """The date-driven notifications, called by the worker's ``tick``; idempotent.

    Certificates expiring in 90 and in 30 days, surveillance due within
    ``IRIS_SURVEILLANCE_NOTICE_DAYS``, corrective actions due within 14 days and overdue.
    Each is keyed by its date, so a second run the same day (or the next) adds nothing.
    Returns the number of mails newly queued.
    """

    def queued() -> int:
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0)

    before = queued()
    _certificate_reminders(now)
    _finding_reminders(now)
    return queued() - before  # only the new ones: a re-run finds every key already there


def _certificate_reminders(now: datetime) -> int:
    from iris.certificates.models import Certificate
    from workflows.certificate import CertificateState

    count = 0
    horizon = now + timedelta(days=90)
    expiring = db.session.scalars(
        sa.select(Certificate).where(
            Certificate.state == CertificateState.ACTIVE,
            Certificate.expires_at > now,
            Certificate.expires_at <= horizon,
        )
    )
    for cert in expiring:
        assert cert.expires_at is not None
        days = 30 if cert.expires_at - now <= timedelta(days=30) else 90
        key = f"{cert.expires_at.date().isoformat()}:{days}"
        count += len(notify("certificate_expiring", cert, key=key, days=days).mails)
    notice = int(current_app.config.get("IRIS_SURVEILLANCE_NOTICE_DAYS", 30))
    due_by = (now + timedelta(days=notice)).date()
    due = db.session.scalars(
        sa.select(Certificate).where(
            Certificate.state == CertificateState.ACTIVE,
            Certificate.next_surveillance_due.is_not(None),
            Certificate.next_surveillance_due <= due_by,
        )
    )
    for cert in due:
        key = str(cert.next_surveillance_due)
        count += len(notify("surveillance_due", cert, key=key).mails)
    return count


def _finding_reminders(now: datetime) -> int:
    from iris.audits.models import ACTION_GRADES, CertificationCase, Finding, FindingStatus
    from workflows.certification import CaseState

    count = 0
    open_states = (FindingStatus.OPEN, FindingStatus.PLAN_SUBMITTED)
    findings = db.session.scalars(
        sa.select(Finding)
        .join(CertificationCase, CertificationCase.id == Finding.case_id)
        .where(
            # issued to the agency and still awaiting its corrective actions: not findings
            # still being drafted in stage 2, nor those of a case closed meanwhile
            CertificationCase.state.in_((CaseState.FINDINGS_ISSUED, CaseState.CAP_SUBMITTED)),
            Finding.status.in_(open_states),
            Finding.grade.in_(ACTION_GRADES),
            Finding.due_at.is_not(None),
            Finding.due_at <= now + timedelta(days=14),
        )
    )
    for finding in findings:
        assert finding.due_at is not None
        event = "corrective_action_overdue" if finding.due_at < now else "corrective_action_due"
        key = finding.due_at.date().isoformat()
        count += len(notify(event, finding, key=key).mails)
    return count


# --------------------------------------------------------------------------- subscriptions

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"


def subscribe(certificate: Any, *, email: str, locale: str) -> Subscription:
    """Ask to follow a certificate: a confirmation mail is queued; never commits.

    The same answer whether or not the address already follows it (nobody learns who
    does); an address that had left is asked to confirm again.
    """
    email = email.strip().lower()
    sub = db.session.scalar(
        sa.select(Subscription).where(
            Subscription.certificate_id == certificate.id, Subscription.email == email
        )
    )
    if sub is None:
        sub = Subscription(certificate_id=certificate.id, email=email, locale=locale)
        db.session.add(sub)
        db.session.flush()
    elif sub.is_active:
        return sub
    else:
        sub.locale = locale
    token = security.make_token(SUBSCRIBE, {"s": sub.public_id, "n": secrets.token_hex(4)})
    queue_mail(
        email,
        "subscription_confirm",
        locale=locale,
        number=certificate.number,
        agency_name=certificate.agency.name,
        link=external_url("notifications.confirm", token=token),
        hours=current_app.config["IRIS_TOKEN_MAX_AGE_HOURS"],
    )
    return sub


def subscription_from_token(purpose: str, token: str) -> Subscription:
    """The subscription a link names; :class:`security.TokenError` if it is not valid."""
    max_age = (
        int(current_app.config["IRIS_TOKEN_MAX_AGE_HOURS"]) * 3600
        if purpose == SUBSCRIBE
        else 10 * 365 * 24 * 3600  # an unsubscribe link keeps working
    )
    data = security.read_token(purpose, token, max_age)
    sub = db.session.scalar(sa.select(Subscription).where(Subscription.public_id == data.get("s")))
    if sub is None:
        raise security.TokenError(_("This link is not valid. Check that you copied all of it."))
    return sub


def confirm_subscription(sub: Subscription) -> Subscription:
    sub.confirmed_at = sub.confirmed_at or utcnow()
    sub.unsubscribed_at = None
    db.session.flush()
    return sub


def unsubscribe_link(sub: Subscription) -> str:
    return _unsubscribe_link(sub.public_id)


def _unsubscribe_link(public_id: str) -> str:
    token = security.make_token(UNSUBSCRIBE, {"s": public_id})
    return external_url("notifications.unsubscribe", token=token)


def end_subscription(sub: Subscription) -> Subscription:
    sub.unsubscribed_at = sub.unsubscribed_at or utcnow()
    db.session.flush()
    return sub


# --------------------------------------------------------------------------- webhooks


def create_webhook_endpoint(
    *, actor: Any, name: str, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """Register an integrating system; its secret is returned once, on the object."""
    if not url.startswith(("https://", "http://")):
        raise NotificationError(_("The address must start with https:// (or http://)."))
    chosen = [e for e in events if e in WEBHOOK_EVENTS]
    endpoint = WebhookEndpoint(
        name=name.strip(),
        url=url.strip(),
        secret="whsec_" + secrets.token_urlsafe(32),
        events=chosen,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def deactivate_webhook_endpoint(endpoint: WebhookEndpoint, *, actor: Any) -> WebhookEndpoint:
    endpoint.is_active = False
    db.session.flush()
    return endpoint


def recent_deliveries(limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            sa.select(WebhookDelivery)
            .options(joinedload(WebhookDelivery.endpoint))
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
