"""A real SMTP server on localhost for tests (aiosmtpd): no network, no real mail.

``SmtpServer.fail_next = n`` answers the next ``n`` messages with a temporary failure
(451), ``stop()`` takes the server down (connections refused) and ``start()`` brings it
back on the same port: what a flaky or unreachable mail server does. ``stall_next = True``
holds the next message in the middle of its delivery (``stalled`` is set) until
``release`` is set, then refuses it: the moment to kill a worker mid-delivery.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.owner.stall_next:
            self.owner.stall_next = False
            self.owner.stalled.set()
            while not self.owner.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Interrupted"
        with self.owner.lock:
            if self.owner.fail_next > 0:
                self.owner.fail_next -= 1
                self.owner.refused += 1
                return "451 4.3.0 Try again later"
            self.owner.received.append(message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Message] = []
        self.fail_next = 0
        self.refused = 0
        self.stall_next = False
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self.release.set()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Message]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
