"""Certificate: status words as in IAF CertSearch (DOMAIN.md §3.3).

Certificates are never deleted; withdrawn, expired, superseded and cancelled ones stay
visible in the registry with their dates.
"""

from enum import StrEnum

from workflows.base import N_, NEW, Lifecycle, Transition
from workflows.roles import Role


class CertificateState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


S = CertificateState
DECIDER = frozenset({Role.DECISION_MAKER})
SYSTEM = frozenset({Role.SYSTEM})

#: Why a certificate may be suspended (DOMAIN.md §3.3).
SUSPENSION_REASONS: tuple[str, ...] = (
    "unresolved_major_finding",
    "surveillance_refused_or_overdue",
    "substantiated_complaint",
    "misuse_of_mark",
    "voluntary",
)

REASON_LABELS: dict[str, str] = {
    "unresolved_major_finding": N_("Unresolved major finding"),
    "surveillance_refused_or_overdue": N_("Surveillance refused or overdue"),
    "substantiated_complaint": N_("Substantiated complaint"),
    "misuse_of_mark": N_("Misuse of the certification mark"),
    "voluntary": N_("Voluntary, at the agency's request"),
}

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "issue",
        (NEW,),
        S.ACTIVE,
        DECIDER,
        guards=("case_granted", "number_unique"),
        effects=("set_validity", "schedule_surveillance"),
        label=N_("Issue the certificate"),
        help=N_("Fired by the grant decision: number, issue, original-issue and expiry dates."),
    ),
    Transition(
        "suspend",
        (S.ACTIVE,),
        S.SUSPENDED,
        DECIDER,
        effects=("record_suspension",),
        reason_required=True,
        reason_codes=SUSPENSION_REASONS,
        label=N_("Suspend"),
        help=N_("At most for the configured suspension limit; then it is withdrawn."),
    ),
    Transition(
        "restore",
        (S.SUSPENDED,),
        S.ACTIVE,
        DECIDER,
        guards=("before_suspension_limit",),
        effects=("clear_suspension",),
        reason_required=True,
        label=N_("Restore: the cause is resolved"),
    ),
    Transition(
        "withdraw",
        (S.ACTIVE, S.SUSPENDED),
        S.WITHDRAWN,
        DECIDER,
        effects=("record_withdrawal",),
        reason_required=True,
        irreversible=True,
        label=N_("Withdraw"),
        help=N_("For a critical or severe breach. A withdrawn certificate cannot come back."),
    ),
    Transition(
        "withdraw_overdue_suspension",
        (S.SUSPENDED,),
        S.WITHDRAWN,
        SYSTEM,
        guards=("suspension_limit_passed",),
        effects=("record_withdrawal",),
        timer=True,
        irreversible=True,
        label=N_("Withdraw: suspension limit passed"),
    ),
    Transition(
        "expire",
        (S.ACTIVE,),
        S.EXPIRED,
        SYSTEM,
        guards=("expiry_passed",),
        timer=True,
        irreversible=True,
        label=N_("Expire: expiry date passed without recertification"),
    ),
    Transition(
        "supersede",
        (S.ACTIVE,),
        S.SUPERSEDED,
        DECIDER,
        guards=("replacement_issued",),
        effects=("record_replacement",),
        irreversible=True,
        label=N_("Supersede by the recertification's certificate"),
        help=N_("Fired by a recertification grant: the new certificate replaces this one."),
    ),
    Transition(
        "cancel",
        (S.ACTIVE, S.SUSPENDED, S.WITHDRAWN, S.EXPIRED, S.SUPERSEDED),
        S.CANCELLED,
        frozenset({Role.SCHEME_ADMIN}),
        reason_required=True,
        irreversible=True,
        label=N_("Cancel: issued in error"),
    ),
)

LIFECYCLE = Lifecycle(
    name="certificate",
    title=N_("Certificate"),
    states=CertificateState,
    transitions=TRANSITIONS,
    state_labels={
        S.ACTIVE: N_("Active"),
        S.SUSPENDED: N_("Suspended"),
        S.WITHDRAWN: N_("Withdrawn"),
        S.EXPIRED: N_("Expired"),
        S.SUPERSEDED: N_("Superseded"),
        S.CANCELLED: N_("Cancelled"),
    },
)
