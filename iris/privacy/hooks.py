"""One-line calls for other features' views that show restricted personal data.

Each logs the view for the signed-in user and the current endpoint; the calling view then
commits, so the data is never served without its entry (a failed commit fails the request).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user

from iris.privacy import operations as ops
from iris.privacy.models import SubjectKind


def interviews_viewed(case: Any, interviews: Any) -> None:
    """The worker interviews of ``case`` were shown (a list page)."""
    ops.record_view(
        SubjectKind.WORKER_INTERVIEWS, case, actor=current_user, endpoint=str(request.endpoint),
        details={"interviews": [i.code for i in interviews]},
    )  # fmt: skip


def evidence_viewed(document: Any) -> None:
    """An evidence document was downloaded; logged when it is restricted personal data."""
    if ops.is_restricted_document(document):
        ops.record_view(
            SubjectKind.RESTRICTED_EVIDENCE, document, actor=current_user,
            endpoint=str(request.endpoint),
        )  # fmt: skip


def complainant_viewed(complaint: Any) -> None:
    """A complaint page showed who complained (to its investigator); logged when it names
    someone (anonymous complaints hold no personal data)."""
    if complaint.complainant_name or complaint.complainant_contact:
        ops.record_view(
            SubjectKind.COMPLAINANT_IDENTITY, complaint, actor=current_user,
            endpoint=str(request.endpoint),
        )  # fmt: skip
