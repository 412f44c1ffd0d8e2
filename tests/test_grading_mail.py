"""Grading mail: the release email to learners (through a real local SMTP server and the
outbox), queued in the release's transaction and sent after it in one SMTP connection
per batch, retried by `flask send-mail`; the learner's opt-out on the account page; and
the instructors' daily summary."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from course.db import get_session
from course.instruct.notify import queue_feedback_mail
from course.links import DEVELOPMENT_URL
from course.mail import send_batch
from course.models import Attempt, QueuedMail, Role, User
from course.models.timestamps import utcnow
from course.services import mail_queue
from course.services import release as release_service
from course.services import review as review_service
from course.site import get_course
from tests.helpers import AuthActions, csrf_token, make_user
from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit
from tests.smtp_server import local_smtp

RUBRIC = {"rubric-vision-short-aspirational": "2", "rubric-strategy-how-who-value": "2",
          "rubric-choices-not-features": "1", "rubric-vision-strategy-distinct": "1"}


def _grade(client, attempt_id):
    return client.post(f"/instructor/submissions/{attempt_id}", data={
        "csrf_token": csrf_token(client, f"/instructor/submissions/{attempt_id}"),
        "revision": "1", **RUBRIC, "feedback": "Well argued."})


def _release_all(client, exercise_id=VISION):
    return client.post(f"/instructor/exercises/{exercise_id}/release",
                       data={"csrf_token": csrf_token(client, "/")})


def _sent(app):
    """Wait for the background sender to finish what the last request queued."""
    app.extensions["mail_delivery"].wait()


def _queue(app):
    with app.app_context():
        return list(get_session().scalars(select(QueuedMail).order_by(QueuedMail.id)))


def test_releasing_reviews_emails_each_learner_a_link_to_the_attempt(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none",
                       MAIL_FROM="Course <course@example.org>",
                       PUBLIC_URL="https://course.example.org")
        ann = make_user(app, "ann@example.com", "Ann Able").id
        bob = make_user(app, "bob@example.com", "Bob Baker").id
        attempts = {ann: submit(app, ann, VISION, VISION_ANSWER),
                    bob: submit(app, bob, VISION, VISION_ANSWER)}
        client = app.test_client()
        AuthActions(client, app).instructor()
        for attempt_id in attempts.values():
            assert _grade(client, attempt_id).status_code == 303
        assert smtp.received.messages == []  # drafts: nobody is told anything yet
        assert _release_all(client).status_code == 303
        _sent(app)
        received = list(smtp.received.messages)
        assert _queue(app) == []  # delivered mail leaves the queue

    assert sorted(m["To"] for m in received) == ["ann@example.com", "bob@example.com"]
    ann_mail = next(m for m in received if m["To"] == "ann@example.com")
    assert ann_mail["Subject"] == "Feedback on \u201cWrite a vision and a strategy\u201d is ready"
    body = ann_mail.get_content()
    assert "Hello Ann Able" in body
    assert f"https://course.example.org/attempts/{attempts[ann]}" in body
    assert "https://course.example.org/account" in body
    assert "Well argued" not in body  # the feedback itself stays behind the sign-in


def test_a_learner_who_turned_emails_off_gets_none(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none")
        learner_client = app.test_client()
        learner = AuthActions(learner_client, app).learner("quiet@example.com", "Quinn Quiet")
        assert "checked" in _checkbox(learner_client)  # on unless turned off
        response = learner_client.post("/account/email", data={
            "email-csrf_token": csrf_token(learner_client, "/account")})
        assert response.status_code == 302
        assert "Feedback emails are off" in learner_client.get("/account").get_data(
            as_text=True)
        assert "checked" not in _checkbox(learner_client)
        with app.app_context():
            assert get_session().get(User, learner.id).email_on_feedback is False

        attempt_id = submit(app, learner.id, VISION, VISION_ANSWER)
        teacher = app.test_client()
        AuthActions(teacher, app).instructor()
        _grade(teacher, attempt_id)
        assert _release_all(teacher).status_code == 303
        _sent(app)
        assert smtp.received.messages == [] and _queue(app) == []

        # And back on.
        learner_client.post("/account/email", data={
            "email-csrf_token": csrf_token(learner_client, "/account"),
            "email-email_on_feedback": "y"})
        with app.app_context():
            assert get_session().get(User, learner.id).email_on_feedback is True


def _checkbox(client) -> str:
    page = client.get("/account").get_data(as_text=True)
    return re.search(r'<input[^>]*name="email-email_on_feedback"[^>]*>', page).group(0)


def test_without_a_mail_server_the_release_mail_lands_in_the_outbox(app, client):
    learner = make_user(app, "ann@example.com", "Ann Able").id
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    AuthActions(client, app).instructor()
    _grade(client, attempt_id)
    response = client.post(f"/instructor/submissions/{attempt_id}/release",
                           data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 303
    _sent(app)
    [path] = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ann@example.com"
    assert f"{DEVELOPMENT_URL}/attempts/{attempt_id}" in message.get_content()


def _graded_batch(make_app, smtp, count):
    """An app mailing through `smtp`, with `count` learners' written work graded as
    drafts; the app and the instructor's client."""
    app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none")
    client = app.test_client()
    AuthActions(client, app).instructor()
    for n in range(count):
        learner = make_user(app, f"l{n}@example.com", f"Learner {n}").id
        assert _grade(client, submit(app, learner, VISION, VISION_ANSWER)).status_code == 303
    return app, client


