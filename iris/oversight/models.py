"""The oversight dashboard's figures, computed off the request (see :mod:`.operations`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from iris.core.db import db


class OversightSummary(db.Model):
    """The dashboard's figures over the whole history, as computed at ``computed_at``.

    Every figure reads all the applications, cases, certificates and transition records
    (4.6 s at 100,000 certificates on SQLite): the scheduler's tick computes them, the page
    shows the newest summary. Not evidence: a refresh removes the older summaries.
    """

    __tablename__ = "oversight_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the moment the figures describe (the tick's "now")
    computed_at: Mapped[datetime]
    #: how long the computation took, in seconds
    seconds: Mapped[float]
    #: the figures, as :func:`iris.oversight.queries.compute_figures` returns them
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
