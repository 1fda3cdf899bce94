"""Side effects that run only after the request's transaction commits.

Operations call :func:`after_commit` to queue work (mail delivery, PDF jobs, webhooks). The
callables run once the session commits and are dropped if it rolls back, so a failed request
never sends mail about a change that did not happen.

Two kinds of callables:

- a plain function runs in the process that committed, right after the commit (for work
  that must stay in this process);
- a **job** (a function decorated with :func:`job`, whose arguments are JSON values: ids,
  strings, numbers) is work that may run anywhere. Without Redis (``IRIS_REDIS_URL``
  empty, the embedded default) it runs inline after the commit, in a fresh application
  context; with Redis it is sent to the Celery worker (:mod:`iris.core.worker`) after the
  commit, so the request returns at once. If Redis cannot be reached at that moment the
  job runs inline instead: a committed change never loses its side effects because the
  broker was down (outbox-backed work is also swept periodically by the worker).

Jobs are named ``module:qualname`` and only functions marked with :func:`job` inside the
``iris`` package may be run by name, so a message on the queue can never name arbitrary
code.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_KEY = "iris_after_commit"
#: session.info key: rows added in this transaction whose job waits for their ids
_ROWS = "iris_after_commit_rows"

F = TypeVar("F", bound=Callable[..., Any])


def job(fn: F) -> F:
    """Mark ``fn`` as a job: it may run in the worker, by name, with JSON arguments."""
    fn.iris_job = job_name(fn)  # type: ignore[attr-defined]
    return fn


def job_name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def is_job(fn: Any) -> bool:
    return isinstance(getattr(fn, "iris_job", None), str)


def resolve(name: str) -> Callable[..., Any]:
    """The job called ``name``; ``LookupError`` for anything that is not a marked job."""
    module_name, _, qualname = name.partition(":")
    if not (module_name == "iris" or module_name.startswith("iris.")) or not qualname:
        raise LookupError(f"not a job name: {name!r}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if not is_job(target) or target.iris_job != name:
        raise LookupError(f"not a job: {name!r}")
    return target


def after_commit(session: Session, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` after ``session`` commits its outermost transaction."""
    if not session.in_transaction():
        # Tie the job to a transaction, so that a rollback before any query drops it too.
        session.begin()
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    session.info.setdefault(_KEY, []).append((app, fn, args, kwargs))


def after_commit_for_row(session: Session, fn: Callable[..., Any], row: Any) -> None:
    """Run ``fn([ids])`` after ``session`` commits, with the id of ``row`` (added to the
    session in this transaction, not flushed yet).

    No flush now: the id is taken when the session flushes the row on its own (at the
    latest, the commit's flush). A step that queues a mail therefore writes its subject
    once, in the step's own flush, not a first time for the mail's id and again for its
    record. Rows of one job flushed together share one call.
    """
    if not session.in_transaction():
        session.begin()
    session.info.setdefault(_ROWS, []).append((fn, row))


@event.listens_for(Session, "after_flush_postexec")
def _ids_known(session: Session, _context: Any) -> None:
    waiting = session.info.get(_ROWS)
    if not waiting:
        return
    ready: dict[Any, list[int]] = {}
    later = []
    for fn, row in waiting:
        if row.id is None:  # not in this flush (added after it began)
            later.append((fn, row))
        else:
            ready.setdefault(fn, []).append(row.id)
    session.info[_ROWS] = later
    for fn, ids in ready.items():
        after_commit(session, fn, ids)


def run(app: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Start one queued callable: a job goes to the worker (or runs inline), others inline."""
    if is_job(fn) and app is not None:
        if app.config.get("IRIS_REDIS_URL") and not app.config.get("IRIS_JOBS_INLINE"):
            try:
                from iris.core.worker import enqueue

                enqueue(app, fn.iris_job, list(args), kwargs)  # type: ignore[attr-defined]
                return
            except Exception:  # the broker is down: do the work here rather than lose it
                log.exception("could not enqueue job %s; running it inline", fn.iris_job)  # type: ignore[attr-defined]
        with app.app_context():
            fn(*args, **kwargs)
        return
    fn(*args, **kwargs)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # A released SAVEPOINT does not fire after_commit; only the real commit does.
    pending = session.info.pop(_KEY, [])
    for app, fn, args, kwargs in pending:
        try:
            run(app, fn, args, kwargs)
        except Exception:  # a side effect must never undo a committed change
            log.exception("after-commit job %s failed", getattr(fn, "__name__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(_ROWS, None)
