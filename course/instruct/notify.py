"""Grading mail: release emails from the review views, the daily summary from the CLI.
The messages are written in `services.notices`; this module adds the links.

Release emails go into the mail queue in the release's own transaction
(`queue_feedback_mail`, passed to the review service as its `announce`), and are sent
after the commit by the process's background sender (`course.mail.deliver_soon`): the
request never waits on the mail server, and a mail that fails stays queued for a retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from course.db import get_session
from course.links import public_url
from course.logs import get_logger
from course.services import mail_queue, notices
from course.services.release import Released
from course.site import get_course

log = get_logger(__name__)


def queue_feedback_mail(session: Session, released: Sequence[Released]) -> None:
    """Queue an email to each learner whose review is being released (unless they turned
    feedback emails off), in the release's transaction: one query, however many."""
    count = mail_queue.enqueue(session, notices.feedback_messages(
        session, get_course(), released,
        lambda attempt_id: public_url("learn.attempt", attempt_id=attempt_id),
        public_url("auth.account")))
    log.info("release of %s reviews queued %s emails", len(released), count)


def daily_summary(now: datetime) -> list[mail_queue.Message]:
    """The summary of waiting work for every instructor; none when nothing waits.

    Runs outside any request (from the CLI): the link is on PUBLIC_URL, as every mail's."""
    session, course = get_session(), get_course()
    waiting = notices.awaiting_review(session, course)
    if not waiting:
        return []
    body = notices.summary_text(course, waiting, now, public_url("instruct.submissions"))
    subject = f"{course.title}: work awaiting review"
    return [mail_queue.Message(user.email, subject, body)
            for user in notices.instructors(session)]
