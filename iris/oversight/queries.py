"""The scheme's figures for the oversight dashboard: each a fixed number of grouped queries.

Nothing here loads rows one by one: every figure is a GROUP BY (or one window query over the
transition records), so computing them runs the same number of queries for 10 subjects as
for 1,000,000. But each reads the whole history, so the page does not compute them:
:func:`compute_figures` is run by the scheduler's tick (:mod:`iris.oversight.operations`)
and stored as plain data; the page reads the newest (:func:`latest_summary`,
:func:`figures_from`). All times are UTC.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from iris.accounts.models import Organisation
from iris.applications.models import Application
from iris.audits.models import ACTION_GRADES, CertificationCase, Finding, FindingStatus
from iris.certificates.models import Certificate
from iris.core.history import TransitionRecord
from workflows.application import ApplicationState
from workflows.certificate import CertificateState
from workflows.certification import CaseState

#: lifecycles on the dashboard: (subject type in the transition log, its states in order)
LIFECYCLES: dict[str, tuple[str, ...]] = {
    "application": tuple(s.value for s in ApplicationState),
    "certification": tuple(s.value for s in CaseState),
}


def counts_by_state(session: Session, model: Any, states: tuple[str, ...]) -> list[tuple[str, int]]:
    rows: dict[Any, int] = {
        state: int(n)
        for state, n in session.execute(
            sa.select(model.state, sa.func.count()).group_by(model.state)
        )
    }
    return [(s, rows.get(s, 0)) for s in states]


def _days(dialect: str, start: Any, end: Any) -> Any:
    if dialect == "postgresql":
        return sa.extract("epoch", end - start) / 86400.0
    return sa.func.julianday(end) - sa.func.julianday(start)


@dataclass
class Stay:
    state: str
    median_days: float | None
    stays: int  # completed stays measured
    current: int  # subjects in that state now (not yet finished)


def median_days_in_state(session: Session, subject_type: str) -> list[Stay]:
    """How long subjects stayed in each state: the median over completed stays.

    A stay starts with the record that entered the state and ends with the next record of
    the same subject (``LEAD`` over the chain); one window query. PostgreSQL computes the
    medians itself (``percentile_cont``: the same value as :func:`statistics.median`);
    SQLite has no median, so its stays come to Python.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _median_days_in_sql(session, subject_type)
    rec = TransitionRecord.__table__.c
    next_at = (
        sa.func.lead(rec.at)
        .over(partition_by=(rec.subject_type, rec.subject_id), order_by=rec.seq)
        .label("next_at")
    )
    inner = (
        sa.select(rec.to_state.label("state"), rec.at.label("at"), next_at)
        .where(rec.subject_type == subject_type)
        .subquery()
    )
    query = sa.select(
        inner.c.state,
        sa.case(
            (inner.c.next_at.is_(None), None), else_=_days(dialect, inner.c.at, inner.c.next_at)
        ),
    )
    durations: dict[str, list[float]] = defaultdict(list)
    current: dict[str, int] = defaultdict(int)
    for state, days in session.execute(query):
        if days is None:
            current[state] += 1
        else:
            durations[state].append(max(0.0, float(days)))
    out = []
    for state in LIFECYCLES.get(subject_type, ()):
        values = durations.get(state, [])
        median = statistics.median(values) if values else None
        out.append(Stay(state, median, len(values), current.get(state, 0)))
    return out


_MEDIANS_SQL = sa.text(
    # days is NULL for a stay not finished yet (the subject is in that state now)
    "SELECT state,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN days < 0 THEN 0 ELSE days END),"
    " count(days), count(*) - count(days)"
    " FROM (SELECT to_state AS state,"
    "   EXTRACT(epoch FROM lead(at) OVER ("
    "     PARTITION BY subject_type, subject_id ORDER BY seq) - at) / 86400.0 AS days"
    "   FROM transition_records WHERE subject_type = :subject_type) AS stays"
    " GROUP BY state"
)


def _median_days_in_sql(session: Session, subject_type: str) -> list[Stay]:
    rows = {
        str(state): (median, int(stays), int(current))
        for state, median, stays, current in session.execute(
            _MEDIANS_SQL, {"subject_type": subject_type}
        )
    }
    out = []
    for state in LIFECYCLES.get(subject_type, ()):
        median, stays, current = rows.get(state, (None, 0, 0))
        out.append(Stay(state, float(median) if median is not None else None, stays, current))
    return out


@dataclass
class Overdue:
    kind: str
    count: int
    oldest: datetime | date | None


def overdue_items(session: Session, now: datetime) -> list[Overdue]:
    """What is late now, by kind: one aggregate query per kind (count and oldest due date)."""
    today = now.date()
    kinds: list[tuple[str, Any, Any]] = [
        (
            "review",
            Application.review_due_at,
            sa.and_(
                Application.state.in_([ApplicationState.SUBMITTED, ApplicationState.UNDER_REVIEW]),
                Application.review_due_at < now,
            ),
        ),
        (
            "deferral",
            Application.deferral_due_at,
            sa.and_(
                Application.state == ApplicationState.DEFERRED, Application.deferral_due_at < now
            ),
        ),
        (
            "corrective_actions",
            CertificationCase.cap_due_at,
            sa.and_(
                CertificationCase.state.in_([CaseState.FINDINGS_ISSUED, CaseState.CAP_SUBMITTED]),
                CertificationCase.cap_due_at < now,
            ),
        ),
        (
            "findings",
            Finding.due_at,
            sa.and_(
                Finding.status.in_([FindingStatus.OPEN, FindingStatus.PLAN_SUBMITTED]),
                Finding.grade.in_(ACTION_GRADES),
                Finding.due_at < now,
            ),
        ),
        (
            "surveillance",
            Certificate.next_surveillance_due,
            sa.and_(
                Certificate.state == CertificateState.ACTIVE,
                Certificate.next_surveillance_due < today,
            ),
        ),
        (
            "suspension",
            Certificate.suspension_ends_at,
            sa.and_(
                Certificate.state == CertificateState.SUSPENDED,
                Certificate.suspension_ends_at < now,
            ),
        ),
    ]
    out = []
    for kind, column, condition in kinds:
        count, oldest = session.execute(
            sa.select(sa.func.count(), sa.func.min(column)).where(condition)
        ).one()
        if isinstance(oldest, str):  # SQLite returns MIN() of a date column as text
            oldest = date.fromisoformat(oldest[:10])
        out.append(Overdue(kind, int(count), oldest))
    return out


