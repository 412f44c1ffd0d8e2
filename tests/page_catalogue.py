"""Every page type of the site, as anonymous, learner and instructor, on a filled database.

The HTML checker (tests/test_valid_html.py) and axe-core (tests/browser/test_axe.py) both
walk this catalogue, so a page added here is checked by both. `test_catalogue_covers_
every_route` fails when a route is added without a visit here: add one to `visits()`.

Error states that only a POST produces (a refused sign-in, an incomplete answer, a review
with a bad score, a regrade report) are visits too: each carries the form to post.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from course import demo
from course.db import get_session
from course.grading import registry
from course.models import Attempt, Role, User
from course.models.timestamps import utcnow
from course.services import certificates, password_reset, review
from course.site import get_course
from tests.helpers import PASSWORD, make_user
from tests.review_factories import finish_every_step, pass_reviews

LEARNER = "catalogue-learner@example.com"
INSTRUCTOR = "catalogue-teacher@example.com"
LONG_NAME = "Maximiliana" + "x" * 60

# Endpoints that never render an HTML page (they redirect, or send a file or JSON).
NOT_PAGES = frozenset({"static", "auth.sign_out", "learn.toggle_complete",
                       "instruct.gradebook_csv", "health.health", "favicon",
                       "auth.sign_out_everywhere", "auth.download_data",
                       "instruct.release_review", "instruct.release_exercise",
                       "instruct.release_all",
                       "auth.change_email_settings"})


@dataclass(frozen=True)
class Visit:
    """One page to check: who looks at it, where, and (for an error state) what to post.

    `form` is posted after reading the hidden fields (CSRF token, exercise version,
    submission token) from the same URL's page; `status` is the expected status code.
    """

    role: str
    name: str
    endpoint: str
    url: str
    form: dict[str, str] | None = None
    status: int = 200
    source: str = ""  # the page the form is on, when not `url` itself
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Filled:
    """What `fill` made: the demo learner's attempt per exercise, one per kind for the
    instructor's submission page."""

    learner_email: str
    attempts_by_exercise: dict[str, int]
    certificate_url: str = "/certificates/x"  # of a learner who finished the course
    learner_id: int = 1  # the learner whose instructor's page is visited
    revoked_certificate_url: str = "/certificates/y"  # another finisher's, revoked


def fill(app: Flask) -> Filled:
    """A learner with an attempt at every exercise, classmates, and an instructor."""
    make_user(app, INSTRUCTOR, "Ines Instructor", Role.INSTRUCTOR)
    finisher = make_user(app, "catalogue-finisher@example.com", "Fina Finisher").id
    with app.app_context():
        session = get_session()
        course = get_course()
        made = demo.fill(session, course, learners=4, attempts=160, seed=7, password=PASSWORD)
        # The demo learner with the most exercises tried stands in for "a learner" on the
        # way (not the one who finished: nothing of theirs awaits review).
        busiest = session.execute(
            select(User.email, User.id).join(Attempt, Attempt.user_id == User.id)
            .where(User.email != made.finished_email)
            .group_by(User.id, User.email)
            .order_by(func.count(func.distinct(Attempt.exercise_id)).desc(), User.id)
            .limit(1)).one()
        # Their name has no break opportunity: pages must wrap it, not scroll sideways.
        session.execute(update(User).where(User.id == busiest.id)
                        .values(display_name=LONG_NAME))
        session.commit()
        rows = session.execute(
            select(Attempt.exercise_id, func.max(Attempt.id))
            .where(Attempt.user_id == busiest.id).group_by(Attempt.exercise_id)).all()
        # Written work awaiting review shows its status instead of the form: keep that
        # state among the pages checked (the demo's seed leaves one such exercise).
        newest = [id_ for _, id_ in rows]
        assert session.scalar(select(func.count()).where(
            Attempt.id.in_(newest), Attempt.status == "awaiting_review")), \
            "the catalogue needs an exercise whose newest attempt awaits review"
        # The learner assessed their written work themselves: shown on their attempt page
        # and beside the instructor's rubric on the submission page.
        for exercise_id, id_ in rows:
            exercise = course.exercise(exercise_id)
            if exercise is not None and not exercise.auto_graded:
                levels = {c.id: c.best_first[-1].points for c in exercise.spec.rubric}
                session.execute(update(Attempt).where(Attempt.id == id_)
                                .values(self_assessment={"levels": levels}))
        session.commit()
        _forgotten_draft(app, exclude=newest)
        finish(app, finisher)
        done = certificates.earned(session, course, finisher)
        assert done is not None, "the finisher has earned the certificate"
        issued = certificates.issue(session, course, finisher, done)
        return Filled(busiest.email, {exercise_id: id_ for exercise_id, id_ in rows},
                      f"/certificates/{issued.public_id}", busiest.id,
                      _revoked_certificate_url(app))


