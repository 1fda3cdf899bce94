"""Browser tests: Playwright driving Debian's Chromium against a real server.

- ``chromium``: the system's Chromium (``/usr/bin/chromium`` or ``chromium`` on PATH). When
  it is missing and the run may install system packages (root, ``apt-get`` present, and
  ``CI`` or ``IRIS_E2E_INSTALL`` set), it is installed with ``apt-get install -y chromium``;
  otherwise every browser test is skipped with a message saying how to run them. Playwright's
  own browser download (``playwright install``) is never used.
- ``server``: the app in a subprocess (``tests/e2e/server.py``) on a free port, with its own
  SQLite file in a temporary directory of this test run (one per xdist worker), seeded with
  the people and objects the journeys start from. It never shares the rest of the suite's
  database, which runs each test in a rolled-back transaction.
- ``journey``: a page in a fresh browser context per person, screenshots of the key pages under
  ``test-artifacts/e2e/<journey>/NN-name.png``, and an axe-core check of every such page
  that fails on serious or critical violations.

No fixed waits anywhere: Playwright's ``expect`` waits for what the user would see.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
HOW_TO_RUN = (
    "the browser tests need Debian's Chromium: install it with `sudo apt-get install chromium` "
    "(or run them with CI=true or IRIS_E2E_INSTALL=1 as root, which installs it), then run "
    "`python3 dev.py test tests/e2e`"
)
CANDIDATES = ("/usr/bin/chromium",)
SERVER_START_SECONDS = 90
#: Impact levels of axe-core that fail a test.
FAILING_IMPACTS = {"serious", "critical"}


def find_chromium() -> str | None:
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def _may_install() -> bool:
    wanted = bool(os.environ.get("CI") or os.environ.get("IRIS_E2E_INSTALL"))
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return wanted and is_root and shutil.which("apt-get") is not None


def _say(message: str) -> None:
    print(f"[e2e] {message}", file=sys.stderr, flush=True)


def install_chromium() -> None:
    """Debian's package, through the system package manager (never a browser download)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    _say("Chromium is missing; installing it: " + " ".join(command))
    if subprocess.run(command, env=env, check=False).returncode != 0:
        _say("apt-get install failed; refreshing the package lists (apt-get update) and retrying")
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(command, env=env, check=True)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None and _may_install():
        install_chromium()
        path = find_chromium()
    if path is None:
        pytest.skip(HOW_TO_RUN)
    return path


# The server --------------------------------------------------------------------------------
@dataclass
class Server:
    url: str
    directory: Path
    facts: dict[str, Any]
    engine: sa.Engine = field(repr=False)

    @property
    def password(self) -> str:
        return str(self.facts["password"])

    def email(self, key: str) -> str:
        return str(self.facts["people"][key])

    def mail_to(self, address: str) -> list[tuple[str, str]]:
        """(subject, body) of every message in the outbox to ``address``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT subject, body FROM outbox_messages WHERE to_address = :to ORDER BY id"
                ),
                {"to": address},
            ).all()
        return [(r[0], r[1]) for r in rows]

    def link_in_mail(self, address: str, subject_part: str = "") -> str:
        for subject, body in reversed(self.mail_to(address)):
            if subject_part in subject:
                match = re.search(re.escape(self.url) + r"/\S+", body)
                assert match, f"no link to {self.url} in the mail {subject!r}:\n{body}"
                return match.group(0)
        raise AssertionError(f"no mail to {address} about {subject_part!r} in the outbox")

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()


def _read_first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return line[0] if line else ""


@pytest.fixture(scope="session")
def server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("e2e-server")  # unique per run and xdist worker
    log = (directory / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.server", str(directory)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = _read_first_line(proc, SERVER_START_SECONDS)
        if not line:
            proc.kill()
            log.flush()
            output = (directory / "server.log").read_text()[-4000:]
            pytest.fail(f"the e2e server did not start:\n{output}")
        facts = json.loads(line)
        engine = sa.create_engine(f"sqlite:///{directory / 'e2e.db'}")
        yield Server(url=facts.pop("url"), directory=directory, facts=facts, engine=engine)
        engine.dispose()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        log.close()


# The browser -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` whose impact is serious or critical."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


class Journey:
    """The pages of one journey: people's browser contexts, screenshots, accessibility."""

    def __init__(self, name: str, browser: Any, server: Server) -> None:
        self.name = name
        self.browser = browser
        self.server = server
        self.directory = ARTIFACTS / name
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        self.count = 0
        self.contexts: list[Any] = []
        self.checked: list[str] = []

    def person(self, email: str | None = None, *, locale: str = "en-GB") -> Any:
        """A new browser (context) for one person, signed in when ``email`` is given."""
        from playwright.sync_api import expect

        context = self.browser.new_context(base_url=self.server.url, locale=locale)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        if email:
            page.goto("/login")
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(self.server.password)
            page.get_by_role("main").get_by_role("button", name="Sign in").click()
            # signed in: the (collapsed) user menu holds the sign-out form
            expect(page.locator("form[action$='/logout']")).to_be_attached()
        return page

    def shot(self, page: Any, name: str, *, a11y: bool = True) -> Path:
        """Save a full-page screenshot as NN-name.png and check the page with axe-core."""
        self.count += 1
        path = self.directory / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if a11y:
            bad = axe_violations(page)
            assert not bad, (
                f"accessibility violations on {page.url} (screenshot {path}):\n"
                + describe_violations(bad)
            )
            self.checked.append(page.url)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        print(f"\n[e2e] {self.name}: {self.count} screenshots in {self.directory}")


@pytest.fixture
def journey(request: pytest.FixtureRequest, browser: Any, server: Server) -> Iterator[Journey]:
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    name = request.node.name.removeprefix("test_")
    j = Journey(name, browser, server)
    yield j
    j.close()
