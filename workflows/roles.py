"""The roles of DOMAIN.md section 2, as data."""

from enum import StrEnum


class Role(StrEnum):
    # recruitment agency
    AGENCY_ADMIN = "agency_admin"
    AGENCY_MEMBER = "agency_member"
    # scheme manager
    APPLICATION_REVIEWER = "application_reviewer"
    SCHEME_ADMIN = "scheme_admin"
    # audit company
    PLANNER = "planner"
    LEAD_AUDITOR = "lead_auditor"
    AUDITOR = "auditor"
    TECHNICAL_REVIEWER = "technical_reviewer"
    DECISION_MAKER = "decision_maker"
    # no account
    PUBLIC = "public"
    # time-based transitions fired by `flask iris tick`
    SYSTEM = "system"


class OrgKind(StrEnum):
    AGENCY = "agency"
    AUDIT_COMPANY = "audit_company"
    SCHEME_MANAGER = "scheme_manager"


#: Which roles a membership in each kind of organisation may carry.
ROLES_BY_ORG_KIND: dict[OrgKind, tuple[Role, ...]] = {
    OrgKind.AGENCY: (Role.AGENCY_ADMIN, Role.AGENCY_MEMBER),
    OrgKind.SCHEME_MANAGER: (Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN),
    OrgKind.AUDIT_COMPANY: (
        Role.PLANNER,
        Role.LEAD_AUDITOR,
        Role.AUDITOR,
        Role.TECHNICAL_REVIEWER,
        Role.DECISION_MAKER,
    ),
}
