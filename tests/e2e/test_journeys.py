"""The main journeys in a real browser (Chromium through Playwright), each key page
screenshotted and checked with axe-core. Every step is a click or a keystroke; only the
people and the starting objects are seeded (``tests/e2e/server.py``)."""

from __future__ import annotations

import io
import random
import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect
from pypdf import PdfWriter

from iris.core.db import utcnow
from iris.questionnaires import definition as d
from iris.questionnaires.demo import IRIS_12, good_answers

TODAY = utcnow().date()


def small_pdf() -> bytes:
    """A real one-page PDF (pypdf writes it), the kind of scan an agency uploads."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "KRAZ extract"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def pdf_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": small_pdf()}


def click_and_wait(page: Page, locator: Any) -> None:
    """Click what submits a form and wait for the page that answers it."""
    with page.expect_navigation():
        locator.click()


def main(page: Page) -> Any:
    return page.get_by_role("main")


# Journey 1 ---------------------------------------------------------------------------------
def field_name(key: str) -> str:
    return "a__" + key.replace(".", "__")


def fill_answer(page: Page, key: str, value: Any) -> bool:
    """Give ``value`` to the question ``key`` if it is on this page, the way a person would."""
    form = main(page).locator("form[method=post]").first
    name = field_name(key)
    if isinstance(value, list) and value and isinstance(value[0], dict):  # a table
        if form.locator(f"[name='{name}-0-{next(iter(value[0]))}']").count() == 0:
            return False
        for i, row in enumerate(value):
            for column, cell in row.items():
                if cell is not None:
                    put(form.locator(f"[name='{name}-{i}-{column}']"), cell)
        return True
    inputs = form.locator(f"[name='{name}']")
    if inputs.count() == 0:
        return False
    kind = inputs.first.get_attribute("type")
    if kind == "radio":
        form.locator(f"[name='{name}'][value='{value}']").check()
    elif kind == "checkbox":
        for item in value:
            form.locator(f"[name='{name}'][value='{item}']").check()
    else:
        put(inputs.first, value)
    return True


def put(field: Any, value: Any) -> None:
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(str(value))
    else:
        field.fill(str(value))


def test_agency_registers_and_applies_in_polish(journey: Any) -> None:
    server = journey.server
    email = "zofia.nowak@example.com"
    password = "a long enough secret"
    page = journey.person()

    # register
    page.goto("/")
    journey.shot(page, "landing")
    page.get_by_role("link", name="Register an agency").first.click()
    page.get_by_label("Your full name").fill("Zofia Nowak")
    page.get_by_label("Work e-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat the password").fill(password)
    page.get_by_label("Agency legal name").fill("Agencja Pracy Zofia Sp. z o.o.")
    page.get_by_label("Country of registration").select_option("PL")
    page.get_by_label("I confirm that I may act for this agency").check()
    journey.shot(page, "register")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    journey.shot(page, "check-email")

    # confirm the address with the link from the e-mail (the outbox)
    page.goto(server.link_in_mail(email, "Confirm your e-mail address"))
    expect(main(page)).to_contain_text(f"Confirm that {email} is your address")
    journey.shot(page, "confirm-email")
    main(page).get_by_role("button", name="Confirm my e-mail address").click()
    expect(main(page)).to_contain_text("your e-mail address is confirmed")

    # sign in; keyboard only: Tab reaches every field and the button, Enter submits
    expect(page.get_by_label("E-mail")).to_be_visible()
    journey.shot(page, "sign-in")
    check_keyboard_sign_in(page, email, password)
    expect(page.get_by_role("button", name="Zofia Nowak")).to_be_visible()

    # complete the profile
    page.get_by_role("link", name="Agency profile").first.click()
    expect(main(page)).to_contain_text("Profile completeness: 6 to do")
    journey.shot(page, "profile-incomplete")
    complete_profile(page, journey)
    expect(main(page)).to_contain_text("The profile is complete.")
    journey.shot(page, "profile-complete")

    # switch to Polish with the language switcher
    page.get_by_role("button", name="Language: English").click()
    page.get_by_role("button", name="Polski").click()
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("button", name="Język: Polski")).to_be_visible()

    page.get_by_role("navigation", name=re.compile("")).first.get_by_role(
        "link", name="Wnioski"
    ).click()
    main(page).get_by_role("button", name=re.compile("Rozpocznij wniosek dla")).click()
    expect(main(page)).to_contain_text("Wersja robocza wniosku jest gotowa")
    journey.shot(page, "application-draft")
    main(page).get_by_role("link", name="samoocena nie została rozpoczęta").click()
    main(page).get_by_role("button", name="Rozpocznij samoocenę").click()
    answer_questionnaire(page, journey)

    # submit
    main(page).get_by_role("button", name="Złóż do oceny").click()
    if "/transition/" in page.url:  # a confirmation step page
        journey.shot(page, "submit-confirm")
        main(page).get_by_role("button", name="Złóż do oceny").click()
    expect(main(page)).to_contain_text("Status: Złożono")
    journey.shot(page, "application-submitted")
    received = [s for s, _ in server.mail_to(email)]
    assert len(received) >= 2, received  # the confirmation, then the application's receipt
    state = server.scalar(
        "SELECT a.state FROM applications a JOIN organisations o ON o.id = a.agency_id "
        "WHERE o.name = :n",
        n="Agencja Pracy Zofia Sp. z o.o.",
    )
    assert state == "submitted"


def check_keyboard_sign_in(page: Page, email: str, password: str) -> None:
    """From the top of the sign-in page: the skip link first, then the form by Tab alone."""
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return [e.tagName, e.id || e.name || '',"
            " (e.innerText || e.value || '').trim()] }"
        )
        seen.append(focused)
        if focused[1] == "email":
            page.keyboard.type(email)
        elif focused[1] == "password":
            page.keyboard.type(password)
        elif focused[0] == "BUTTON" and focused[2] == "Sign in":
            break
    else:
        raise AssertionError(f"Tab never reached the sign-in button; focus went {seen}")
    ids = [f[1] for f in seen]
    assert ids.index("email") < ids.index("password"), seen
    page.keyboard.press("Enter")


def complete_profile(page: Page, journey: Any) -> None:
    m = main(page)
    m.get_by_role("link", name="Edit details").click()
    m.get_by_label("City").fill("Łódź")
    m.get_by_label("Street address").fill("ul. Piotrkowska 1")
    m.get_by_label("Postal code").fill("90-001")
    m.get_by_label("Sourcing of candidates").check()
    m.get_by_label("Placement with employers").check()
    journey.shot(page, "profile-details")
    m.get_by_role("button", name="Save the details").click()

    m.get_by_role("link", name="Add a number").click()
    m.get_by_label("Register").select_option("nip")
    m.get_by_label("Number").fill("1234563218")
    m.get_by_role("button", name="Save").click()

    m.get_by_role("link", name="Add a licence").click()
    m.get_by_label("Type of licence").fill("KRAZ")
    m.get_by_label("Licence number").fill("12345")
    m.get_by_label("Issued by").fill("Marszałek Województwa Łódzkiego")
    m.get_by_label("Valid from").fill((TODAY - timedelta(days=365)).isoformat())
    m.get_by_label("Valid until").fill((TODAY + timedelta(days=700)).isoformat())
    m.get_by_label("Licence document").set_input_files(pdf_file("kraz.pdf"))
    journey.shot(page, "profile-licence")
    m.get_by_role("button", name="Save").click()
    expect(m).to_contain_text("kraz.pdf")

    m.get_by_role("link", name="Add a site").click()
    m.get_by_label("Name of the site").fill("Biuro główne")
    m.get_by_label("Street address").fill("ul. Piotrkowska 1")
    m.get_by_label("City").fill("Łódź")
    m.get_by_role("button", name="Save").click()

    m.get_by_role("link", name="Add a corridor").click()
    m.get_by_label("Workers come from").select_option("UA")
    m.get_by_label("Workers go to").select_option("PL")
    m.get_by_label("Manufacturing").check()
    m.get_by_label("Workers placed per year").fill("40")
    m.get_by_role("button", name="Save").click()
    expect(m).to_contain_text("Ukraine → Poland")


def answer_questionnaire(page: Page, journey: Any) -> None:
    """Every section page in turn, with the answers of a well-run agency and a PDF wherever
    evidence is required."""
    definition = d.parse_definition(d.read_data(IRIS_12))
    answers = good_answers(random.Random(7), sub_agents=False)
    visible = d.visible_answers(definition, answers | {"M05": {"name": "Zofia Nowak"}})
    needs_evidence = {
        q.key
        for q in definition.questions.values()
        if q.key in visible and q.evidence and q.evidence.required_for(visible)
    }
    assert needs_evidence, "the questionnaire asks for no evidence at all"
    uploaded: list[str] = []
    for section in definition.sections:
        expect(page.get_by_role("heading", level=1)).to_contain_text(section.code + ".")
        for attempt in range(4):  # an answer can open further questions on the same page
            filled = [key for key, value in answers.items() if fill_answer(page, key, value)]
            assert filled or section.code == "M", f"no answer given on section {section.code}"
            for key in sorted(needs_evidence - set(uploaded)):
                upload = main(page).locator(f"[name='ev__{key}__file']")
                if upload.count():
                    upload.set_input_files(pdf_file(f"{key}.pdf"))
                    uploaded.append(key)
            if section.code == "M":
                main(page).locator("[name='a__M05']").fill("Zofia Nowak")
                main(page).locator("[name='sig__M05']").check()
            if section.code in {"A", "M"} and attempt == 0:
                journey.shot(page, f"questionnaire-{section.code}")
            click_and_wait(page, main(page).get_by_role("button", name="Zapisz i kontynuuj"))
            expect(main(page).get_by_text("Zapisano.")).to_be_visible()
            if not main(page).get_by_text("otworzyły kolejne pytania").count():
                break
        else:
            raise AssertionError(f"section {section.code} kept asking for more")
    assert set(uploaded) == needs_evidence
    journey.shot(page, "questionnaire-done")
    # back to the application
    page.get_by_role("link", name="Wnioski").first.click()
    main(page).get_by_role("link", name="Otwórz").first.click()
    journey.shot(page, "application-ready")


# Journey 3 ---------------------------------------------------------------------------------
def certificate_pdf_facts(pdf: bytes) -> tuple[str, list[list[bool]], str]:
    """From the PDF: the verify URL in its signed credential, the dark modules of its QR
    code (drawn as vector rectangles, one filled path: read back from the page's content
    stream), and its text."""
    import base64
    import json

    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    [(name, [jws])] = reader.attachments.items()
    assert name.endswith(".jws")
    body = jws.decode().split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    # the filled paths of the page: the QR code is the one with the most rectangles
    paths: list[list[tuple[float, ...]]] = []
    current: list[tuple[float, ...]] = []
    for page in reader.pages:
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"re":
                current.append(tuple(float(v) for v in operands))
            elif operator in (b"f", b"f*", b"B", b"b", b"S", b"n"):
                paths.append(current)
                current = []
    rects = max(paths, key=len)
    assert len(rects) > 50, f"no QR code among the page's paths ({[len(p) for p in paths]})"
    module = min(abs(h) for *_, h in rects)
    left = min(x for x, *_ in rects)
    top = max(max(y, y + h) for _, y, _, h in rects)  # PDF space: y grows upwards
    right = max(x + w for x, _, w, _ in rects)
    size = round((right - left) / module)
    modules = [[False] * size for _ in range(size)]
    for x, y, w, h in rects:
        row = round((top - max(y, y + h)) / module)
        for col in range(round((x - left) / module), round((x + w - left) / module)):
            modules[row][col] = True
    text = " ".join(page.extract_text() for page in reader.pages)
    return payload["verify_url"], modules, text


def test_employer_verifies_then_sees_the_suspension(journey: Any) -> None:
    import segno

    server = journey.server
    number = server.facts["certificate3"]
    name = server.facts["agency3"]

    # an employer, without an account, searches the registry without Polish letters
    employer = journey.person()
    employer.goto("/")
    employer.get_by_role("contentinfo").get_by_role("link", name="Verify a certificate").click()
    expect(
        employer.get_by_role("heading", name="Public registry of IRIS certificates")
    ).to_be_visible()
    employer.get_by_label("Name or number").fill("Lodz")
    click_and_wait(employer, main(employer).get_by_role("button", name="Search"))
    row = main(employer).get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Active")
    journey.shot(employer, "registry-search")
    row.get_by_role("link", name=number).click()
    expect(employer.get_by_role("heading", name=f"Certificate {number}")).to_be_visible()
    expect(main(employer)).to_contain_text(name)
    expect(main(employer)).to_contain_text("Active")
    journey.shot(employer, "certificate-active")

    # the agency hands over its certificate PDF; its QR code carries the verify URL
    holder = journey.person(server.email("agency3"))
    response = holder.request.get(f"/certificates/{number}.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    verify_url, modules, text = certificate_pdf_facts(response.body())
    assert verify_url == f"{server.url}/verify/{number}"
    expected = [
        [bool(v) for v in row] for row in segno.make(verify_url, error="m", micro=False).matrix
    ]
    assert modules == expected, "the QR code in the PDF does not encode the verify URL"
    assert number in text

    # the decision maker suspends it
    decider = journey.person(server.email("decider"))
    public_id = server.scalar("SELECT public_id FROM certificates WHERE number = :n", n=number)
    decider.goto(f"/certificate/{public_id}")
    expect(main(decider)).to_contain_text("Status: Active")
    decider.get_by_label("Reason").select_option("substantiated_complaint")
    decider.get_by_label("Details").fill("Workers paid for their medical checks (complaint C-17).")
    journey.shot(decider, "suspend")
    click_and_wait(decider, main(decider).get_by_role("button", name="Suspend"))
    expect(main(decider)).to_contain_text("Status: Suspended")

    # the employer follows the QR code's URL and sees it suspended
    employer.goto(verify_url)
    expect(employer.get_by_role("heading", name=f"Certificate {number}")).to_be_visible()
    expect(main(employer)).to_contain_text(
        "This certificate is suspended: the agency is not certified while the suspension lasts."
    )
    journey.shot(employer, "certificate-suspended")
    employer.goto("/registry?q=Lodz")
    expect(main(employer).get_by_role("row").filter(has_text=name)).to_contain_text("Suspended")


# Journey 2 ---------------------------------------------------------------------------------
def send(page: Page, action: str, values: dict[str, Any] | None = None) -> None:
    """Fill the form on this page whose action ends with ``action`` and press its button."""
    form = main(page).locator(f"form[action$='{action}']").first
    if not form.count():  # a form that posts back to its own page
        form = main(page).locator("form[method=post]:not([action]), form[action='']").first
    expect(form).to_be_visible()
    for name, value in (values or {}).items():
        field = form.locator(f"[name='{name}']")
        kind = field.first.get_attribute("type")
        if kind in {"checkbox", "radio"}:
            for item in value if isinstance(value, list) else [value]:
                form.locator(f"[name='{name}'][value='{item}']").check()
        else:
            put(field.first, value)
    click_and_wait(page, form.locator("[type=submit]").last)


def test_audit_to_grant(journey: Any) -> None:
    server = journey.server
    agency = server.facts["agency2"]

    # the scheme manager's reviewer accepts the application
    reviewer = journey.person(server.email("reviewer"))
    reviewer.get_by_role("link", name="Applications").first.click()
    main(reviewer).get_by_role("row").filter(has_text=agency).get_by_role("link").first.click()
    main(reviewer).get_by_role("button", name="Start the review").click()
    expect(main(reviewer)).to_contain_text("Status: Under review")
    main(reviewer).get_by_role("link", name="Accept…").click()
    for box in main(reviewer).get_by_role("checkbox").all():
        box.check()
    journey.shot(reviewer, "accept-application")
    main(reviewer).get_by_role("button", name="Accept").click()
    expect(main(reviewer)).to_contain_text("Status: Accepted")

    # the agency chooses its audit company
    admin = journey.person(server.email("agency2"))
    admin.get_by_role("link", name="Applications").first.click()
    main(admin).get_by_role("row").filter(has_text=agency).get_by_role("link").first.click()
    main(admin).get_by_label("Audit company", exact=True).select_option(
        label="Certa E2E Audit Sp. z o.o. (PL)"
    )
    main(admin).get_by_role("button", name="Open the certification case").click()
    expect(main(admin)).to_contain_text("Status: Team pending")
    case_url = admin.url
    case_id = case_url.rstrip("/").rsplit("/", 1)[1]
    audit = f"/audit/cases/{case_id}"

    # the planner assigns the team
    planner = journey.person(server.email("planner"))
    planner.goto("/audit/cases")
    main(planner).get_by_role("link", name=agency).first.click()
    main(planner).get_by_label("Lead auditor").select_option(label="Leon Lead")
    main(planner).get_by_label("Ada Auditor").check()
    journey.shot(planner, "assign-team")
    main(planner).get_by_role("button", name="Assign the team").click()
    expect(main(planner)).to_contain_text("The audit team is assigned.")

    # each auditor confirms the conflict-of-interest declaration before seeing the case
    lead = journey.person(server.email("lead"))
    auditor = journey.person(server.email("auditor"))
    for person in (auditor, lead):
        person.goto("/audit/cases")
        main(person).get_by_role("link", name=agency).first.click()
        expect(
            person.get_by_role("heading", name="Conflict-of-interest declaration")
        ).to_be_visible()
        if person is lead:
            journey.shot(person, "declaration")
        main(person).get_by_label("I have had no consultancy").check()
        click_and_wait(person, main(person).get_by_role("button", name="Confirm"))
    expect(main(lead)).to_contain_text("Audit planned")

    # stage 1: every criterion assessed, a finding raised
    send(lead, "/steps/start_stage1")
    journey.shot(lead, "workspace-stage1")
    criteria = sorted(
        {
            href
            for href in main(lead)
            .locator("a[href*='/criteria/']")
            .evaluate_all("links => links.map(a => a.getAttribute('href'))")
        }
    )
    assert criteria, "no criterion to assess on the workspace"
    for i, href in enumerate(criteria):
        lead.goto(href)
        if i == 0:
            journey.shot(lead, "criterion")
        send(lead, href, {"rating": "conforming", "notes": "Policy and records checked."})
    lead.goto(f"{audit}/findings/new")
    journey.shot(lead, "finding-form")
    send(
        lead,
        "/findings/new",
        {
            "grade": "minor",
            "criterion": "E.1",
            "statement": "One contract handed over after departure",
            "evidence": "Interview W-2; contract register",
        },
    )
    lead.goto(audit)
    send(lead, "/stage1", {"outcome": "ready", "notes": "Policies in place."})
    expect(main(lead)).to_contain_text("Stage 2")

    # stage 2: a site visit and the sample of worker interviews
    lead.goto(f"{audit}/visits")
    site = (
        main(lead)
        .locator("[name='site']")
        .evaluate("s => Array.from(s.options).map(o => o.value).filter(Boolean)[0]")
    )
    send(lead, "/visits", {"site": site, "visited_on": TODAY.isoformat(), "notes": "Head office"})
    for n in range(3):
        lead.goto(f"{audit}/interviews/new")
        if n == 0:
            journey.shot(lead, "interview-form")
        send(
            lead,
            "/interviews/new",
            {
                "conducted_on": TODAY.isoformat(), "language": "uk", "channel": "in_person",
                "contract_timing": "before_departure", "contract_language": "uk",
                "contract_in_own_language": "y", "knows_grievance": "y",
                "notes": f"Worker {n + 1}, welder.",
            },
        )  # fmt: skip
    lead.goto(audit)
    send(lead, "/steps/issue_findings")
    expect(main(lead)).to_contain_text("Findings issued")

    # the agency answers the finding with a corrective action
    admin.goto(audit)
    finding = main(admin).locator("a[href*='/corrective-action']").first
    finding.click()
    journey.shot(admin, "corrective-action")
    send(
        admin,
        "/corrective-action",
        {
            "correction": "Contract re-issued before departure",
            "root_cause": "No check of the hand-over date",
            "action": "Checklist signed by the worker before departure",
            "owner": "Director",
            "target_date": (TODAY + timedelta(days=30)).isoformat(),
        },
    )
    admin.goto(audit)
    send(admin, "/steps/submit_cap")
    expect(main(admin)).to_contain_text("submitted")

    # the lead auditor accepts it and recommends the grant
    lead.goto(audit)
    main(lead).locator("a[href*='/review']").first.click()
    journey.shot(lead, "review-corrective-action")
    send(lead, "/review", {"decision": "accept", "comment": "Checklist seen."})
    lead.goto(audit)
    send(lead, "/steps/recommend", {"recommendation": "grant", "reason": "Conforms after CAP."})
    expect(main(lead)).to_contain_text("Recommended")

    # technical review, then the decision, by people outside the team
    tech = journey.person(server.email("tech"))
    tech.goto(audit)
    journey.shot(tech, "technical-review")
    send(tech, "/steps/review")
    decider = journey.person(server.email("decider"))
    decider.goto(audit)
    journey.shot(decider, "decision")
    send(decider, "/steps/grant")
    expect(main(decider)).to_contain_text("Certified")
    journey.shot(decider, "certified")
    assert (
        server.scalar(
            "SELECT count(*) FROM certificates c JOIN organisations o ON o.id = c.agency_id "
            "WHERE o.name = :n",
            n=agency,
        )
        == 1
    )