def visits(app: Flask, filled: Filled) -> list[Visit]:
    with app.app_context():
        course = get_course()
        lessons = [s for s in course.steps if s.kind == "lesson"]
        exercises = list(course.exercises)
    pages: list[Visit] = []

    def add(role: str, name: str, endpoint: str, url: str, **kw) -> None:
        pages.append(Visit(role, name, endpoint, url, **kw))

    for role in ("anonymous", "learner", "instructor"):
        add(role, "course home", "learn.home", "/")
        add(role, "lesson", "learn.lesson", f"/lessons/{lessons[0].id}")
        add(role, "not found", "", "/no-such-page", status=404)
    for lesson in lessons[1:]:
        add("anonymous", f"lesson {lesson.id}", "learn.lesson", f"/lessons/{lesson.id}")
    add("anonymous", "sign in", "auth.sign_in", "/signin")
    add("anonymous", "sign up", "auth.sign_up", "/signup")
    add("anonymous", "sign in refused", "auth.sign_in", "/signin",
        form={"email": LEARNER, "password": "not the password"}, status=400)
    add("anonymous", "sign up refused", "auth.sign_up", "/signup",
        form={"email": "not-an-email", "display_name": "", "password": "x", "confirm": "y"},
        status=400)
    add("anonymous", "forgot password refused", "auth.forgot_password", "/forgot-password",
        form={"email": ""}, status=400)
    reset = _reset_url(app)
    if reset:
        add("anonymous", "choose a new password", "auth.reset_password", reset)
        add("anonymous", "new password refused", "auth.reset_password", reset,
            form={"password": "password1", "confirm": "password2"}, status=400)
    for exercise in exercises:
        add("anonymous", f"exercise {exercise.id}", "learn.exercise",
            f"/exercises/{exercise.id}", tags=("board",))
        add("learner", f"exercise {exercise.id}", "learn.exercise",
            f"/exercises/{exercise.id}", tags=("board",))
        attempt = filled.attempts_by_exercise.get(exercise.id)
        if attempt:
            add("learner", f"attempt at {exercise.id}", "learn.attempt",
                f"/attempts/{attempt}")
            add("instructor", f"submission of {exercise.id}", "instruct.submission",
                f"/instructor/submissions/{attempt}")
    add("learner", "incomplete answer refused", "learn.submit_exercise",
        f"/exercises/{exercises[0].id}", form={}, status=400)
    add("learner", "my progress", "learn.my_progress", "/progress")
    add("learner", "account", "auth.account", "/account")
    for endpoint, url in (("auth.change_name", "/account/name"),
                          ("auth.change_password", "/account/password"),
                          ("auth.delete_account", "/account/delete")):
        add("learner", f"account form refused ({url})", endpoint, url, form={}, status=400,
            source="/account")
    add("anonymous", "forgot password", "auth.forgot_password", "/forgot-password")
    add("anonymous", "forgot password sent", "auth.forgot_password", "/forgot-password",
        form={"email": "nobody@example.com"})
    add("anonymous", "reset link not valid", "auth.reset_password",
        "/reset-password/not-a-token", status=404)
    add("learner", "course results", "learn.completion", "/complete")
    add("anonymous", "certificate", "learn.certificate", filled.certificate_url)
    add("anonymous", "certificate revoked", "learn.certificate",
        filled.revoked_certificate_url, status=410)
    add("anonymous", "certificate unknown", "learn.certificate",
        "/certificates/no-such-certificate", status=404)
    add("instructor", "dashboard", "instruct.dashboard", "/instructor/")
    add("instructor", "gradebook", "instruct.gradebook", "/instructor/gradebook")
    add("instructor", "misconceptions", "instruct.misconceptions",
        "/instructor/misconceptions")
    add("instructor", "activity", "instruct.activity", "/instructor/activity")
    add("instructor", "activity, 12 weeks", "instruct.activity", "/instructor/activity?weeks=12")
    add("instructor", "submissions", "instruct.submissions", "/instructor/submissions")
    add("instructor", "learner page", "instruct.learner",
        f"/instructor/learners/{filled.learner_id}")
    add("instructor", "draft reviews", "instruct.submissions",
        "/instructor/submissions?status=draft")
    add("instructor", "submissions filtered", "instruct.submissions",
        "/instructor/submissions?status=awaiting_review&learner=zo")
    written = next(e for e in exercises if e.kind == "review")
    reviewed = filled.attempts_by_exercise[written.id]
    add("learner", "self-assessment refused", "learn.self_assess",
        f"/attempts/{reviewed}/self-assessment", form={}, status=400,
        source=f"/attempts/{reviewed}")
    add("instructor", "review refused", "instruct.save_review",
        f"/instructor/submissions/{reviewed}",
        form={"feedback": "", "override": "250", "reason": ""}, status=400)
    sortable = next(e for e in exercises if e.kind != "review")
    add("instructor", "regrade preview", "instruct.regrade_preview",
        f"/instructor/exercises/{sortable.id}/regrade")
    add("instructor", "regrade report", "instruct.regrade",
        f"/instructor/exercises/{sortable.id}/regrade", form={},
        source=f"/instructor/submissions?exercise={sortable.id}")
    return pages


