"""Refreshing the oversight dashboard's figures: by the scheduler's tick, after the demo data
is loaded, and by the page itself once when there is no summary yet.

Never commits: ``flask iris tick`` and the worker's tick commit after each feature's
``on_tick``; the demo loader and the page commit themselves.
"""

from __future__ import annotations

import time
from datetime import datetime

import sqlalchemy as sa

from iris.core.db import db, utcnow
from iris.oversight.models import OversightSummary
from iris.oversight.queries import compute_figures


def refresh_summary(*, now: datetime | None = None) -> OversightSummary:
    """Compute every figure at ``now`` (default: the current time) and store it as the newest
    summary; the older summaries are removed."""
    now = now or utcnow()
    started = time.perf_counter()
    figures = compute_figures(db.session(), now)
    summary = OversightSummary(
        computed_at=now, seconds=round(time.perf_counter() - started, 3), figures=figures
    )
    db.session.add(summary)
    db.session.flush()
    db.session.execute(sa.delete(OversightSummary).where(OversightSummary.id < summary.id))
    return summary


def on_tick(now: datetime) -> int:
    """The scheduler's tick (``flask iris tick``, the worker's beat): fresh figures.
    Returns 0: it queues no reminder."""
    refresh_summary(now=now)
    return 0
