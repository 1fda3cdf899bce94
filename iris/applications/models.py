"""An agency's application for certification, screened by the scheme manager."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from iris.accounts.models import Organisation, User
from iris.core.db import PublicIdMixin, TimestampMixin, db, enum_column
from iris.core.workflow import WorkflowSubject
from workflows.application import ApplicationState
from workflows.roles import Role

#: The roles of the scheme manager that see every application.
SCHEME_ROLES = (Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN)
AGENCY_ROLES = (Role.AGENCY_ADMIN, Role.AGENCY_MEMBER)


class Application(WorkflowSubject, PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "applications"
    __workflow__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    state: Mapped[ApplicationState] = mapped_column(
        enum_column(ApplicationState, name="application_state"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    submitted_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    review_due_at: Mapped[datetime | None]
    #: the items the reviewer asked for on deferral: [{"text": ..., "answer": ...}]
    requested_items: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    deferral_due_at: Mapped[datetime | None] = mapped_column(index=True)
    rejection_reason_code: Mapped[str | None] = mapped_column(sa.String(60))
    decided_at: Mapped[datetime | None]
    appeal_due_at: Mapped[datetime | None]

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            "state != 'deferred' OR deferral_due_at IS NOT NULL", name="deferred_has_due_date"
        ),
    )

    def actor_roles(self, user: Any) -> set[Role]:
        roles = user.roles_in(self.agency_id) & set(AGENCY_ROLES)
        roles |= {r for r in SCHEME_ROLES if user.has_role(r)}
        return roles

    @property
    def open_items(self) -> list[dict[str, Any]]:
        return [i for i in self.requested_items if not (i.get("answer") or "").strip()]

    def __repr__(self) -> str:
        return f"<Application {self.public_id} {self.state}>"
