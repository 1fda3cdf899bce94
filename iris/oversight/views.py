"""The scheme oversight dashboard: read-only figures for scheme admins.

The figures cover the whole history, so they are computed by the scheduler's tick
(:mod:`iris.oversight.operations`), not on each view; the page shows when they were taken.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from iris.core.countries import country_name
from iris.core.db import db
from iris.core.permissions import roles_required
from iris.oversight import charts, operations, queries
from workflows.certificate import CertificateState
from workflows.lifecycles import LIFECYCLES
from workflows.roles import Role

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

OVERDUE_LABELS = {
    "review": _l("Applications past the review target"),
    "deferral": _l("Deferred applications past their due date"),
    "corrective_actions": _l("Cases past the corrective-action deadline"),
    "findings": _l("Findings with an overdue corrective action"),
    "surveillance": _l("Active certificates with surveillance overdue"),
    "suspension": _l("Suspensions past their limit"),
}

TOP_COUNTRIES = 5


def _state_label(lifecycle: str, state: str) -> str:
    return str(_(LIFECYCLES[lifecycle].state_label(state)))


@bp.get("/")
@roles_required(Role.SCHEME_ADMIN)
def dashboard() -> Any:
    """The newest summary of the figures (refreshed by the scheduler's tick); computed here,
    once, when there is none yet."""
    summary = queries.latest_summary(db.session())
    if summary is None:
        summary = operations.refresh_summary()
        db.session.commit()
    figures = queries.figures_from(summary.figures)
    states = figures.states
    state_charts = {
        name: charts.bars([(_state_label(name, s), n) for s, n in rows])
        for name, rows in states.items()
    }
    stays = figures.stays
    stay_charts = {
        name: charts.bars(
            [(_state_label(name, s.state), round(s.median_days or 0, 1)) for s in rows if s.stays]
        )
        for name, rows in stays.items()
    }
    ends, countries = figures.month_ends, figures.countries
    statuses = [s.value for s in CertificateState]
    country_chart = charts.stacked(
        [(country_name(c.country), c.by_status) for c in countries], statuses
    )
    month_labels = [format_date(e.date(), "MMM yy") for e in ends]
    top = countries[:TOP_COUNTRIES]
    totals = [sum(c.active_at[i] for c in countries if c.active_at) for i in range(len(ends))]
    series = [(str(_("All countries")), totals)] + [
        (country_name(c.country), c.active_at) for c in top
    ]
    trend_chart = charts.lines(month_labels, series)
    return render_template(
        "oversight/dashboard.html",
        now=summary.computed_at,
        states=states,
        state_charts=state_charts,
        stays=stays,
        stay_charts=stay_charts,
        overdue=figures.overdue,
        overdue_labels=OVERDUE_LABELS,
        countries=countries,
        statuses=statuses,
        country_chart=country_chart,
        month_labels=month_labels,
        trend_series=series,
        trend_chart=trend_chart,
        state_label=_state_label,
        lifecycle_titles={
            "application": _("Applications"),
            "certification": _("Certification cases"),
        },
    )
