"""Outgoing email: SMTP when an operator configures it, an outbox folder when not.

A course run on a laptop has no mail server, yet a learner there must still be able to
reset a forgotten password, so the embedded default writes each message as an `.eml`
file in the instance folder's outbox (the log says which file, never what it says: a
reset mail holds a live link). With `MAIL_SERVER` set,
messages go through that SMTP server instead (STARTTLS, implicit TLS or plain, with or
without a login).

The core (`MailSettings`, `SmtpSender`, `OutboxSender`, `build_message`) knows nothing of
Flask; `init_app` picks a sender from the app's config and `send_mail` sends one message
at once. Mail that belongs to a change in the database (a released review) goes through
the mail queue instead (`services.mail_queue`): written in the change's transaction,
then `deliver_soon` wakes this process's background sender, which sends everything due
in batches, one SMTP connection each; `flask send-mail` does the same from a scheduler.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from course.db import get_session
from course.logs import get_logger
from course.services import mail_queue

log = get_logger("course.mail")
_HEADERS = BytesHeaderParser(policy=policy.default)

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

    def send_batch(self, messages: Sequence[EmailMessage]) -> list[MailError | None]:
        """Send every message; per message, None when sent or the reason it was not."""
        ...


class SmtpSender:
    """Hands messages to an SMTP server: one connection for a single message (a reset)
    or for a whole batch (the mail queue's release emails).

    No connection is kept open between calls: mail comes in bursts, and a connection held
    across requests and worker forks would go stale.
    """

    def __init__(self, settings: MailSettings, tls_context: ssl.SSLContext | None = None):
        if settings.server is None:
            raise ValueError("SmtpSender needs MAIL_SERVER")
        self.settings = settings
        self.server: str = settings.server
        # Certificates are verified against the system's CAs unless a caller (a test with
        # its own CA) passes a context.
        self.tls_context = tls_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        """An open, secured and logged-in connection (OSError or SMTPException if not)."""
        s = self.settings
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.server, s.port or 465,
                                                  timeout=s.timeout, context=self.tls_context)
        else:
            smtp = smtplib.SMTP(self.server, s.port or 587, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self.tls_context)
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        [error] = self.send_batch([message])
        if error is not None:
            raise error

    def send_batch(self, messages: Sequence[EmailMessage]) -> list[MailError | None]:
        """Send the messages over one connection. A message the server refuses fails
        alone; a lost connection fails it and every message after it."""
        outcome: list[MailError | None] = []
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return [self._error(m, exc) for m in messages]
        with smtp:
            for message in messages:
                try:
                    smtp.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                        smtplib.SMTPDataError) as exc:
                    outcome.append(self._error(message, exc))
                    try:  # start the next message afresh on the same connection
                        smtp.rset()
                    except (OSError, smtplib.SMTPException) as lost:
                        outcome += [self._error(m, lost) for m in messages[len(outcome):]]
                        break
                    continue
                except (OSError, smtplib.SMTPException) as exc:
                    outcome += [self._error(m, exc) for m in messages[len(outcome):]]
                    break
                outcome.append(None)
                log.info("mail sent to %s through %s: %s", message["To"], self.server,
                         message["Subject"])
        return outcome

    def _error(self, message: EmailMessage, exc: Exception) -> MailError:
        error = MailError(f"could not send mail to {message['To']} through "
                          f"{self.server}: {exc}")
        error.__cause__ = exc
        return error


class OutboxSender:
    """Writes each message to `<outbox>/<time>-<random>.eml`, and its file name to the log.

    The file opens in any mail program, so whoever runs the server locally can follow a
    reset link from it. The log line leaves out the text: a live link, a learner's name
    and their feedback have no place in a log kept longer than the mail.
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
        log.info("no MAIL_SERVER set: mail to %s written to %s", message["To"], path)

    def forget(self, address: str) -> int:
        """Delete the messages to `address` (a deleted account's), how many there were."""
        deleted = 0
        for path in self.outbox.glob("*.eml"):
            try:
                with path.open("rb") as file:
                    to = _HEADERS.parse(file)["To"]
                if to is not None and address.lower() in {
                        a.addr_spec.lower() for a in to.addresses}:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:  # another worker deleted it first
                continue
        return deleted

    def send_batch(self, messages: Sequence[EmailMessage]) -> list[MailError | None]:
        outcome: list[MailError | None] = []
        for message in messages:
            try:
                self.send(message)
            except MailError as exc:
                outcome.append(exc)
            else:
                outcome.append(None)
        return outcome


def forget_recipient(address: str) -> int:
    """Delete the outbox's messages to `address`, however mail is sent now (the outbox may
    hold mail from before MAIL_SERVER was set); how many there were."""
    settings: MailSettings = current_app.extensions["mail_settings"]
    return OutboxSender(settings.outbox).forget(address)


def sender_for(settings: MailSettings) -> Sender:
    return SmtpSender(settings) if settings.server else OutboxSender(settings.outbox)


def init_app(app: Flask) -> None:
    settings = MailSettings.from_mapping(app.config)
    app.extensions["mail_settings"] = settings
    app.extensions["mail_sender"] = sender_for(settings)
    app.extensions["mail_delivery"] = BackgroundDelivery(app)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message from the app's MAIL_FROM; raises MailError on failure."""
    settings: MailSettings = current_app.extensions["mail_settings"]
    sender: Sender = current_app.extensions["mail_sender"]
    sender.send(build_message(settings.sender, to, subject, body))


def send_batch(messages: Sequence[mail_queue.Message]) -> list[MailError | None]:
    """Send messages from the app's MAIL_FROM over one connection; per message, None or
    why it was not sent."""
    settings: MailSettings = current_app.extensions["mail_settings"]
    sender: Sender = current_app.extensions["mail_sender"]
    return sender.send_batch([build_message(settings.sender, m.to, m.subject, m.body)
                              for m in messages])


def deliver_queue(everything: bool = False) -> mail_queue.Delivery:
    """Send the queued mail that is due (or all of it), in batches; failures stay queued
    for later."""
    done = mail_queue.deliver_due(get_session(), send_batch, everything=everything)
    if done.failed:
        log.warning("mail queue: %s sent, %s failed and stay queued for a later try",
                    done.sent, done.failed)
    return done


class BackgroundDelivery:
    """This process's sender of queued mail: a thread that empties the queue and ends.

    `kick` after a commit that queued mail starts it, or, while it runs, makes it look
    again before it ends, so a burst of releases shares one thread and few batches.
    Mail it cannot send stays queued; `flask send-mail` from a scheduler retries it.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0  # a thread does not survive a fork: the child starts its own
        self._again = False

    def kick(self) -> None:
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                self._again = True
                return
            self._again = False
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="mail-sender",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                with self.app.app_context():
                    deliver_queue()
            except Exception:  # a thread's error has nobody else to report it
                log.exception("mail queue: delivery failed; the mail stays queued")
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def wait(self, timeout: float = 30.0) -> None:
        """Until the thread has finished (for tests and an orderly shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def deliver_soon() -> None:
    """Start sending what was just queued, after the answer's commit (not in it)."""
    delivery: BackgroundDelivery = current_app.extensions["mail_delivery"]
    delivery.kick()
