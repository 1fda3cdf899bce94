"""Every lifecycle, by name: the one list the engine, the UI and the tests iterate."""

from workflows import appeal, application, certificate, certification, complaint
from workflows.base import Lifecycle

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
