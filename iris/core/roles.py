"""How roles read to people."""

from flask_babel import lazy_gettext as _l

from workflows.roles import Role

ROLE_LABELS = {
    Role.AGENCY_ADMIN: _l("Agency administrator"),
    Role.AGENCY_MEMBER: _l("Agency member"),
    Role.APPLICATION_REVIEWER: _l("Application reviewer"),
    Role.SCHEME_ADMIN: _l("Scheme administrator"),
    Role.PLANNER: _l("Planner"),
    Role.LEAD_AUDITOR: _l("Lead auditor"),
    Role.AUDITOR: _l("Auditor"),
    Role.TECHNICAL_REVIEWER: _l("Technical reviewer"),
    Role.DECISION_MAKER: _l("Decision maker"),
    Role.PUBLIC: _l("Public"),
    Role.SYSTEM: _l("System"),
}


def role_label(role: Role | str) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)