def test_releasing_ten_reviews_sends_ten_mails_over_one_smtp_connection(make_app):
    with local_smtp("none") as smtp:
        app, client = _graded_batch(make_app, smtp, 10)
        assert _release_all(client).status_code == 303
        _sent(app)
        assert smtp.received.connections == 1
        assert sorted(m["To"] for m in smtp.received.messages) == sorted(
            f"l{n}@example.com" for n in range(10))
    assert _queue(app) == []


def test_a_failing_mail_server_leaves_the_mail_queued_and_send_mail_delivers_it(make_app):
    with local_smtp("none") as smtp:
        app, client = _graded_batch(make_app, smtp, 3)
        smtp.received.refusing = True
        assert _release_all(client).status_code == 303
        _sent(app)
        assert smtp.received.refused == 3 and smtp.received.messages == []
        queued = _queue(app)
        assert [(m.tries, m.next_try_at is not None) for m in queued] == [(1, True)] * 3
        assert "451" in queued[0].last_error
        with app.app_context():  # the release stands; only its mail waits
            assert {a.status for a in get_session().scalars(select(Attempt))} == {"reviewed"}

        smtp.received.refusing = False
        runner = app.test_cli_runner()
        early = runner.invoke(args=["send-mail"])  # the retry is not due yet
        assert early.exit_code == 0 and "Sent 0 emails" in early.output
        assert "Still queued: 3 (3 waiting to be retried)" in early.output
        with app.app_context():  # a minute on
            session = get_session()
            session.execute(update(QueuedMail).values(next_try_at=utcnow()))
            session.commit()
        connections = smtp.received.connections
        later = runner.invoke(args=["send-mail"])
        assert later.exit_code == 0, later.output
        assert "Sent 3 emails in 1 batch; 0 failed. Still queued: 0" in later.output
        assert smtp.received.connections == connections + 1
        assert sorted(m["To"] for m in smtp.received.messages) == [
            "l0@example.com", "l1@example.com", "l2@example.com"]
    assert _queue(app) == []


def test_with_the_mail_server_down_the_release_stands_and_its_mail_waits(make_app):
    with local_smtp("none") as smtp:
        port = smtp.port
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), MAIL_SECURITY="none")
    learner = make_user(app, "ann@example.com", "Ann Able").id
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    client = app.test_client()
    AuthActions(client, app).instructor()
    _grade(client, attempt_id)
    response = _release_all(client)
    assert response.status_code == 303
    _sent(app)
    with app.app_context():
        assert get_session().get(Attempt, attempt_id).status == "reviewed"
    [mail] = _queue(app)
    assert (mail.recipient, mail.tries) == ("ann@example.com", 1)
    # Instructors see that learners' mail is waiting, where they release reviews.
    page = client.get("/instructor/submissions").get_data(as_text=True)
    assert "1 email to learners is waiting to be sent" in page
    result = app.test_cli_runner().invoke(args=["send-mail", "--all"])
    assert result.exit_code == 1 and "0 failed" not in result.output


