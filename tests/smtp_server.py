"""A real SMTP server for tests: aiosmtpd on a free local port, collecting what it gets.

Mail tests talk SMTP to this server over a socket, so STARTTLS, implicit TLS and login
are exercised for real (certificates come from a throwaway CA made by trustme).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class _FreePortController(Controller):
    """aiosmtpd's Controller, listening on a port the OS picks (port 0), counting the
    connections it accepts (the factory makes one SMTP session per connection)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def factory(self) -> Any:
        self.handler.connections += 1
        return super().factory()


@dataclass
class Received:
    """What the server accepted: envelope and parsed message, in order, and how many
    connections clients opened. While `refusing` is set, every message is refused with
    a temporary error (451), as a server that is struggling would."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    connections: int = 0
    refusing: bool = False
    refused: int = 0
    unknown: set[str] = field(default_factory=set)  # addresses refused at RCPT (550)

    async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str,
                          _options: Any) -> str:
        if address in self.unknown:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refusing:
            self.refused += 1
            return "451 Requested action aborted: try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class LocalSmtp:
    host: str
    port: int
    received: Received
    client_tls: ssl.SSLContext


def _tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@contextmanager
def local_smtp(security: str = "none", login: tuple[str, str] | None = None
               ) -> Iterator[LocalSmtp]:
    """Run an SMTP server for the duration of the block.

    security: "none" (plain), "starttls" (STARTTLS required before anything else) or
    "ssl" (TLS from the first byte). With `login`, AUTH accepts only that user and
    password.
    """
    received = Received()
    server_tls, client_tls = _tls_contexts()
    kwargs: dict[str, Any] = {}
    if security == "starttls":
        kwargs.update(tls_context=server_tls, require_starttls=True)
    if login is not None:
        def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str,
                         data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode(), data.password.decode()) == login
            if ok:
                received.logins.append(data.login.decode())
            return AuthResult(success=ok)

        # AUTH is required only after STARTTLS: aiosmtpd warns when it is required over
        # plain SMTP and does not see implicit TLS as TLS. A wrong login is refused always.
        kwargs.update(authenticator=authenticate, auth_required=security == "starttls",
                      auth_require_tls=security == "starttls")
    controller = _FreePortController(
        received, hostname="127.0.0.1", port=0,
        ssl_context=server_tls if security == "ssl" else None, **kwargs)
    controller.start()
    received.connections = 0  # start() made one connection of its own, to check it is up
    try:
        yield LocalSmtp("127.0.0.1", controller.port, received, client_tls)
    finally:
        controller.stop()
