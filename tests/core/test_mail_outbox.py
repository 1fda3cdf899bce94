"""The mail outbox: written with the change, sent after the commit, retried, sent once.

These tests commit for real (``committing_db``) and talk SMTP to a server on localhost.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.orm import Session

from iris.core import outbox
from iris.core.db import db, utcnow
from iris.core.mail import OutboxMessage, deliver_mail, queue_mail
from iris.core.outbox import OutboxStatus
from iris.registry.models import VerificationEvent
from tests.notifications.smtp import SmtpServer, smtp_server_fixture  # noqa: F401


@pytest.fixture
def mail_on(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "IRIS_SMTP_URL", smtp_server.url)
    monkeypatch.setitem(app.config, "IRIS_REDIS_URL", None)  # jobs inline, whatever the env
    monkeypatch.setitem(app.config, "IRIS_OUTBOX_RETRY_BASE_SECONDS", 60)
    monkeypatch.setitem(app.config, "IRIS_OUTBOX_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "IRIS_OUTBOX_LEASE_SECONDS", 300)
    return smtp_server


def _queue(to: str = "owner@agency.example.com", key: str | None = None) -> OutboxMessage:
    return queue_mail(
        to,
        "verify_email",
        idempotency_key=key,
        user=type("U", (), {"name": "Ola"})(),
        link="https://x.example/l",
        hours=24,
    )


def _row(msg_id: int) -> OutboxMessage:
    db.session.expire_all()
    row = db.session.get(OutboxMessage, msg_id)
    assert row is not None
    return row


def test_mail_is_sent_once_after_the_commit_of_its_change(committing_db, mail_on):
    msg = _queue()
    assert mail_on.received == []  # nothing leaves before the commit
    db.session.commit()
    [sent] = mail_on.received
    assert sent["To"] == "owner@agency.example.com"
    assert sent["Subject"] == "Confirm your e-mail address for IRIS Certify"
    row = _row(msg.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 1 and row.sent_at
    assert sent["Message-ID"] == f"<{row.public_id}@iris-certify>"
    # a sweep later finds nothing left to send
    assert deliver_mail() == 0
    assert len(mail_on.received) == 1


def test_a_rolled_back_change_sends_nothing(committing_db, mail_on):
    _queue()
    db.session.rollback()
    assert mail_on.received == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_without_smtp_the_message_stays_in_the_local_outbox(committing_db, app):
    assert app.config["IRIS_SMTP_URL"] == ""
    msg = _queue()
    db.session.commit()
    assert _row(msg.id).status is OutboxStatus.LOCAL


def test_smtp_down_keeps_the_message_and_retries_with_backoff(committing_db, mail_on):
    mail_on.stop()
    msg = _queue()
    db.session.commit()  # delivery fails: the server refuses connections
    row = _row(msg.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert "Connection" in (row.last_error or "") or "refused" in (row.last_error or "")
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=50) < first_wait <= timedelta(seconds=60)

    mail_on.start()
    assert deliver_mail() == 0  # not due yet: the backoff is respected
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=True):
        mail_on.fail_next = 1  # the server is back but answers 451 once
        assert deliver_mail() == 0
        row = _row(msg.id)
        assert row.attempts == 2 and "451" in (row.last_error or "")
        second_wait = row.next_attempt_at - utcnow()
        assert timedelta(seconds=110) < second_wait <= timedelta(seconds=120)  # doubled
    with time_machine.travel(utcnow() + timedelta(seconds=200), tick=True):
        assert deliver_mail() == 1
        assert deliver_mail() == 0
    assert len(mail_on.received) == 1
    assert _row(msg.id).status is OutboxStatus.SENT


def test_gives_up_after_the_last_attempt_and_keeps_the_error(committing_db, mail_on):
    mail_on.fail_next = 99
    msg = _queue()
    db.session.commit()
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=1)
        with time_machine.travel(later, tick=False):
            deliver_mail()
    row = _row(msg.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == 3
    assert "451" in (row.last_error or "")
    with time_machine.travel(later + timedelta(days=1), tick=False):
        assert deliver_mail() == 0  # a failed row is kept, not retried for ever
    assert mail_on.received == []


def test_the_same_idempotency_key_queues_one_message(committing_db, app):
    first = _queue(key="certificate-issued:42:owner")
    again = _queue(key="certificate-issued:42:owner")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_a_commit_elsewhere_during_the_send_does_not_keep_it_from_being_recorded(
    committing_db, mail_on, app, monkeypatch
):
    """Someone else commits while the message is being sent (a user's request, the
    verification log): the delivery is still recorded as sent, once. On SQLite a
    transaction that read the row before the send could not write after it ("database
    is locked"), and the message would have gone out again when its lease ran out."""
    mail_on.stop()  # keep the first delivery from happening at commit
    msg = _queue()
    db.session.commit()
    mail_on.start()
    send = OutboxMessage.transmit

    def send_while_another_commits(self: OutboxMessage, config: object) -> None:
        send(self, config)
        with db.engine.begin() as other:  # another connection writes and commits
            other.execute(
                VerificationEvent.__table__.insert(),
                {"at": utcnow(), "kind": "api", "result": "found", "address_hash": "x", "count": 1},
            )

    monkeypatch.setattr(OutboxMessage, "transmit", send_while_another_commits)
    later = utcnow() + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        assert outbox.deliver_one(db.session(), OutboxMessage, msg.id, app.config) == "sent"
    assert _row(msg.id).status is OutboxStatus.SENT and len(mail_on.received) == 1
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        assert deliver_mail() == 0  # nothing left to send again
    assert len(mail_on.received) == 1


def test_racing_deliverers_send_a_message_once(committing_db, mail_on, app):
    mail_on.stop()
    msg = _queue()
    db.session.commit()  # first attempt failed; due again after the backoff
    mail_on.start()
    results: list[str] = []
    barrier = threading.Barrier(6)
    later = utcnow() + timedelta(minutes=5)
    engine = db.engine
    msg_id = msg.id

    def worker() -> None:
        # each worker with its own connection, as separate processes would have
        with Session(engine) as session, time_machine.travel(later, tick=False):
            barrier.wait()
            results.append(outbox.deliver_one(session, OutboxMessage, msg_id, app.config))

    with time_machine.travel(later, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results).count("sent") == 1
    assert results.count("skipped") == 5
    assert len(mail_on.received) == 1


def test_a_worker_that_died_mid_delivery_is_taken_over_after_its_lease(committing_db, mail_on, app):
    mail_on.stop()  # keep the first delivery from happening at commit
    msg = _queue()
    db.session.commit()
    mail_on.start()
    start = utcnow() + timedelta(minutes=5)
    settings = outbox.Settings.from_config(app.config)
    # A worker claims the message and dies before sending it.
    assert outbox.claim(db.session(), OutboxMessage, msg.id, settings, start) is not None
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert deliver_mail() == 0  # still leased to the dead worker
    with time_machine.travel(start + settings.lease + timedelta(seconds=1), tick=False):
        assert deliver_mail() == 1
        assert deliver_mail() == 0
    assert len(mail_on.received) == 1
    row = _row(msg.id)
    assert row.status is OutboxStatus.SENT and row.claimed_until is None


def test_backoff_doubles_and_is_capped():
    assert outbox.backoff(1, 60, 3600) == timedelta(seconds=60)
    assert outbox.backoff(2, 60, 3600) == timedelta(seconds=120)
    assert outbox.backoff(4, 60, 3600) == timedelta(seconds=480)
    assert outbox.backoff(20, 60, 3600) == timedelta(seconds=3600)


def test_outbox_counts_by_status(committing_db, app):
    _queue("a@x.example")
    _queue("b@x.example")
    db.session.commit()
    assert outbox.counts(db.session())["outbox_messages"] == {"local": 2}


def test_unused_server_class_is_importable():
    assert SmtpServer().url.startswith("smtp://127.0.0.1:")
