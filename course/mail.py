"""Outgoing email: SMTP when an operator configures it, an outbox folder when not.

A course run on a laptop has no mail server, yet a learner there must still be able to
reset a forgotten password, so the embedded default writes each message as an `.eml`
file in the instance folder's outbox and to the server log. With `MAIL_SERVER` set,
messages go through that SMTP server instead (STARTTLS, implicit TLS or plain, with or
without a login).

The core (`MailSettings`, `SmtpSender`, `OutboxSender`, `build_message`) knows nothing of
Flask; `init_app` picks a sender from the app's config and `send_mail` is what views and
commands call.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger("course.mail")

SECURITY_MODES = ("starttls", "ssl", "none")


class MailError(RuntimeError):
    """A message could not be handed to the mail server (it is not sent)."""


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes. No `server` means the outbox folder."""

    sender: str
    outbox: Path
    server: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    security: str = "starttls"
    timeout: float = 10.0

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> MailSettings:
        """Read the MAIL_* keys of an app config (see config.py for the defaults)."""
        security = (config.get("MAIL_SECURITY") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise ValueError(f"MAIL_SECURITY must be one of {', '.join(SECURITY_MODES)}, "
                             f"not {security!r}")
        port = config.get("MAIL_PORT")
        return cls(sender=config["MAIL_FROM"], outbox=Path(config["MAIL_OUTBOX"]),
                   server=config.get("MAIL_SERVER") or None,
                   port=int(port) if port else None,
                   username=config.get("MAIL_USERNAME") or None,
                   password=config.get("MAIL_PASSWORD") or None,
                   security=security)


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message with the headers mail servers expect (Date, Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    return message


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Hands each message to an SMTP server, one connection per message.

    Messages are rare (a reset, a released review), so a fresh connection each time is
    simpler and sturdier than keeping one open across requests and worker forks.
    """

    def __init__(self, settings: MailSettings, tls_context: ssl.SSLContext | None = None):
        if settings.server is None:
            raise ValueError("SmtpSender needs MAIL_SERVER")
        self.settings = settings
        self.server: str = settings.server
        # Certificates are verified against the system's CAs unless a caller (a test with
        # its own CA) passes a context.
        self.tls_context = tls_context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.server, s.port or 465,
                                                      timeout=s.timeout,
                                                      context=self.tls_context)
            else:
                smtp = smtplib.SMTP(self.server, s.port or 587, timeout=s.timeout)
            with smtp:
                if s.security == "starttls":
                    smtp.starttls(context=self.tls_context)
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"could not send mail to {message['To']} through "
                            f"{s.server}: {exc}") from exc
        log.info("mail sent to %s through %s: %s", message["To"], s.server, message["Subject"])


class OutboxSender:
    """Writes each message to `<outbox>/<time>-<random>.eml` and to the log.

    The file opens in any mail program; the log line carries the whole text, so whoever
    runs the server locally can follow a reset link from either.
    """

    def __init__(self, outbox: Path):
        self.outbox = outbox

    def send(self, message: EmailMessage) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
        partial = path.with_suffix(".part")
        try:
            with partial.open("xb") as file:
                file.write(message.as_bytes())
            # Renamed when complete, so whoever watches the folder never reads half a message.
            partial.rename(path)
        except OSError as exc:
            raise MailError(f"could not write {path}: {exc}") from exc
        log.info("no MAIL_SERVER set: mail to %s written to %s\n%s", message["To"], path,
                 message.as_string())


def sender_for(settings: MailSettings) -> Sender:
    return SmtpSender(settings) if settings.server else OutboxSender(settings.outbox)


def init_app(app: Flask) -> None:
    settings = MailSettings.from_mapping(app.config)
    app.extensions["mail_settings"] = settings
    app.extensions["mail_sender"] = sender_for(settings)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message from the app's MAIL_FROM; raises MailError on failure."""
    settings: MailSettings = current_app.extensions["mail_settings"]
    sender: Sender = current_app.extensions["mail_sender"]
    sender.send(build_message(settings.sender, to, subject, body))
