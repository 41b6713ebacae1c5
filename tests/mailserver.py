"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port), started by them.

`smtp_server` (a fixture every test may ask for: tests/conftest.py loads this module) is one server per run, emptied for
each test: `.messages` are the mails it took (`email.message.EmailMessage`, with the envelope's
recipients in `.envelope_to`), `.refuse(address)` makes it refuse that recipient (550) until
`.accept_all()`, `.stop()` takes it down (connections refused) and `.start()` brings it back
on the same port. `.settings` are the mail settings that point at it (no TLS, no login).
`MailServer("starttls" | "ssl", cert, logins)` is one that asks for TLS and a login.
"""
from __future__ import annotations

import atexit
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to `folder` (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class MailServer:
    """`security` "none", "starttls" (a login required, after STARTTLS) or "ssl" (TLS from the
    start, a login required); `cert`: the certificate and key files for the last two, which a
    client trusts through SSL_CERT_FILE."""

    def __init__(self, security: str = "none", cert: tuple[Path, Path] | None = None,
                 logins: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.messages: list = []
        self.refused: set[str] = set()
        self.controller = None
        self.security, self.logins = security, logins or {}
        self.tls = None
        if cert:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(*cert)
        self.settings = SmtpSettings(host="127.0.0.1", port=self.port, security=security,
                                     user="", from_address="ims@reco.test")

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        user = auth_data.login.decode() if auth_data and auth_data.login else ""
        password = auth_data.password.decode() if auth_data and auth_data.password else ""
        return AuthResult(success=bool(user) and self.logins.get(user) == password,
                          handled=False)

    def start(self) -> None:
        if self.controller is not None:
            return
        extra = {}
        if self.security == "starttls":
            extra = {"tls_context": self.tls, "require_starttls": True, "auth_required": True,
                     "authenticator": self._authenticate}
        elif self.security == "ssl":
            extra = {"ssl_context": self.tls, "auth_required": True, "auth_require_tls": False,
                     "authenticator": self._authenticate}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **extra)
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
