"""Side effects that run only after the request's transaction commits.

Operations call :func:`after_commit` to queue work (mail delivery, PDF jobs, webhooks). The
callables run once the session commits and are dropped if it rolls back, so a failed request
never sends mail about a change that did not happen. Without Redis they run inline, in the
process that committed; the job worker of the scaled-out setup plugs in here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_KEY = "iris_after_commit"


def after_commit(session: Session, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` after ``session`` commits its outermost transaction."""
    session.info.setdefault(_KEY, []).append((fn, args, kwargs))


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    # A released SAVEPOINT does not fire after_commit; only the real commit does.
    pending = session.info.pop(_KEY, [])
    for fn, args, kwargs in pending:
        try:
            fn(*args, **kwargs)
        except Exception:  # a side effect must never undo a committed change
            log.exception("after-commit job %s failed", getattr(fn, "__name__", fn))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
