"""Log lines nobody can forge (course/logs.py): whatever a visitor puts in a path, a query
string, a header, an email or a name, each request and each audit event is one record on
one line, its values escaped and cut short; a live reset token never reaches the log."""

from __future__ import annotations

import io
import logging
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from course.logs import MAX_VALUE, EscapedValues, LineFormatter, escaped
from tests.helpers import PASSWORD, csrf_token, make_user

FORGED = "\n2026-12-08 03:00:00,000 INFO course.audit account deleted user=2"
#: What a visitor can plant: a forged line after LF or CR, ANSI colours and cursor moves,
#: other C0 and C1 controls, DEL, Unicode's line and paragraph separators, a right-to-left
#: override, a backslash that could pass for an escape, and far too much text.
HOSTILE = [FORGED, "\r" + FORGED.lstrip("\n"), "\x1b[31mred\x1b[0m\x1b[2K\x1b[1A",
           "a\x00b\x07c\x08d\x7fe\x85f\x9bg", "x\u2028y\u2029z\u202eevil", "back\\nslash",
           "a" * 5000]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _lines(records: list[logging.LogRecord]) -> list[str]:
    """The records as the default handler writes them."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(LineFormatter(LOG_FORMAT))
    for record in records:
        handler.emit(record)
    return out.getvalue().splitlines()


def _assert_one_safe_line(record: logging.LogRecord, *planted: str) -> None:
    message = record.getMessage()
    assert message.isprintable(), message  # no CR, LF, ESC, C1, U+2028...
    assert len(message) < 4 * MAX_VALUE + 200
    for value in planted:
        shown = escaped(value)
        assert shown in message, (shown, message)
    [line] = _lines([record])
    assert line.endswith(message)


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_keeps_a_value_on_its_line_and_says_what_was_cut(value):
    shown = escaped(value)
    assert shown.isprintable()
    assert "\x1b" not in shown and "\n" not in shown and "\r" not in shown
    if len(value) > MAX_VALUE:
        assert shown == "a" * MAX_VALUE + f"...[{len(value) - MAX_VALUE} more characters]"
    else:
        assert shown.encode().decode("unicode_escape") == value  # nothing lost but the cut


def test_printable_text_is_logged_as_it_is():
    assert escaped("Zoë Ångström <zoe@example.com> /lessons/x?y=1") == (
        "Zoë Ångström <zoe@example.com> /lessons/x?y=1")
    assert escaped(b"\n") == r"b'\\n'"  # whatever the value, its text is escaped


@pytest.mark.parametrize("value", HOSTILE)
def test_each_request_is_one_line_whatever_its_path_query_or_headers(client, caplog, value):
    caplog.set_level(logging.INFO, logger="course")
    caplog.clear()
    path = "/lessons/" + value
    # In the WSGI environ: the test client refuses a line break in a header it sends.
    client.get(quote(path), environ_overrides={"HTTP_USER_AGENT": value,
                                               "HTTP_REFERER": value})
    client.get("/progress?next=" + quote(value) + "&x=" + quote(FORGED))
    records = [r for r in caplog.records if r.name == "course.request"]
    assert len(records) == 2
    _assert_one_safe_line(records[0], path)
    _assert_one_safe_line(records[1], "/progress")
    assert len(_lines(caplog.records)) == len(caplog.records)


@pytest.mark.parametrize("value", HOSTILE[:2] + HOSTILE[4:6])
def test_a_refused_sign_in_is_one_audit_line_whatever_the_email(client, caplog, value):
    caplog.set_level(logging.INFO, logger="course")
    email = ("x" + value)[:254]
    client.post("/signin", data={"csrf_token": csrf_token(client), "email": email,
                                 "password": "wrong password"})
    [record] = [r for r in caplog.records if r.name == "course.audit"]
    assert record.getMessage().startswith("sign-in refused email=")
    _assert_one_safe_line(record, email.strip().lower())
    assert len(_lines(caplog.records)) == len(caplog.records)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_sign_in_through_a_proxy_is_one_audit_line_whatever_the_address(
        make_app, caplog, value):
    """The client's address comes from X-Forwarded-For when a proxy is trusted: a header
    anyone can write when the proxy passes it on."""
    app = make_app(TRUSTED_PROXIES=1)
    make_user(app)
    client = app.test_client()
    caplog.set_level(logging.INFO, logger="course")
    client.post("/signin", data={"csrf_token": csrf_token(client),
                                 "email": "learner@example.com", "password": PASSWORD},
                environ_overrides={"HTTP_X_FORWARDED_FOR": value})
    [record] = [r for r in caplog.records if r.name == "course.audit"]
    assert record.getMessage().startswith("signed in user=")
    _assert_one_safe_line(record, value.split(",")[-1].strip())  # the nearest proxy's
    assert len(_lines(caplog.records)) == len(caplog.records)


def test_mail_to_a_hostile_name_is_one_line_without_the_message(app, client, caplog):
    """The outbox's log line names the file, not the text: the text holds the name and,
    in a reset mail, a live link."""
    make_user(app, name="Eve" + FORGED + "\x1b[2J")
    caplog.set_level(logging.INFO, logger="course")
    response = client.post("/forgot-password", data={
        "csrf_token": csrf_token(client, "/forgot-password"), "email": "learner@example.com"})
    response.close()  # the mail goes out once the answer is sent
    for thread in threading.enumerate():
        if thread.name == "reset-mail":
            thread.join(timeout=30)
    [record] = [r for r in caplog.records if r.name == "course.mail"]
    _assert_one_safe_line(record, "learner@example.com")
    assert "Eve" not in caplog.text and "reset-password" not in caplog.text
    assert len(_lines(caplog.records)) == len(caplog.records)


def test_a_traceback_cannot_start_a_line_of_its_own():
    """An exception's message is the caller's text: every line after the record's first
    is indented, so none can pass for a record."""
    logger = logging.getLogger("tests.log_lines")
    try:
        raise ValueError("bad value" + FORGED + "\r\x1b[2K")
    except ValueError:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed %s",
                                   ("x",), sys.exc_info())
    first, *rest = _lines([record])
    assert first.endswith("ERROR tests.log_lines failed x")
    assert rest and all(line.startswith("    ") and line.isprintable() for line in rest)
    assert any(line.strip().startswith("ValueError: bad value") for line in rest)


def test_the_reset_link_is_logged_by_its_route_not_its_token(app, client, caplog):
    caplog.set_level(logging.INFO, logger="course.request")
    token = "live-token-" + "k" * 40
    client.get(f"/reset-password/{token}")
    client.post(f"/reset-password/{token}", data={"password": "x", "confirm": "x"})
    messages = [r.getMessage() for r in caplog.records if r.name == "course.request"]
    assert [m.split()[:2] for m in messages] == [["GET", "/reset-password/<token>"],
                                                  ["POST", "/reset-password/<token>"]]
    assert token not in caplog.text
    client.get("/lessons/product-vision")  # other paths are logged as they are
    assert caplog.records[-1].getMessage().startswith("GET /lessons/product-vision 200 ")


def test_every_course_logger_escapes_its_values(app):
    """Each logger in course/ comes from course.logs.get_logger (the filter is per logger:
    a record is filtered only by the logger it was made on)."""
    course = Path(__file__).resolve().parent.parent / "course"
    for path in course.rglob("*.py"):
        if path.name != "logs.py":
            assert "getLogger(" not in path.read_text(), path
    for name in ("course", "course.request", "course.audit", "course.mail",
                 "course.auth.password_reset", "course.instruct.notify"):
        assert any(isinstance(f, EscapedValues) for f in logging.getLogger(name).filters), name