def _forgotten_draft(app: Flask, exclude: list[int]) -> None:
    """A draft review saved two days ago and never released, on written work of a learner
    other than the one whose pages are visited: the dashboard's drafts and their warning,
    and the queue of drafts, are among the pages checked."""
    with app.app_context():
        session, course = get_session(), get_course()
        attempt = session.scalar(select(Attempt).where(
            Attempt.status == "awaiting_review", Attempt.id.not_in(exclude))
            .order_by(Attempt.id).limit(1))
        assert attempt is not None, "the catalogue needs written work for a draft review"
        exercise = course.exercise(attempt.exercise_id)
        levels = {c.id: c.best_first[0].points
                  for c in registry.kind_of(exercise).rubric(exercise.spec)}
        instructor = session.scalar(select(User.id).where(User.email == INSTRUCTOR))
        saved = review.save_review(session, attempt.id, instructor, attempt.revision,
                                   review.ReviewInput(levels, "Strong work: see the notes."),
                                   course=course)
        assert saved.released is None, "the draft's exercise releases reviews when saved"
        session.execute(update(Attempt).where(Attempt.id == attempt.id).values(
            draft_saved_at=utcnow() - timedelta(days=2)))
        session.commit()


def finish(app: Flask, user_id: int) -> None:
    """Every step done, the written work reviewed and released by the instructor."""
    with app.app_context():
        instructor = get_session().scalar(select(User.id).where(User.email == INSTRUCTOR))
    pass_reviews(app, finish_every_step(app, user_id), instructor)


def _revoked_certificate_url(app: Flask) -> str:
    """A second finisher whose certificate an instructor revoked."""
    revoked = make_user(app, "catalogue-revoked@example.com", "Rex Revoked").id
    with app.app_context():
        session, course = get_session(), get_course()
        finish(app, revoked)
        done = certificates.earned(session, course, revoked)
        assert done is not None
        issued = certificates.issue(session, course, revoked, done)
        certificates.revoke(session, issued.public_id, "Issued by mistake.", utcnow())
        return f"/certificates/{issued.public_id}"


def _reset_url(app: Flask) -> str | None:
    """A live reset link for the catalogue learner (None before `fill` made them)."""
    with app.app_context():
        user = get_session().scalar(select(User).where(User.email == LEARNER))
        if user is None:
            return None
        return "/reset-password/" + password_reset.make_token(user, app.config["SECRET_KEY"])


class _HiddenFields(HTMLParser):
    """The hidden inputs of a page's forms (CSRF token, exercise version, token...)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields.setdefault(values["name"] or "", values.get("value") or "")


def hidden_fields(html: str) -> dict[str, str]:
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields


def credentials(role: str, filled: Filled) -> tuple[str, str] | None:
    if role == "learner":
        return filled.learner_email, PASSWORD
    if role == "instructor":
        return INSTRUCTOR, PASSWORD
    return None


def by_role(pages: list[Visit]) -> Iterator[tuple[str, list[Visit]]]:
    for role in ("anonymous", "learner", "instructor"):
        yield role, [v for v in pages if v.role == role]


def fetch(client: FlaskClient, visit: Visit) -> str:
    """The page's HTML as the visit's role sees it (posting its form when it has one)."""
    if visit.form is None:
        response = client.get(visit.url)
    else:
        source = client.get(visit.source or visit.url).get_data(as_text=True)
        response = client.post(visit.url, data={**hidden_fields(source), **visit.form})
    assert response.status_code == visit.status, (visit, response.status_code)
    return response.get_data(as_text=True)


def fetch_all(app: Flask, filled: Filled, pages: list[Visit]) -> Iterator[tuple[Visit, str]]:
    """Every visit's HTML, each role in its own signed-in test client."""
    for role, role_pages in by_role(pages):
        client = app.test_client()
        login = credentials(role, filled)
        if login:
            source = client.get("/signin").get_data(as_text=True)
            response = client.post("/signin", data={**hidden_fields(source),
                                                     "email": login[0], "password": login[1]})
            assert response.status_code == 302, f"{role} could not sign in"
        for visit in role_pages:
            yield visit, fetch(client, visit)
