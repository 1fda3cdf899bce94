"""Jobs run only after the commit: inline without Redis, in the worker with it."""

from __future__ import annotations

import time

import pytest

from iris.core import jobs
from iris.core.db import db

done: list[tuple[str, object]] = []


@jobs.job
def record(value: str) -> None:
    from flask import current_app

    done.append((value, current_app.name))


@pytest.fixture(autouse=True)
def _clear(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    done.clear()
    monkeypatch.setitem(app.config, "IRIS_REDIS_URL", None)  # inline, whatever the env says


def test_a_job_runs_after_the_commit_in_an_app_context(committing_db):
    jobs.after_commit(db.session(), record, "a")
    assert done == []
    db.session.commit()
    assert done == [("a", "iris")]


def test_a_rolled_back_transaction_runs_no_job(committing_db):
    jobs.after_commit(db.session(), record, "b")
    db.session.rollback()
    db.session.commit()
    assert done == []


def test_plain_callables_keep_working(committing_db):
    calls: list[int] = []
    jobs.after_commit(db.session(), calls.append, 7)
    db.session.commit()
    assert calls == [7]


def test_a_failing_job_does_not_undo_the_commit_or_stop_the_next(committing_db, caplog):
    def boom() -> None:
        raise RuntimeError("no")

    jobs.after_commit(db.session(), boom)
    jobs.after_commit(db.session(), record, "c")
    db.session.commit()
    assert done == [("c", "iris")]
    assert "after-commit job boom failed" in caplog.text


def test_when_redis_is_unreachable_the_job_runs_here(committing_db, app, monkeypatch):
    monkeypatch.setitem(app.config, "IRIS_REDIS_URL", "redis://127.0.0.1:1/0")
    app.extensions.pop("celery", None)
    try:
        jobs.after_commit(db.session(), record, "d")
        started = time.monotonic()
        db.session.commit()
        assert done == [("d", "iris")]
        assert time.monotonic() - started < 15
    finally:
        app.extensions.pop("celery", None)


def test_only_marked_jobs_inside_iris_can_be_run_by_name():
    from iris.core.mail import deliver_mail

    assert jobs.resolve("iris.core.mail:deliver_mail") is deliver_mail
    for name in (
        "iris.core.mail:queue_mail",
        "os:system",
        "iris.core.mail",
        "tests.x:y",
        "iris.core.mail:nothing_here",
    ):
        with pytest.raises(LookupError):
            jobs.resolve(name)
