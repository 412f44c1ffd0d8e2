"""course/mail.py against a real SMTP server (aiosmtpd) and the outbox folder."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask

from course import mail
from course.mail import MailError, MailSettings, OutboxSender, SmtpSender, build_message
from tests.smtp_server import local_smtp


def _settings(smtp, security: str, login: tuple[str, str] | None = None) -> MailSettings:
    return MailSettings(sender="Course <course@example.org>", outbox=Path("unused"),
                        server=smtp.host, port=smtp.port, security=security,
                        username=login[0] if login else None,
                        password=login[1] if login else None, timeout=5)


def _message(to: str = "ann@example.org"):
    return build_message("Course <course@example.org>", to, "Reset your password",
                         "Open https://course.example/reset/abc to choose a new one.\n")


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_smtp_sender_delivers_over_each_kind_of_connection(security):
    login = ("mailer", "s3cret pass")
    with local_smtp(security, login=login) as smtp:
        SmtpSender(_settings(smtp, security, login), tls_context=smtp.client_tls).send(
            _message())
    assert smtp.received.logins == ["mailer"]
    assert smtp.received.envelopes == [("course@example.org", ["ann@example.org"])]
    got = smtp.received.messages[0]
    assert got["Subject"] == "Reset your password"
    assert got["From"] == "Course <course@example.org>"
    assert got["Message-ID"] and got["Date"]
    assert "https://course.example/reset/abc" in got.get_content()


def test_a_batch_goes_over_one_connection_and_a_refused_address_fails_alone():
    with local_smtp("none") as smtp:
        smtp.received.unknown.add("gone@example.org")
        outcome = SmtpSender(_settings(smtp, "none")).send_batch(
            [_message("ann@example.org"), _message("gone@example.org"),
             _message("bob@example.org")])
    assert smtp.received.connections == 1
    assert [e is None for e in outcome] == [True, False, True]
    assert "gone@example.org" in str(outcome[1])
    assert [m["To"] for m in smtp.received.messages] == ["ann@example.org", "bob@example.org"]


def test_smtp_sender_refuses_a_certificate_it_cannot_verify():
    """Without the test CA in the trust store, STARTTLS to a self-signed server fails."""
    with local_smtp("starttls") as smtp, pytest.raises(MailError, match="certificate"):
        SmtpSender(_settings(smtp, "starttls")).send(_message())
    assert smtp.received.messages == []


def test_smtp_sender_reports_a_wrong_login_as_mail_error():
    with local_smtp("none", login=("mailer", "right")) as smtp, pytest.raises(MailError):
        SmtpSender(_settings(smtp, "none", ("mailer", "wrong"))).send(_message())
    assert smtp.received.messages == []


def test_smtp_sender_reports_an_unreachable_server_as_mail_error():
    with local_smtp("none") as smtp:
        settings = _settings(smtp, "none")
    with pytest.raises(MailError, match="could not send"):
        SmtpSender(settings).send(_message())


def test_outbox_writes_a_readable_eml_file_and_logs_its_name_not_its_text(tmp_path, caplog):
    outbox = tmp_path / "outbox"
    with caplog.at_level(logging.INFO, logger="course.mail"):
        OutboxSender(outbox).send(_message())
        OutboxSender(outbox).send(_message("bob@example.org"))
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2
    assert sorted(outbox.iterdir()) == files  # no half-written .part file left behind
    parsed = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["To"] for m in parsed} == {"ann@example.org", "bob@example.org"}
    assert "https://course.example/reset/abc" in parsed[0].get_content()
    assert "https://course.example/reset/abc" not in caplog.text  # a live link stays out
    assert str(files[0]) in caplog.text and str(files[1]) in caplog.text
    assert len(caplog.records) == 2


def test_outbox_forgets_the_mail_to_an_address(tmp_path):
    outbox = OutboxSender(tmp_path / "outbox")
    assert outbox.forget("ann@example.org") == 0  # no outbox folder yet
    for to in ("ann@example.org", "bob@example.org", "Ann <ANN@example.org>"):
        outbox.send(_message(to))
    assert outbox.forget("ann@example.org") == 2
    [left] = (tmp_path / "outbox").iterdir()
    assert message_from_bytes(left.read_bytes(), policy=policy.default)["To"] == (
        "bob@example.org")


def test_settings_refuse_an_unknown_security_mode():
    with pytest.raises(ValueError, match="MAIL_SECURITY"):
        MailSettings.from_mapping({"MAIL_FROM": "a@b.c", "MAIL_OUTBOX": "x",
                                   "MAIL_SECURITY": "tls-please"})


def test_app_without_mail_server_writes_to_its_outbox(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        mail.send_mail("ann@example.org", "Hello", "Body text")
    files = list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert len(files) == 1
    assert "Body text" in files[0].read_text()


def test_app_with_mail_server_sends_through_smtp(make_app):
    with local_smtp("none") as smtp:
        app: Flask = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port),
                              MAIL_SECURITY="none", MAIL_FROM="Course <c@example.org>")
        with app.app_context():
            mail.send_mail("ann@example.org", "Hello", "Body text")
    assert [m["To"] for m in smtp.received.messages] == ["ann@example.org"]
    assert not Path(app.config["MAIL_OUTBOX"]).exists()
