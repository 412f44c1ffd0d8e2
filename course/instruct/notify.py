"""Sending grading mail: release emails from the review views, the daily summary from
the CLI. The messages are written in `services.notices`; this module adds the links and
hands them to `course.mail`.

A mail that fails is logged and counted, never raised: the release it reports on is
already committed, and the learner still sees the feedback on their attempt page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from course.db import get_session
from course.mail import MailError, send_mail
from course.services import notices
from course.services.review import Released
from course.site import get_course

log = logging.getLogger(__name__)


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link for a mail: on PUBLIC_URL when set (a forged Host header must not
    choose where a link points), else on the address of the current request."""
    base: str | None = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def send_all(messages: Sequence[notices.Message]) -> int:
    """Send each message; how many could not be sent (each one is logged)."""
    failed = 0
    for message in messages:
        try:
            send_mail(message.to, message.subject, message.body)
        except MailError:
            failed += 1
            log.exception("grading mail to %s failed", message.to)
    return failed


def tell_learners(released: Sequence[Released]) -> int:
    """Email each learner whose review was just released (unless they turned feedback
    emails off); how many mails failed."""
    messages = notices.feedback_messages(
        get_session(), get_course(), released,
        lambda attempt_id: public_url("learn.attempt", attempt_id=attempt_id),
        public_url("auth.account"))
    return send_all(messages)


def daily_summary(now: datetime) -> list[notices.Message]:
    """The summary of waiting work for every instructor; none when nothing waits.

    Runs outside any request (from the CLI), so links are built in a request context on
    PUBLIC_URL (or localhost, when it is not set)."""
    session, course = get_session(), get_course()
    waiting = notices.awaiting_review(session, course)
    if not waiting:
        return []
    base = current_app.config.get("PUBLIC_URL") or "http://localhost:5000"
    with current_app.test_request_context(base_url=base):
        link = url_for("instruct.submissions", _external=True)
    body = notices.summary_text(course, waiting, now, link)
    subject = f"{course.title}: work awaiting review"
    return [notices.Message(user.email, subject, body)
            for user in notices.instructors(session)]
