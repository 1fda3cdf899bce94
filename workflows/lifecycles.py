"""Every lifecycle, by name: the one list the engine, the UI and the tests iterate."""

from workflows import appeal, application, certificate, certification, complaint
from workflows.base import Lifecycle

#: Words for every reason code of every controlled list.
REASON_LABELS: dict[str, str] = {
    **application.REASON_LABELS,
    **certificate.REASON_LABELS,
    **complaint.REASON_LABELS,
}

LIFECYCLES: dict[str, Lifecycle] = {
    lc.name: lc
    for lc in (
        application.LIFECYCLE,
        certification.LIFECYCLE,
        certificate.LIFECYCLE,
        complaint.LIFECYCLE,
        appeal.LIFECYCLE,
    )
}
