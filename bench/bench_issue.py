"""Benchmark: issuing a certificate (signing, PDF, storage) against a minimal WeasyPrint page.

In one process and one run, interleaved so that the machine's noise hits all alike:

1. baseline "minimal": WeasyPrint rendering a minimal one-page document (a paragraph of
   text with the packaged font, through the same restricted fetcher and shared
   FontConfiguration);
2. the issue's measure, "signing + PDF + storage": the Ed25519 JWS over a certificate's
   facts, the bilingual PDF with its QR code and attached credential
   (``render_certificate``), and the file store write (sha256, write, fsync) — what
   ``sign_certificate`` does, on the facts of a certificate issued in this run, with a
   number of its own each round so that every PDF is new to the store;
3. for information, the certificate PDF alone (``render_certificate`` on fixed facts);
4. for information, the whole issuance committed: ``issue_certificate`` for a certified
   case — counter row, the ``issue`` step through the workflow engine, facts from the
   database, signing, PDF, file store, the registry entry — then commit.

Medians and the ratios to the minimal page are printed. Target (issue 6): signing + PDF +
storage within 2x of the minimal page.

    .venv/bin/python bench/bench_issue.py [--rounds 15] [--clock wall|cpu]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MINIMAL = (
    "<html><head><style>@font-face { font-family: S; "
    'src: url("iris-asset:fonts/NotoSans-Regular.ttf"); } body { font-family: S; }'
    "</style></head><body><p>Zażółć gęślą jaźń. Ґанок.</p></body></html>"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: elapsed time; cpu: this process's CPU time (steadier on a loaded machine)",
    )
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    work = Path(tempfile.mkdtemp(prefix="bench-issue-"))
    os.environ.setdefault("IRIS_SECRET_KEY", "bench")

    from iris import create_app
    from iris.accounts.models import Organisation
    from iris.applications.models import Application
    from iris.audits.models import CertificationCase
    from iris.certificates.document import render_certificate
    from iris.certificates.operations import CREDENTIAL_TYPE, issue_certificate
    from iris.core import storage
    from iris.core.db import db, utcnow
    from iris.core.pdf import render_pdf
    from iris.core.signing import signing_ring_for_app
    from workflows.application import ApplicationState
    from workflows.certification import CaseState
    from workflows.roles import OrgKind, Role

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'issue.db'}",
            "IRIS_SIGNING_KEY_DIR": str(work / "keys"),
            "IRIS_STORAGE_DIR": str(work / "files"),
            "IRIS_SIGNING_AUTOGENERATE": True,
        }
    )
    with app.app_context():
        db.create_all()
        agency = Organisation(
            kind=OrgKind.AGENCY, name="Agencja Pracy „Żółw” Sp. z o.o.", country="PL", city="Łódź"
        )
        company = Organisation(
            kind=OrgKind.AUDIT_COMPANY,
            name="Certa Audit Polska Sp. z o.o.",
            country="PL",
            city="Kraków",
        )
        db.session.add_all([agency, company])
        db.session.commit()

        from iris.accounts.models import User

        decider = User(email="decider@bench.invalid", name="Dora Decider", password_hash=None)
        db.session.add(decider)
        db.session.commit()

        def new_case() -> CertificationCase:
            application = Application(agency_id=agency.id, state=ApplicationState.ACCEPTED)
            db.session.add(application)
            db.session.flush()
            case = CertificationCase(
                agency_id=agency.id, audit_company_id=company.id,
                application_id=application.id, state=CaseState.CERTIFIED,
            )  # fmt: skip
            db.session.add(case)
            db.session.commit()
            return case

        from iris.certificates.models import Certificate

        # The decision maker's role is checked by the engine: act as one.
        Certificate.actor_roles = lambda self, user: {Role.DECISION_MAKER}  # type: ignore[method-assign]

        def issue() -> float:
            case = new_case()
            started = clock()
            issue_certificate(case, actor=decider, now=utcnow())
            db.session.commit()
            return clock() - started

        facts = None

        def certificate_pdf() -> float:
            started = clock()
            render_certificate(facts, credential)
            return clock() - started

        def signed_pdf_stored(round_: int) -> float:
            number = f"IRIS-PL-2025-{900000 + round_:06d}0"
            payload = dict(
                facts,
                number=number,
                verify_url=facts["verify_url"].rsplit("/", 1)[0] + "/" + number,
            )
            started = clock()
            ring = signing_ring_for_app()
            signed = ring.sign(payload, typ=CREDENTIAL_TYPE)
            storage.put_bytes(render_certificate(payload, signed, language="pl"))
            return clock() - started

        def minimal() -> float:
            started = clock()
            render_pdf(MINIMAL)
            return clock() - started

        issue()  # warm up: imports, fonts, key ring
        minimal()
        cert = db.session.scalars(db.select(Certificate)).first()
        facts, credential = cert.facts, cert.credential
        certificate_pdf()
        signed_pdf_stored(0)
        times: dict[str, list[float]] = {"issue": [], "minimal": [], "pdf": [], "signed": []}
        for round_ in range(1, args.rounds + 1):
            times["minimal"].append(minimal())
            times["signed"].append(signed_pdf_stored(round_))
            times["pdf"].append(certificate_pdf())
            times["issue"].append(issue())
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"minimal one-page PDF        {med['minimal'] * 1000:7.1f} ms (median of {args.rounds})"
        )
        print(f"signing + PDF + storage     {med['signed'] * 1000:7.1f} ms")
        print(f"certificate PDF alone       {med['pdf'] * 1000:7.1f} ms")
        print(
            f"issuance, committed         {med['issue'] * 1000:7.1f} ms"
            f"  = {1 / med['issue']:.1f} certificates/s"
        )
        print(
            f"ratio signing+PDF+storage / minimal: {med['signed'] / med['minimal']:.2f}"
            f" (target <= 2; clock: {args.clock})"
        )
        print(
            f"ratio issuance committed / minimal:  {med['issue'] / med['minimal']:.2f} (information)"
        )


if __name__ == "__main__":
    main()
