"""Grading mail: the release email to learners (through a real local SMTP server and the
outbox), the learner's opt-out on the account page, and the instructors' daily summary."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from course.db import get_session
from course.models import Attempt, Role, User
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
        received = list(smtp.received.messages)

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
        assert smtp.received.messages == []

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
    [path] = sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ann@example.com"
    assert f"http://localhost/attempts/{attempt_id}" in message.get_content()


def test_a_failed_mail_does_not_undo_the_release(make_app):
    with local_smtp("none") as smtp:
        port = smtp.port
    # The server is gone: sending fails, the release stands and the instructor is told.
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), MAIL_SECURITY="none")
    learner = make_user(app, "ann@example.com", "Ann Able").id
    attempt_id = submit(app, learner, VISION, VISION_ANSWER)
    client = app.test_client()
    AuthActions(client, app).instructor()
    _grade(client, attempt_id)
    response = _release_all(client)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 email to learners could not be sent" in html
    with app.app_context():
        assert get_session().get(Attempt, attempt_id).status == "reviewed"


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
        assert "Summary sent to 2 of 2 instructors" in result.output
        received = list(smtp.received.messages)
    assert sorted(m["To"] for m in received) == ["ines@example.com", "omar@example.com"]
    body = received[0].get_content()
    assert ("- Write a vision and a strategy: 2 to grade (oldest waiting 0 days); "
            "1 draft review to release") in body
    assert "Roadmap or backlog" not in body
    assert "oldest first: https://course.example.org/instructor/submissions\r\n" in body
