"""Keep each certificate's registry entry in step with the certificate, in the same transaction.

A SQLAlchemy ``after_flush`` listener collects the certificates touched by the flush (a
certificate row written, or a certificate transition record appended by the workflow
engine) and brings their :class:`~iris.registry.models.RegistryEntry` rows up to date on
the same connection. So every status change — suspension, restoration, withdrawal, expiry,
supersession, cancellation — is in the registry exactly when its transaction commits, and
vanishes with it on rollback; no channel can show a change that did not happen.

Two paths, chosen per certificate from what the flush changed:

* **A lifecycle step** (only the status columns changed, and/or transition records were
  appended) *patches* the entry: one read of the entry's document by primary key (none if
  this transaction wrote it already), the status fields set from the certificate already in
  memory and the new records appended to its history, one UPDATE. No certificate, history,
  organisation or identifier query. This is what suspension, restoration, withdrawal,
  expiry and surveillance pay. (An effect that flushes in the middle of a step makes it two
  UPDATEs: the status first, then the history with the step's record.)
* **A new certificate, or a change of what it certifies** (facts, number, credential,
  holder, company, dates of issue) — or an entry that does not exist yet — *rebuilds* the
  entry from the database (:func:`refresh_entries`), as :func:`rebuild_all` does.

Both paths write the same document (a test compares a patched entry with a rebuilt one).

The entry's public document prefers the facts frozen and signed at issuance (the certified
scope, not the agency's profile as edited since); a certificate without them (created
before issuance was wired, or by a test) falls back to the organisation's current data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from iris.core.workflow import bind
from iris.registry.text import digits, fold

SUBJECT = "certificate"
#: PostgreSQL channel on which a committed change of registry entries is announced (every
#: process's document cache listens: :mod:`iris.registry.queries`)
CHANNEL = "iris_registry"
#: session.info key: the flush whose entry patch announced the change itself (PostgreSQL)
NOTIFIED_FLUSH = "iris.registry.notified_flush"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


#: Certificate columns that a patch carries into the entry; a change of any other persisted
#: column (other than bookkeeping ones) makes the entry rebuilt.
PATCHED = frozenset(
    {
        "state",
        "status_changed_at",
        "expires_at",
        "next_surveillance_due",
        "last_surveillance_at",
        "suspension_ends_at",
        "suspended_at",
        "suspension_reason_code",
        "withdrawn_at",
        "version",
        "updated_at",
        "history_seq",  # the engine's chain head, written with every step
        "history_hash",
        "pdf_sha256",
        "language",
    }
)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    from iris.certificates.models import Certificate
    from iris.core.history import TransitionRecord

    rebuild: set[int] = set()
    patch: dict[int, Any] = {}
    records: dict[int, list[Any]] = {}
    for obj in session.new:
        if isinstance(obj, TransitionRecord) and obj.subject_type == SUBJECT:
            records.setdefault(obj.subject_id, []).append(obj)
        elif isinstance(obj, Certificate) and obj.id is not None:
            rebuild.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Certificate) and obj.id is not None and obj.id not in rebuild:
            change = _change(obj)
            if change == _REBUILD:
                rebuild.add(obj.id)
            elif change == _PATCH:
                patch[obj.id] = obj
    for cert_id in records:
        if cert_id not in rebuild and cert_id not in patch:
            cert = _loaded(session, Certificate, cert_id)
            if cert is None:
                rebuild.add(cert_id)
            else:
                patch[cert_id] = cert
    if not (rebuild or patch):
        return
    conn = session.connection()
    known = session.info.setdefault(_KNOWN, {})
    todo = {i: c for i, c in patch.items() if i not in rebuild}
    missing = patch_entries(conn, todo, records, known=known)
    if len(todo) > len(missing) and conn.dialect.name == "postgresql":
        # the patch's UPDATE ... RETURNING pg_notify(...) announced the change in this
        # flush's (sub)transaction: no NOTIFY statement of its own (queries._notify_change)
        session.info[NOTIFIED_FLUSH] = _context
    if rebuild or missing:
        for cert_id in rebuild | missing:
            known.pop(cert_id, None)
        refresh_entries(conn, rebuild | missing)


#: session.info key: the entries this transaction has read or written, certificate id ->
#: (last_change_id, document: parsed, or the text as read), so a patch needs no read of its
#: own: the engine's lock read them (PostgreSQL, below), or an earlier step of the same
#: transaction wrote them
_KNOWN = "iris.registry.entries"


def _entry_columns() -> tuple[Any, ...]:
    """The entry's generation and document, correlated to the locked certificate."""
    entry, cert = _tables()["entry"], _tables()["cert"]
    where = entry.c.certificate_id == cert.c.id
    return (
        sa.select(entry.c.last_change_id).where(where).scalar_subquery(),
        sa.select(entry.c.document).where(where).scalar_subquery(),
    )


