"""The worker and the outbox against a real Redis (``IRIS_TEST_REDIS_URL``; CI sets it).

A notification survives a worker crash and an SMTP failure and is delivered exactly once:
a real ``celery`` worker process takes the job from Redis, is killed (SIGKILL) while it is
handing the message to the SMTP server, the server then refuses the next attempt (451),
and a second worker, driven by its beat schedule, delivers it once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from iris.core.db import db
from iris.core.mail import OutboxMessage, queue_mail
from iris.core.outbox import OutboxStatus
from tests.notifications.smtp import SmtpServer, smtp_server_fixture  # noqa: F401

REDIS_URL = os.environ.get("IRIS_TEST_REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(
        not REDIS_URL,
        reason="needs Redis: set IRIS_TEST_REDIS_URL (CI uses redis://127.0.0.1:6379/15)",
    ),
    pytest.mark.slow,
]


@pytest.fixture
def redis_queue(app, monkeypatch) -> Iterator[str]:
    """A queue of its own (parallel runs never share jobs); the app sends jobs to it."""
    import redis

    queue = f"iris-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "IRIS_REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "IRIS_JOB_QUEUE", queue)
    app.extensions.pop("celery", None)
    client = redis.Redis.from_url(REDIS_URL)
    yield queue
    app.extensions.pop("celery", None)
    client.delete(queue, f"{queue}.unacked", f"{queue}.unacked_index")
    client.close()


def _queue_length(queue: str) -> int:
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        return int(client.llen(queue))


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _message_row(msg_id: int) -> OutboxMessage:
    db.session.rollback()  # see the other processes' commits
    db.session.expire_all()
    row = db.session.get(OutboxMessage, msg_id)
    assert row is not None
    return row


def _queue_one(to: str) -> int:
    msg = queue_mail(
        to,
        "verify_email",
        user=type("U", (), {"name": "Ola"})(),
        link="https://x.example/l",
        hours=24,
    )
    db.session.commit()
    return msg.id


def test_with_redis_a_job_goes_to_the_queue_and_the_worker_runs_it(
    committing_db,
    app,
    redis_queue,
    smtp_server,
    monkeypatch,
):
    from celery.contrib.testing.worker import start_worker

    from iris.core.worker import celery_for

    monkeypatch.setitem(app.config, "IRIS_SMTP_URL", smtp_server.url)
    msg_id = _queue_one("queued@agency.example.com")
    # The request returned without talking to SMTP: the job waits in Redis.
    assert smtp_server.received == []
    assert _queue_length(redis_queue) == 1
    assert _message_row(msg_id).status is OutboxStatus.PENDING

    with start_worker(
        celery_for(app),
        pool="solo",
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ):
        _wait(lambda: len(smtp_server.received) == 1, 20, "the worker to send the mail")
    assert _message_row(msg_id).status is OutboxStatus.SENT
    assert _queue_length(redis_queue) == 0
    assert len(smtp_server.to("queued@agency.example.com")) == 1


def _start_worker(app, queue: str, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    config = {
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "IRIS_REDIS_URL": REDIS_URL,
        "IRIS_JOB_QUEUE": queue,
        "IRIS_SMTP_URL": app.config["IRIS_SMTP_URL"],
        "IRIS_STORAGE_DIR": app.config["IRIS_STORAGE_DIR"],
        "IRIS_OUTBOX_LEASE_SECONDS": 3,
        "IRIS_OUTBOX_RETRY_BASE_SECONDS": 1,
        "IRIS_OUTBOX_SWEEP_SECONDS": 1,
        "IRIS_TICK_SECONDS": 3600,
    }
    env = dict(os.environ, IRIS_TEST_WORKER_CONFIG=json.dumps(config), PYTHONPATH=str(ROOT))
    with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.notifications.worker_app",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                f"{name}@%h",
                "-l",
                "INFO",
                "-B",
                "--schedule",
                str(tmp_path / f"{name}-beat"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_notification_survives_a_worker_crash_and_an_smtp_failure_and_is_sent_once(
    committing_db,
    app,
    redis_queue,
    smtp_server,
    monkeypatch,
    tmp_path,
):
    monkeypatch.setitem(app.config, "IRIS_SMTP_URL", smtp_server.url)
    smtp_server.stall_next = True  # the first delivery hangs inside the SMTP conversation
    msg_id = _queue_one("employer@example.com")
    assert _queue_length(redis_queue) == 1

    first = _start_worker(app, redis_queue, tmp_path, "first")
    try:
        assert smtp_server.stalled.wait(30), (tmp_path / "first.log").read_text()
        row = _message_row(msg_id)
        assert row.status is OutboxStatus.PENDING and row.claimed_until is not None
    finally:
        _kill(first)  # the worker dies in the middle of the delivery
    smtp_server.release.set()
    assert smtp_server.received == []
    smtp_server.fail_next = 1  # and the mail server refuses the next attempt

    second = _start_worker(app, redis_queue, tmp_path, "second")
    try:
        _wait(
            lambda: _message_row(msg_id).status is OutboxStatus.SENT,
            40,
            "the second worker to deliver the message",
        )
        time.sleep(3)  # a few more sweeps: nothing is sent again
    finally:
        _kill(second)
    row = _message_row(msg_id)
    assert smtp_server.refused == 1
    assert len(smtp_server.to("employer@example.com")) == 1
    assert row.attempts == 3  # the crashed one, the refused one, the delivered one
    assert row.claimed_until is None and row.sent_at is not None
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert total == 1
