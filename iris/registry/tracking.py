"""Recording verification requests without slowing the answer: batched, off the request path.

A request appends a tuple to an in-process buffer (a lock and a list append: about a
microsecond). A daemon thread per process writes the buffer with one multi-row INSERT every
``IRIS_VERIFICATION_LOG_SECONDS`` (default 2) seconds or as soon as 500 events wait; the
thread is started on first use, so it exists in each gunicorn worker after the fork. Single
lookups of one second with the same kind, result and address are written as one row whose
``count`` says how many there were (a verifier checking thousands of certificates makes a
few rows a second, not thousands); a bulk check is a row of its own. Events
still buffered when a process is killed are lost: this is statistics and abuse control, not
evidence. Addresses are stored as a salted SHA-256 (salt: the app's secret key), never in
clear.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request

log = logging.getLogger(__name__)

_lock = threading.Lock()
#: (time, kind, result, address hash, count)
Event = tuple[datetime, str, str, str, int]
_buffer: list[Event] = []
_wake = threading.Event()
_thread: threading.Thread | None = None
_app: Any = None
BATCH = 500


_hashes: dict[tuple[str, str | None], str] = {}


def address_hash(address: str | None, secret: str) -> str:
    """Salted SHA-256 of the address; remembered for the process's recent addresses (a
    verifier checking many certificates asks from one address)."""
    key = (secret, address)
    digest = _hashes.get(key)
    if digest is None:
        digest = hashlib.sha256(f"{secret}|{address or '-'}".encode()).hexdigest()
        if len(_hashes) >= 4096:
            _hashes.clear()
        _hashes[key] = digest
    return digest


def record(kind: str, result: str, *, count: int = 1) -> None:
    """Note one verification request of the current request's client."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    event = (
        datetime.now(UTC),
        kind,
        result[:40],
        address_hash(request.remote_addr, str(app.config["SECRET_KEY"])),
        count,
    )
    with _lock:
        _buffer.append(event)
        size = len(_buffer)
    if app.config.get("IRIS_VERIFICATION_LOG_SYNC"):
        # synchronous mode (tests, debugging): written in the request's own transaction
        _write_in_session()
        return
    _ensure_thread(app)
    if size == BATCH:  # once per batch: the writer empties the buffer when it wakes
        _wake.set()


def _rows(events: list[Event]) -> list[Event]:
    """The events as rows: single lookups of the same second, kind, result and address
    merged into one (the first one's time, their count summed); bulk checks as they are."""
    rows: list[Event] = []
    merged: dict[tuple[datetime, str, str, str], int] = {}  # key -> index in rows
    for event in events:
        at, kind, result, h, n = event
        if n != 1:
            rows.append(event)
            continue
        key = (at.replace(microsecond=0), kind, result, h)
        i = merged.get(key)
        if i is None:
            merged[key] = len(rows)
            rows.append(event)
        else:
            first = rows[i]
            rows[i] = (first[0], kind, result, h, first[4] + 1)
    return rows


def flush(app: Any) -> int:
    """Write every buffered event now; returns how many events were written."""
    with _lock:
        events = _buffer[:]
        _buffer.clear()
    if not events:
        return 0
    rows = _rows(events)
    from iris.core.db import db

    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # COPY: a fraction of an INSERT's cost per row, on both sides (the log grows with
            # every verification, thousands a second under load)
            driver: Any = conn.connection.driver_connection
            with (
                driver.cursor() as cur,
                cur.copy(
                    "COPY verification_events (at, kind, result, address_hash, count) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            # the driver's executemany of plain tuples, in the text form SQLAlchemy stores
            # (UTCDateTime on SQLite): 6.5 ms of CPU for 500 rows, not 11 ms through a Core
            # insert, taken from the requests of the same process (the GIL)
            conn.exec_driver_sql(
                "INSERT INTO verification_events (at, kind, result, address_hash, count)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
                        kind,
                        result,
                        h,
                        n,
                    )
                    for at, kind, result, h, n in rows
                ],
            )
    return len(events)


def _write_in_session() -> None:
    from iris.core.db import db
    from iris.registry.models import VerificationEvent

    with _lock:
        events = _buffer[:]
        _buffer.clear()
    if events:
        db.session.execute(
            VerificationEvent.__table__.insert(),
            [
                {"at": at, "kind": kind, "result": result, "address_hash": h, "count": n}
                for at, kind, result, h, n in events
            ],
        )


def _ensure_thread(app: Any) -> None:
    global _thread, _app
    if _thread is not None and _thread.is_alive():
        return
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _app = app
        _thread = threading.Thread(target=_run, name="iris-verification-log", daemon=True)
        _thread.start()


def _run() -> None:
    while True:
        _wake.wait(timeout=float(_app.config.get("IRIS_VERIFICATION_LOG_SECONDS", 2)))
        _wake.clear()
        try:
            flush(_app)
        except Exception:  # keep the thread alive; the next batch may succeed
            log.exception("could not write verification events")
            time.sleep(1)