def _read_with_lock(session: Session, cert: Any, values: tuple[Any, ...]) -> None:
    last_change_id, document = values
    if document is not None:  # no entry yet: the patch finds it missing and rebuilds
        session.info.setdefault(_KNOWN, {})[cert.id] = (last_change_id, document)


# A certificate step on PostgreSQL reads the entry in the statement that locks the
# certificate (the engine's SELECT ... FOR UPDATE): one round trip less per step. The entry
# is written only with its certificate's row locked (a step, or a flush that changed the
# certificate), so what the lock read is what the patch must start from.
bind(SUBJECT).read_with_lock(_entry_columns, _read_with_lock)


@event.listens_for(Session, "after_transaction_end")
def _forget_entries(session: Session, transaction: Any) -> None:
    # the whole transaction ended (commit or rollback): the next one reads the entries again
    if transaction.parent is None:
        session.info.pop(_KNOWN, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, _previous: Any) -> None:
    # any rollback, a savepoint's too, may undo what was written: read them again
    session.info.pop(_KNOWN, None)


_REBUILD, _PATCH = "rebuild", "patch"


def _change(obj: Any) -> str | None:
    """What this flush's change of the certificate ``obj`` needs: a rebuild of its entry
    (a column other than the :data:`PATCHED` ones changed), a patch, or nothing.

    Only the attributes set since the last flush are looked at (the session keeps their
    previous values in ``committed_state``), not every column of the row, and a patch is
    decided on the first changed column found.
    """
    state = sa.inspect(obj)
    columns = _COLUMNS.get(state.mapper)
    if columns is None:
        columns = _COLUMNS[state.mapper] = frozenset(a.key for a in state.mapper.column_attrs)
    touched = [key for key in state.committed_state if key in columns]
    if any(state.attrs[k].history.has_changes() for k in touched if k not in PATCHED):
        return _REBUILD
    if any(state.attrs[k].history.has_changes() for k in touched if k in PATCHED):
        return _PATCH
    return None


#: mapper -> the keys of its column attributes
_COLUMNS: dict[Any, frozenset[str]] = {}


def _loaded(session: Session, cls: type, ident: int) -> Any:
    """The instance already in the session's identity map, or None (no query)."""
    key: Any = sa.inspect(cls).identity_key_from_primary_key((ident,))
    return session.identity_map.get(key)


def patch_entries(
    conn: sa.Connection,
    certs: dict[int, Any],
    records: dict[int, list[Any]],
    *,
    known: dict[int, tuple[int, Any]] | None = None,
) -> set[int]:
    """Bring the entries of ``certs`` (loaded certificates) up to date in place.

    Sets the status fields from each certificate and appends the ``records`` not yet in its
    history: one read of the entry by primary key (none if ``known`` holds it: read with the
    certificate's lock, or written earlier in the transaction) and one UPDATE each; on
    SQLite one UPDATE that edits the document in SQL (``json_set``, ``json_insert``: the
    same text as Python's, key order kept). Returns the ids that have no entry yet (to be
    rebuilt).
    """
    known = {} if known is None else known
    read, write = _statements(conn.dialect.name)
    missing = set()
    in_sql = conn.dialect.name == "sqlite"
    for cert_id, cert in sorted(certs.items()):
        if in_sql and cert_id not in known:
            if not _patch_in_sql(conn, cert, records.get(cert_id, [])):
                missing.add(cert_id)
            continue
        if cert_id in known:
            last_change_id, document = known[cert_id]
            if isinstance(document, str):  # as the engine's lock read it
                document = json.loads(document)
        else:
            row = conn.execute(read, {"cid": cert_id}).first()
            if row is None:
                missing.add(cert_id)
                continue
            last_change_id, document = row.last_change_id, json.loads(row.document)
        new = sorted(
            (r for r in records.get(cert_id, []) if r.id > last_change_id),
            key=lambda r: r.seq,
        )
        document.update(_status_fields(cert))
        document["history"].extend(_history(new))
        last_change_id = max([last_change_id, *(r.id for r in new)])
        conn.execute(
            write,
            {
                "cid": cert_id,
                "p_state": document["status"],
                "p_changed": cert.status_changed_at,
                "p_expires": document["expires_at"],
                "p_last": last_change_id,
                "p_document": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
            },
        ).close()  # PostgreSQL: its RETURNING row (the notification) is not needed
        known[cert_id] = (last_change_id, document)
    return missing