def test_mail_held_after_repeated_failures_goes_out_with_send_mail_all(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none")
        with app.app_context():
            session = get_session()
            mail_queue.enqueue(session, [mail_queue.Message("ann@example.com", "Hi", "Hello")])
            session.execute(update(QueuedMail).values(
                tries=mail_queue.MAX_TRIES, next_try_at=None, last_error="451"))
            session.commit()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["send-mail"])
        assert "Sent 0 emails" in result.output and "1 held after 8 failed tries" in result.output
        result = runner.invoke(args=["send-mail", "--all"])
        assert result.exit_code == 0 and "Sent 1 email in 1 batch" in result.output
        assert [m["To"] for m in smtp.received.messages] == ["ann@example.com"]


def test_a_release_that_rolls_back_queues_no_mail(app, people_for_mail):
    learner, teacher = people_for_mail
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    # A POST, as the release is: a GET of "/" (a reads_only page) would get a session in
    # autocommit on PostgreSQL, where nothing can be rolled back.
    with app.test_request_context(method="POST"):
        session = get_session()
        review_service.save_review(session, attempt_id, teacher, 1, review_service.ReviewInput(
            {"vision-short-aspirational": 2, "strategy-how-who-value": 2,
             "choices-not-features": 1, "vision-strategy-distinct": 1}, "Good."),
            course=get_course())

        def queue_then_fail(session, released):
            queue_feedback_mail(session, released)
            assert session.new  # the mail is in the release's transaction...
            raise RuntimeError("the release fails after its mail was queued")

        with pytest.raises(RuntimeError):
            release_service.release_reviews(session, teacher, course=get_course(),
                                            attempt_id=attempt_id, announce=queue_then_fail)
        session.rollback()  # as the request's teardown does
    assert _queue(app) == []  # ...so it went with it
    with app.app_context():
        assert get_session().get(Attempt, attempt_id).status == "awaiting_review"


def test_two_senders_at_once_send_each_mail_once(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none")
        with app.app_context():
            session = get_session()
            mail_queue.enqueue(session, [mail_queue.Message(f"m{n}@example.com", "Hi", "Hello")
                                         for n in range(60)])
            session.commit()

        def run() -> mail_queue.Delivery:
            with app.app_context():
                return mail_queue.deliver_due(get_session(), send_batch, batch_size=7)

        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda _: run(), range(2)))
        received = sorted(m["To"] for m in smtp.received.messages)
    assert received == sorted(f"m{n}@example.com" for n in range(60))  # each one once
    assert sum(r.sent for r in runs) == 60 and _queue(app) == []


@pytest.fixture
def people_for_mail(app):
    return (make_user(app, "ann@example.com", "Ann Able").id,
            make_user(app, "ines@example.com", "Ines", Role.INSTRUCTOR).id)


def test_daily_summary_tells_every_instructor_what_waits(make_app):
    with local_smtp("none") as smtp:
        app = make_app(MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_SECURITY="none",
                       PUBLIC_URL="https://course.example.org")
        runner = app.test_cli_runner()
        result = runner.invoke(args=["review-summary"])
        assert result.exit_code == 0 and "Nothing awaits review" in result.output
        make_user(app, "ines@example.com", "Ines", Role.INSTRUCTOR)
        make_user(app, "omar@example.com", "Omar", Role.INSTRUCTOR)
        learners = [make_user(app, f"l{n}@example.com", f"L {n}").id for n in range(3)]
        ids = [submit(app, person, VISION, VISION_ANSWER) for person in learners]
        submit(app, learners[0], SORT, sort_form(app))  # auto-graded: nothing to do
        teacher = app.test_client()
        teacher_auth = AuthActions(teacher, app)
        teacher_auth.sign_in("ines@example.com")
        _grade(teacher, ids[0])  # one draft waiting for release

        dry = runner.invoke(args=["review-summary", "--dry-run"])
        assert dry.exit_code == 0 and "dry run" in dry.output
        assert smtp.received.messages == []
        result = runner.invoke(args=["review-summary"])
        assert result.exit_code == 0, result.output
        assert "Summary queued for 2 instructors; 2 emails sent" in result.output
        received = list(smtp.received.messages)
    assert sorted(m["To"] for m in received) == ["ines@example.com", "omar@example.com"]
    body = received[0].get_content()
    assert ("- Write a vision and a strategy: 2 to grade (oldest waiting 0 days); "
            "1 draft review to release") in body
    assert "Roadmap or backlog" not in body
    assert "oldest first: https://course.example.org/instructor/submissions\r\n" in body
