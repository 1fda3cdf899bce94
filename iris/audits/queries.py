"""Questions other features ask about audits: conflicts of interest, open cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from iris.audits.models import CertificationCase, ConflictOfInterestDeclaration, Relation
from iris.core.dates import add_months
from iris.core.db import db
from workflows.base import Lifecycle
from workflows.certification import AuditType
from workflows.lifecycles import LIFECYCLES

CASE: Lifecycle = LIFECYCLES["certification"]

AUDIT_TYPE_WORDS = {
    AuditType.INITIAL: _l("initial"),
    AuditType.SURVEILLANCE: _l("surveillance"),
    AuditType.RECERTIFICATION: _l("recertification"),
    AuditType.SPECIAL: _l("special"),
}

RELATION_WORDS = {
    Relation.CONSULTANCY: _l("consultancy"),
    Relation.EMPLOYMENT: _l("employment"),
    Relation.FINANCIAL: _l("financial"),
    Relation.FAMILY: _l("family"),
    Relation.OTHER: _l("personal"),
}


def ties_with_agency(user: Any, agency_id: int, now: datetime) -> list[str]:
    """Why ``user`` may not audit or review the agency, in words; empty when independent.

    A tie is a membership of the agency, or a declared consultancy, employment, financial
    or other tie that lasts or ended less than the cooling-off period ago
    (``IRIS_COI_COOLING_OFF_MONTHS``).
    """
    reasons: list[str] = []
    if user.roles_in(agency_id):
        reasons.append(_("%(name)s belongs to this agency.", name=user.name))
    months = int(current_app.config["IRIS_COI_COOLING_OFF_MONTHS"])
    horizon = add_months(now.date(), -months)
    declarations = db.session.scalars(
        sa.select(ConflictOfInterestDeclaration).where(
            ConflictOfInterestDeclaration.user_id == user.id,
            ConflictOfInterestDeclaration.agency_id == agency_id,
            ConflictOfInterestDeclaration.period_start <= now.date(),
            sa.or_(
                ConflictOfInterestDeclaration.period_end.is_(None),
                ConflictOfInterestDeclaration.period_end >= horizon,
            ),
        )
    )
    for d in declarations:
        if d.period_end is None:
            reasons.append(
                _(
                    "%(name)s declared a %(relation)s tie with this agency that still lasts.",
                    name=user.name,
                    relation=RELATION_WORDS[d.relation],
                )
            )
        else:
            reasons.append(
                _(
                    "%(name)s declared a %(relation)s tie with this agency that ended on "
                    "%(end)s; the %(months)s-month cooling-off period runs until %(until)s.",
                    name=user.name,
                    relation=RELATION_WORDS[d.relation],
                    end=d.period_end.isoformat(),
                    months=months,
                    until=add_months(d.period_end, months).isoformat(),
                )
            )
    return reasons


def open_case_for(agency_id: int, *, exclude_id: int | None = None) -> CertificationCase | None:
    """The agency's case that is still running, if any."""
    query = sa.select(CertificationCase).where(
        CertificationCase.agency_id == agency_id,
        CertificationCase.state.not_in(CASE.terminal_states),
    )
    if exclude_id is not None:
        query = query.where(CertificationCase.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()
