"""A test browser: the Flask test client with CSRF tokens handled like a real browser.

``browser.post(url, data)`` first loads the form page (``form_url`` or ``url``) to read the
CSRF token, the way a person's browser would, unless ``csrf=False`` asks for a request
without a token (to test that it is refused).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from flask import g
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str | None:
    m = CSRF_RE.search(html)
    return (m.group(1) or m.group(2)) if m else None


def text_of(response: TestResponse) -> str:
    """The visible text of an HTML page, whitespace folded (for 'what the user sees')."""
    html = response.get_data(as_text=True)
    html = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", html)
    text = re.sub(r"(?s)<[^>]+>", " ", html)
    import html as _html

    return re.sub(r"\s+", " ", _html.unescape(text)).strip()


class Browser:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.last_csrf: str | None = None

    # Requests ---------------------------------------------------------------------------
    def _fresh_globals(self) -> None:
        # The test's app context outlives requests; a real request starts with empty `g`
        # (Flask-Login and Flask-Babel cache the user and the locale there).
        with contextlib.suppress(RuntimeError):
            g.__dict__.clear()

    def open(self, method: str, url: str, **kw: Any) -> TestResponse:
        self._fresh_globals()
        resp = self.client.open(url, method=method, **kw)
        if resp.mimetype == "text/html":
            token = csrf_from(resp.get_data(as_text=True))
            if token:
                self.last_csrf = token
        return resp

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.open("GET", url, **kw)

    def csrf_token(self, form_url: str | None = None) -> str:
        page = self.get(form_url or "/")
        token = csrf_from(page.get_data(as_text=True)) or self.last_csrf
        assert token, f"no CSRF token found on {form_url or '/'}"
        return token

    def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        form_url: str | None = None,
        csrf: bool = True,
        **kw: Any,
    ) -> TestResponse:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token(form_url or url)
        return self.open("POST", url, data=data, **kw)

    def post_json(self, url: str, payload: Any, **kw: Any) -> TestResponse:
        return self.open("POST", url, json=payload, **kw)

    # Identity ---------------------------------------------------------------------------
    def login(self, user: Any) -> None:
        with self.client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True

    def logout(self) -> None:
        with self.client.session_transaction() as sess:
            sess.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)
