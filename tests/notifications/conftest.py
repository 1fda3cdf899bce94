from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.core.workflow_world import World


@pytest.fixture
def world(make, db_session) -> World:  # type: ignore[no-untyped-def]
    return World(make, db_session)


class Receiver:
    """An integrating system on localhost: records every POST; ``status`` is its answer."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(
                    {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/iris"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app, monkeypatch) -> Iterator[Receiver]:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "IRIS_REDIS_URL", None)  # deliveries inline after commit
    r = Receiver()
    yield r
    r.close()