def _status_fields(cert: Any) -> dict[str, Any]:
    """The document's fields that follow the certificate's status columns."""
    return {
        "status": str(cert.state),
        "status_changed_at": _iso(cert.status_changed_at),
        # as build_document: the row's date, else the one in the frozen facts
        "expires_at": _day(cert.expires_at) or (cert.facts or {}).get("expires_at"),
        "last_surveillance_at": _day(cert.last_surveillance_at),
        "next_surveillance_due": cert.next_surveillance_due.isoformat()
        if cert.next_surveillance_due
        else None,
        "suspension_ends_at": _day(cert.suspension_ends_at),
    }


def _patch_in_sql(conn: sa.Connection, cert: Any, records: list[Any]) -> bool:
    """SQLite: patch the entry with one UPDATE, no read; False if it has no entry.

    The records are appended only if the entry does not have them yet (its
    ``last_change_id`` is older than the first of them), as the Python patch does.
    """
    new = sorted(records, key=lambda r: r.seq)
    fields = _status_fields(cert)
    params: dict[str, Any] = {f"f_{k}": v for k, v in fields.items()}
    params.update(
        cid=cert.id,
        p_changed=cert.status_changed_at,
        p_first=min((r.id for r in new), default=0),
        p_last=max((r.id for r in new), default=0),
    )
    for i, item in enumerate(_history(new)):
        params[f"h_{i}"] = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    result = conn.execute(_sql_patch(len(new)), params)
    return bool(result.rowcount)


#: number of records appended -> the SQLite patch statement
_SQL_PATCHES: dict[int, Any] = {}


def _sql_patch(appended: int) -> Any:
    found = _SQL_PATCHES.get(appended)
    if found is not None:
        return found
    entry = _tables()["entry"]
    document: Any = entry.c.document
    last: Any = entry.c.last_change_id
    if appended:
        paths: list[Any] = []
        for i in range(appended):
            paths += ["$.history[#]", sa.func.json(sa.bindparam(f"h_{i}", type_=sa.Text))]
        is_new = last < sa.bindparam("p_first", type_=sa.Integer)
        document = sa.case((is_new, sa.func.json_insert(document, *paths)), else_=document)
        last = sa.case((is_new, sa.bindparam("p_last", type_=sa.Integer)), else_=last)
    pairs: list[Any] = []
    for key in _FIELDS:
        pairs += [f"$.{key}", sa.bindparam(f"f_{key}", type_=sa.Text)]
    found = _SQL_PATCHES[appended] = (
        entry.update()
        .where(entry.c.certificate_id == sa.bindparam("cid"))
        .values(
            state=sa.bindparam("f_status", type_=sa.Text),
            status_changed_at=sa.bindparam("p_changed"),
            expires_on=sa.bindparam("f_expires_at", type_=sa.Text),
            last_change_id=last,
            document=sa.func.json_set(document, *pairs, type_=sa.Text),
        )
    )
    return found


#: the fields of :func:`_status_fields`, in its order
_FIELDS = (
    "status",
    "status_changed_at",
    "expires_at",
    "last_surveillance_at",
    "next_surveillance_due",
    "suspension_ends_at",
)


_STATEMENTS: dict[str, tuple[Any, Any]] = {}


def _statements(dialect: str) -> tuple[Any, Any]:
    """The patch's two statements, built once per dialect (so SQLAlchemy compiles them once).

    On PostgreSQL the UPDATE also announces the change (``RETURNING pg_notify``): delivered
    when the transaction commits, dropped with it on rollback, as a ``NOTIFY`` statement
    would be, without a round trip of its own.
    """
    found = _STATEMENTS.get(dialect)
    if found is None:
        entry = _tables()["entry"]
        cid: Any = sa.bindparam("cid")
        write = (
            entry.update()
            .where(entry.c.certificate_id == cid)
            .values(
                state=sa.bindparam("p_state"),
                status_changed_at=sa.bindparam("p_changed"),
                expires_on=sa.bindparam("p_expires"),
                last_change_id=sa.bindparam("p_last"),
                document=sa.bindparam("p_document"),
            )
        )
        if dialect == "postgresql":
            write = write.returning(sa.func.pg_notify(CHANNEL, ""))
        found = _STATEMENTS[dialect] = (
            sa.select(entry.c.last_change_id, entry.c.document).where(
                entry.c.certificate_id == cid
            ),
            write,
        )
    return found


