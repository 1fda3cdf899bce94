"""Complaints (anyone, anonymous allowed) and appeals (an agency against a decision)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation, User
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column
from iris.core.workflow import WorkflowSubject
from workflows.appeal import AppealAgainst, AppealState
from workflows.complaint import ComplaintAbout, ComplaintState
from workflows.roles import Role

SCHEME_ROLES = (Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER)
COMPANY_HANDLERS = (Role.PLANNER, Role.DECISION_MAKER)


def new_reference() -> str:
    """A short reference a complainant can quote (not guessable, not sequential)."""
    return "C-" + secrets.token_hex(5).upper()


class Complaint(WorkflowSubject, PublicIdMixin, TimestampMixin, db.Model):
    """A complaint. The complainant's identity (name, contact) is seen only by the investigator
    and is never written into a transition record."""

    __tablename__ = "complaints"
    __workflow__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True, default=new_reference)
    state: Mapped[ComplaintState] = mapped_column(
        enum_column(ComplaintState, name="complaint_state"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    about: Mapped[ComplaintAbout | None] = mapped_column(
        enum_column(ComplaintAbout, name="complaint_about")
    )
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    audit_company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    channel: Mapped[str] = mapped_column(sa.String(20), default="web")
    complainant_name: Mapped[str | None] = mapped_column(sa.String(200))
    complainant_contact: Mapped[str | None] = mapped_column(sa.String(320))
    acknowledgement_due_at: Mapped[datetime | None]
    #: the audit company that handles it after triage (else the scheme manager does)
    handler_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    investigator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the special short-notice audit opened from this complaint, if any
    special_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certification_cases.id"))

    agency: Mapped[Organisation | None] = relationship(foreign_keys=[agency_id])
    audit_company: Mapped[Organisation | None] = relationship(foreign_keys=[audit_company_id])
    investigator: Mapped[User | None] = relationship(foreign_keys=[investigator_id])
    certificate: Mapped[Any] = relationship("Certificate", foreign_keys=[certificate_id])
    special_case: Mapped[Any] = relationship("CertificationCase", foreign_keys=[special_case_id])

    __mapper_args__ = {"version_id_col": version}

    def actor_roles(self, user: Any) -> set[Role]:
        roles = {Role.PUBLIC}
        roles |= {r for r in SCHEME_ROLES if user.has_role(r)}
        if self.handler_org_id is not None:
            roles |= user.roles_in(self.handler_org_id) & set(COMPANY_HANDLERS)
        return roles

    def can_see_complainant(self, user: Any) -> bool:
        return user.is_authenticated and user.id == self.investigator_id


class Appeal(WorkflowSubject, PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "appeals"
    __workflow__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[AppealState] = mapped_column(
        enum_column(AppealState, name="appeal_state"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    against: Mapped[AppealAgainst] = mapped_column(
        enum_column(AppealAgainst, name="appeal_against")
    )
    #: exactly one of these names the decision appealed against
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id"))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certification_cases.id"))
    certificate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificates.id"))
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"))
    #: the panel's members' user ids (nobody involved in the original decision)
    panel: Mapped[list[int]] = mapped_column(sa.JSON, default=list)

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    application: Mapped[Any] = relationship("Application")
    case: Mapped[Any] = relationship("CertificationCase")
    certificate: Mapped[Any] = relationship("Certificate")
    finding: Mapped[Any] = relationship("Finding")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            " + ".join(
                f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)"
                for c in ("application_id", "case_id", "certificate_id", "finding_id")
            )
            + " = 1",
            name="one_decision",
        ),
    )

    def actor_roles(self, user: Any) -> set[Role]:
        roles = user.roles_in(self.agency_id) & {Role.AGENCY_ADMIN, Role.AGENCY_MEMBER}
        if user.has_role(Role.SCHEME_ADMIN):
            roles.add(Role.SCHEME_ADMIN)
        return roles
