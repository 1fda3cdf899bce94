"""Appeal: against a rejection, a refusal, a suspension, a withdrawal or a finding's grade
(DOMAIN.md §3.4). A pending appeal does not change the certificate's status.
"""

from enum import StrEnum

from workflows.base import N_, NEW, Lifecycle, Transition
from workflows.roles import Role


class AppealState(StrEnum):
    LODGED = "lodged"
    PANEL_ASSIGNED = "panel_assigned"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    CLOSED = "closed"


class AppealAgainst(StrEnum):
    REJECTION = "rejection"
    REFUSAL = "refusal"
    SUSPENSION = "suspension"
    WITHDRAWAL = "withdrawal"
    FINDING_GRADE = "finding_grade"


S = AppealState
SCHEME = frozenset({Role.SCHEME_ADMIN})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "lodge",
        (NEW,),
        S.LODGED,
        frozenset({Role.AGENCY_ADMIN}),
        guards=("decision_appealable", "within_appeal_window"),
        reason_required=True,
        label=N_("Lodge an appeal"),
        help=N_(
            "Say why the decision should change; the appeal window is counted from the decision."
        ),
    ),
    Transition(
        "assign_panel",
        (S.LODGED,),
        S.PANEL_ASSIGNED,
        SCHEME,
        guards=("panel_named", "panel_independent"),
        effects=("record_panel",),
        fields=("panel",),
        label=N_("Assign the appeal panel"),
        help=N_("Nobody involved in the original decision may sit on the panel."),
    ),
    Transition(
        "uphold",
        (S.PANEL_ASSIGNED,),
        S.UPHELD,
        SCHEME,
        guards=("actor_on_panel",),
        reason_required=True,
        irreversible=True,
        label=N_("Uphold the appeal"),
    ),
    Transition(
        "dismiss",
        (S.PANEL_ASSIGNED,),
        S.DISMISSED,
        SCHEME,
        guards=("actor_on_panel",),
        reason_required=True,
        irreversible=True,
        label=N_("Dismiss the appeal"),
    ),
    Transition(
        "close",
        (S.UPHELD, S.DISMISSED),
        S.CLOSED,
        SCHEME,
        effects=("inform_appellant",),
        label=N_("Close and inform the agency"),
    ),
)

LIFECYCLE = Lifecycle(
    name="appeal",
    title=N_("Appeal"),
    states=AppealState,
    transitions=TRANSITIONS,
    state_labels={
        S.LODGED: N_("Lodged"),
        S.PANEL_ASSIGNED: N_("Panel assigned"),
        S.UPHELD: N_("Upheld"),
        S.DISMISSED: N_("Dismissed"),
        S.CLOSED: N_("Closed"),
    },
)