def _tables() -> dict[str, sa.Table]:
    from iris.core.db import db

    t = db.metadata.tables
    return {
        "cert": t["certificates"],
        "org": t["organisations"],
        "profile": t["agency_profiles"],
        "reg": t["registration_numbers"],
        "corridor": t["corridors"],
        "site": t["sites"],
        "record": t["transition_records"],
        "entry": t["registry_entries"],
        "ident": t["registry_identifiers"],
    }


def _live_facts(conn: sa.Connection, t: dict[str, sa.Table], cert: Any) -> dict[str, Any]:
    """The public facts from the organisation's current data (no frozen facts on the row)."""
    org = conn.execute(sa.select(t["org"]).where(t["org"].c.id == cert.agency_id)).one()
    company = conn.execute(
        sa.select(t["org"].c.name, t["org"].c.country).where(t["org"].c.id == cert.audit_company_id)
    ).one()
    profile = conn.execute(
        sa.select(t["profile"]).where(t["profile"].c.organisation_id == cert.agency_id)
    ).first()
    regs = conn.execute(
        sa.select(t["reg"].c.kind, t["reg"].c.value).where(
            t["reg"].c.organisation_id == cert.agency_id
        )
    ).all()
    corridors = conn.execute(
        sa.select(t["corridor"].c.origin_country, t["corridor"].c.destination_country)
        .where(t["corridor"].c.organisation_id == cert.agency_id)
        .order_by(t["corridor"].c.origin_country, t["corridor"].c.destination_country)
    ).all()
    return {
        "number": cert.number,
        "holder": {
            "name": org.name,
            "trade_names": list(profile.trade_names or []) if profile else [],
            "country": org.country,
            "city": org.city or "",
            "registration_numbers": {str(k).upper(): v for k, v in regs},
        },
        "scope": {
            "corridors": [{"origin": o, "destination": d, "sectors": []} for o, d in corridors],
            "services": list(profile.services or []) if profile else [],
            "sites": [],
        },
        "audit_company": {"name": company.name, "country": company.country},
        "standard": {"name": "IRIS Standard", "version": cert.standard_version or ""},
        "issued_at": _day(cert.issued_at),
        "original_issued_at": _day(cert.original_issued_at or cert.issued_at),
        "expires_at": _day(cert.expires_at),
    }