def month_ends(now: datetime, months: int = 12) -> list[datetime]:
    """The last instant of each of the last ``months`` months, the current one last."""
    ends = []
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    for _ in range(months):
        nxt = (first + timedelta(days=32)).replace(day=1)
        ends.append(min(nxt - timedelta(microseconds=1), now))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(ends))


@dataclass
class CountryFigures:
    country: str
    by_status: dict[str, int] = field(default_factory=dict)
    active_at: list[int] = field(default_factory=list)  # per month end

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def certificates_by_country(
    session: Session, now: datetime, months: int = 12
) -> tuple[list[datetime], list[CountryFigures]]:
    """Per agency country: certificates by current status, and active ones at each month end.

    Active at a moment: issued by then, not expired, withdrawn or cancelled by then (the
    dates on the certificate; a past suspension that was lifted is not counted out).
    Two grouped queries whatever the number of certificates.
    """
    country = Organisation.country
    base = (
        sa.select()
        .select_from(Certificate)
        .join(Organisation, Organisation.id == Certificate.agency_id)
    )
    status_rows = session.execute(
        base.add_columns(country, Certificate.state, sa.func.count()).group_by(
            country, Certificate.state
        )
    ).all()
    ends = month_ends(now, months)
    columns = []
    for i, end in enumerate(ends):
        alive = sa.and_(
            Certificate.issued_at <= end,
            sa.or_(Certificate.expires_at.is_(None), Certificate.expires_at > end),
            sa.or_(Certificate.withdrawn_at.is_(None), Certificate.withdrawn_at > end),
            Certificate.state != CertificateState.CANCELLED,
            sa.or_(
                Certificate.state != CertificateState.SUSPENDED,
                Certificate.suspended_at > end,
            ),
        )
        columns.append(sa.func.sum(sa.case((alive, 1), else_=0)).label(f"m{i}"))
    month_rows = session.execute(base.add_columns(country, *columns).group_by(country)).all()
    figures: dict[str, CountryFigures] = {}
    for c, state, n in status_rows:
        figures.setdefault(c, CountryFigures(c)).by_status[str(state)] = int(n)
    for row in month_rows:
        fig = figures.setdefault(row[0], CountryFigures(row[0]))
        fig.active_at = [int(v or 0) for v in row[1:]]
    ordered = sorted(figures.values(), key=lambda f: (-f.total, f.country))
    return ends, ordered


# --------------------------------------------------------------------------- the summary


def compute_figures(session: Session, now: datetime) -> dict[str, Any]:
    """Every figure of the dashboard at ``now``, as plain JSON data (see :func:`figures_from`)."""
    states = {
        "application": counts_by_state(session, Application, LIFECYCLES["application"]),
        "certification": counts_by_state(session, CertificationCase, LIFECYCLES["certification"]),
    }
    stays = {name: median_days_in_state(session, name) for name in states}
    overdue = overdue_items(session, now)
    ends, countries = certificates_by_country(session, now)
    return {
        "states": {name: [[s, n] for s, n in rows] for name, rows in states.items()},
        "stays": {
            name: [[s.state, s.median_days, s.stays, s.current] for s in rows]
            for name, rows in stays.items()
        },
        "overdue": [
            [o.kind, o.count, o.oldest.isoformat() if o.oldest is not None else None]
            for o in overdue
        ],
        "month_ends": [e.isoformat() for e in ends],
        "countries": [[c.country, c.by_status, c.active_at] for c in countries],
    }


def _moment(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


@dataclass
class Figures:
    states: dict[str, list[tuple[str, int]]]
    stays: dict[str, list[Stay]]
    overdue: list[Overdue]
    month_ends: list[datetime]
    countries: list[CountryFigures]


def figures_from(data: dict[str, Any]) -> Figures:
    """The figures stored by :func:`compute_figures`, as the dataclasses above."""
    return Figures(
        states={name: [(str(s), int(n)) for s, n in rows] for name, rows in data["states"].items()},
        stays={
            name: [Stay(str(s), m, int(n), int(c)) for s, m, n, c in rows]
            for name, rows in data["stays"].items()
        },
        overdue=[Overdue(str(k), int(n), _moment(o)) for k, n, o in data["overdue"]],
        month_ends=[datetime.fromisoformat(e) for e in data["month_ends"]],
        countries=[
            CountryFigures(str(c), {str(k): int(v) for k, v in by.items()}, [int(v) for v in at])
            for c, by, at in data["countries"]
        ],
    )


def latest_summary(session: Session) -> Any:
    """The newest stored summary (an OversightSummary), or None."""
    from iris.oversight.models import OversightSummary

    return session.scalar(sa.select(OversightSummary).order_by(OversightSummary.id.desc()).limit(1))
