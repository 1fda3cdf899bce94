"""Who may see and change self-assessments and evidence.

``can_view_evidence(user, doc)`` is the one check behind every evidence download. Agency
members see their agency's documents; anyone who may see an application whose
self-assessment links the document sees it too (the scheme manager's reviewers now; the
audit feature's ``Application.can_view`` or a registered check adds assigned auditors).
Other features extend it with :func:`register_evidence_viewer` instead of editing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflows.roles import Role

AGENCY_ROLES = frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER})

#: Extra checks ``(user, document) -> bool``; any True grants access.
EVIDENCE_VIEWERS: list[Callable[[Any, Any], bool]] = []


def register_evidence_viewer(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    if check not in EVIDENCE_VIEWERS:
        EVIDENCE_VIEWERS.append(check)
    return check


def is_agency_member(user: Any, agency_id: int) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.roles_in(agency_id) & AGENCY_ROLES
    )


def can_view_response(user: Any, response: Any) -> bool:
    return is_agency_member(user, response.agency_id) or bool(response.application.can_view(user))


def can_edit_response(user: Any, response: Any) -> bool:
    from iris.questionnaires.operations import is_editable

    return is_agency_member(user, response.agency_id) and is_editable(response)


def can_view_evidence(user: Any, doc: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_agency_member(user, doc.agency_id):
        return True
    if any(link.response.application.can_view(user) for link in doc.links):
        return True
    return any(check(user, doc) for check in EVIDENCE_VIEWERS)