def identifier_key(value: str) -> str:
    """How an identifier is looked up: upper case, without spaces, dashes or dots."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _history(rows: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        payload = r.payload or {}
        item: dict[str, Any] = {
            "at": _iso(r.at),
            "event": r.trigger,
            "from": r.from_state,
            "to": r.to_state,
        }
        if payload.get("reason_code"):
            item["reason_code"] = payload["reason_code"]
        if payload.get("superseded_by"):
            item["superseded_by"] = payload["superseded_by"]
        out.append(item)
    return out


def build_document(
    cert: Any, facts: dict[str, Any], history: list[dict[str, Any]], base_url: str
) -> dict[str, Any]:
    holder = facts["holder"]
    return {
        "number": cert.number,
        "status": str(cert.state),
        "status_changed_at": _iso(cert.status_changed_at),
        "holder": {
            "name": holder["name"],
            "trade_names": holder.get("trade_names", []),
            "country": holder["country"],
            "city": holder.get("city", ""),
            "registration_numbers": holder.get("registration_numbers", {}),
        },
        "scope": facts.get("scope", {}),
        "audit_company": facts["audit_company"],
        "standard": facts["standard"],
        "issued_at": facts.get("issued_at"),
        "original_issued_at": facts.get("original_issued_at"),
        "expires_at": _day(cert.expires_at) or facts.get("expires_at"),
        "last_surveillance_at": _day(cert.last_surveillance_at),
        "next_surveillance_due": cert.next_surveillance_due.isoformat()
        if cert.next_surveillance_due
        else None,
        "suspension_ends_at": _day(cert.suspension_ends_at),
        "history": history,
        "verify_url": facts.get("verify_url") or f"{base_url}/verify/{cert.number}",
        "credential": cert.credential,
    }


def _base_url() -> str:
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("IRIS_BASE_URL", "")).rstrip("/")
    return ""


def entry_row(
    cert: Any, facts: dict[str, Any], history: list[Any], base_url: str
) -> tuple[dict[str, Any], set[str]]:
    """The registry entry's column values for ``cert`` and its identifier keys.

    ``cert`` is anything with the certificate's columns (a row, an object), ``history`` its
    transition records in order (with ``id``). Used by :func:`refresh_entries` and by the
    bulk loader of ``flask iris demo --scale`` (iris/ops/scale.py), so both write the same.
    """
    document = build_document(cert, facts, _history(history), base_url)
    holder = document["holder"]
    regs = [str(v) for v in holder["registration_numbers"].values()]
    words = [holder["name"], *holder["trade_names"], holder["city"], cert.number, *regs]
    words += [digits(v) for v in regs]
    keys = {identifier_key(cert.number)}
    keys |= {identifier_key(v) for v in regs} | {digits(v) for v in regs}
    corridors = document["scope"].get("corridors", [])
    destinations = sorted({c["destination"] for c in corridors})
    row = {
        "certificate_id": cert.id,
        "number": cert.number,
        "state": str(cert.state),
        "name": holder["name"][:300],
        "country": holder["country"],
        "city": (holder["city"] or "")[:200],
        "destinations": "," + "".join(f"{d}," for d in destinations),
        "audit_company_id": cert.audit_company_id,
        "audit_company_name": document["audit_company"]["name"][:300],
        "search_text": " " + fold(" ".join(words)) + " ",
        "issued_on": document["issued_at"],
        "expires_on": document["expires_at"],
        "status_changed_at": cert.status_changed_at,
        "last_change_id": max((r.id for r in history), default=0),
        "document": json.dumps(document, ensure_ascii=False, separators=(",", ":")),
    }
    return row, {k[:64] for k in keys if k}


def refresh_entries(conn: sa.Connection, ids: Iterable[int]) -> None:
    """Rebuild the registry entries of the certificates ``ids`` on ``conn``."""
    ids = sorted(set(ids))
    t = _tables()
    certs = conn.execute(sa.select(t["cert"]).where(t["cert"].c.id.in_(ids))).all()
    records = conn.execute(
        sa.select(t["record"])
        .where(t["record"].c.subject_type == SUBJECT, t["record"].c.subject_id.in_(ids))
        .order_by(t["record"].c.subject_id, t["record"].c.seq)
    ).all()
    by_cert: dict[int, list[Any]] = {}
    for r in records:
        by_cert.setdefault(r.subject_id, []).append(r)
    base_url = _base_url()
    rows = []
    identifiers: set[tuple[str, int]] = set()
    for cert in certs:
        if cert.state is None:
            continue
        facts = cert.facts or _live_facts(conn, t, cert)
        row, keys = entry_row(cert, facts, by_cert.get(cert.id, []), base_url)
        rows.append(row)
        identifiers |= {(k, cert.id) for k in keys}
    # A status change updates the existing entry in place (one statement); a new
    # certificate gets its entry and its identifiers. Identifiers come from the facts frozen
    # at issuance, so they never change afterwards.
    entry = t["entry"]
    existing = set(
        conn.execute(sa.select(entry.c.certificate_id).where(entry.c.certificate_id.in_(ids)))
        .scalars()
        .all()
    )
    for row in rows:
        if row["certificate_id"] in existing:
            values = {k: v for k, v in row.items() if k != "certificate_id"}
            conn.execute(
                entry.update().where(entry.c.certificate_id == row["certificate_id"]).values(values)
            )
    new_rows = [row for row in rows if row["certificate_id"] not in existing]
    if new_rows:
        conn.execute(entry.insert(), new_rows)
        new_ids = {row["certificate_id"] for row in new_rows}
        conn.execute(
            t["ident"].insert(),
            [
                {"identifier": i, "certificate_id": c}
                for i, c in sorted(identifiers)
                if c in new_ids
            ],
        )


def rebuild_all(conn: sa.Connection, batch: int = 1000) -> int:
    """Rebuild every entry from scratch (after a restore or a data migration)."""
    t = _tables()
    conn.execute(t["ident"].delete())
    conn.execute(t["entry"].delete())
    ids = [row[0] for row in conn.execute(sa.select(t["cert"].c.id).order_by(t["cert"].c.id))]
    for start in range(0, len(ids), batch):
        refresh_entries(conn, ids[start : start + batch])
    return len(ids)
