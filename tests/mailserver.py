"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port), started by them.

`smtp_server` (a fixture every test may ask for: tests/conftest.py loads this module) is one server per run, emptied for
each test: `.messages` are the mails it took (`email.message.EmailMessage`, with the envelope's
recipients in `.envelope_to`), `.refuse(address)` makes it refuse that recipient (550) until
`.accept_all()`, `.stop()` takes it down (connections refused) and `.start()` brings it back
on the same port. `.settings` are the mail settings that point at it (no TLS, no login).
"""
from __future__ import annotations

import atexit
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from core.mail import SmtpSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.server.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg.envelope_to = list(envelope.rcpt_tos)
        self.server.messages.append(msg)
        return f"250 Message accepted for delivery (number {len(self.server.messages)})"


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        self.refused: set[str] = set()
        self.controller = None
        self.settings = SmtpSettings(host="127.0.0.1", port=self.port, security="none",
                                     user="", from_address="ims@reco.test")

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def accept_all(self) -> None:
        self.refused.clear()

    def reset(self) -> None:
        self.messages.clear()
        self.accept_all()
        self.start()


_servers: list[MailServer] = []


@pytest.fixture
def smtp_server() -> MailServer:
    """The run's SMTP server (started once, by the first test that asks), running, with no
    mails and refusing nobody."""
    if not _servers:
        _servers.append(MailServer())
        atexit.register(_servers[0].stop)
    _servers[0].reset()
    return _servers[0]
