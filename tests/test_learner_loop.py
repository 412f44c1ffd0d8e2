"""The learner's loop after a first attempt (issue 10): retry from the last answer, the
result page's "to review" links into lessons, the main button, running out of attempts,
step states, the header's feedback badge, completion and the public certificate."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from course.content.errors import ContentError
from course.content.loader import load_course
from course.db import get_session
from course.models import Attempt, Certificate, Role, User
from course.services import certificates
from course.site import get_course
from tests.helpers import PASSWORD, AuthActions, csrf_token, make_user
from tests.review_factories import copy_course, edit_file, finish_every_step, pass_reviews
from tests.test_exercise_views import (
    REVIEW,
    SORT,
    attempts_stored,
    correct_answer,
    envelope,
    exercise,
    post,
    text_of,
    wrong_sort_answer,
)

FIXTURE = Path(__file__).parent / "fixture_course"


def test_retry_starts_from_the_last_answer_and_can_start_over(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    wrong = wrong_sort_answer(ex)
    assert post(client, SORT, wrong).status_code == 303
    html = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert "Your answer from attempt 1 is filled in below" in text_of(client.get(
        f"/exercises/{SORT}"))
    for name, (value,) in wrong.items():
        assert f'name="{name}" value="{value}" checked' in html
    blank = client.get(f"/exercises/{SORT}?start=over").get_data(as_text=True)
    assert " checked" not in blank
    assert "filled in below" not in blank


def test_written_work_reopens_with_the_last_draft_once_reviewed(client, auth, app):
    auth.learner()
    ex = exercise(app, REVIEW)
    assert post(client, REVIEW, correct_answer(ex)).status_code == 303
    # While the work awaits review, the result page offers no Retry.
    attempt_page = client.get(
        f"/attempts/{_latest_attempt_id(app)}").get_data(as_text=True)
    assert ">Retry<" not in attempt_page
    assert "Awaiting review by an instructor" in attempt_page
    _release_as_not_passed(app)
    html = client.get(f"/exercises/{REVIEW}").get_data(as_text=True)
    text_prompt = next(p for p in ex.spec.prompts if p.format == "text")
    assert "Nothing **dated** &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
    assert f'name="r-{text_prompt.id}"' in html
    assert ">Grocer sync</textarea>" in html


def _release_as_not_passed(app) -> None:
    """What a released review that did not pass leaves on the learner's attempts."""
    with app.app_context():
        get_session().execute(update(Attempt).values(status="reviewed", score=0.4,
                                                     passed=False))
        get_session().commit()


def test_written_work_awaiting_review_shows_what_happens_next_not_the_form(
        client, auth, app):
    auth.learner()
    ex = exercise(app, REVIEW)
    answer = {**envelope(client, REVIEW), "confirm_last": "y", **correct_answer(ex)}
    assert client.post(f"/exercises/{REVIEW}", data=answer).status_code == 303
    newest = _latest_attempt_id(app)
    response = client.get(f"/exercises/{REVIEW}")
    html, body = response.get_data(as_text=True), text_of(response)
    assert "Your answer is awaiting review" in body
    assert "What happens next" in body
    assert "you have 1 attempt left" in body
    assert f'href="/attempts/{newest}"' in html
    assert "<form" not in html.split('id="awaiting-title"')[1].split("</article>")[0]
    assert "Submit answer" not in body and "Retry" not in body
    # A form still open in another tab is refused, and nothing is stored...
    again = {**answer, "submission_token": "a" * 32}
    refused = client.post(f"/exercises/{REVIEW}", data=again)
    assert refused.status_code == 409
    assert "still awaiting review" in text_of(refused)
    assert attempts_stored(app) == 1
    # ...while the same form resent (a double click) gets its stored attempt back.
    resent = client.post(f"/exercises/{REVIEW}", data=answer)
    assert resent.headers["Location"] == f"/attempts/{newest}"
    # Once the review is released the form is back, with the remaining attempt.
    _release_as_not_passed(app)
    page = text_of(client.get(f"/exercises/{REVIEW}"))
    assert "Submit answer" in page and "awaiting review" not in page


def test_the_first_and_only_attempt_needs_confirming(make_app, tmp_path):
    content = copy_course(tmp_path)
    edit_file(content / "exercises" / f"{SORT}.yaml",
              lambda text: text.replace("  max_attempts: 3\n", "  max_attempts: 1\n", 1))
    app = make_app(COURSE_CONTENT_DIR=str(content))
    client = app.test_client()
    AuthActions(client, app).learner()
    page = client.get(f"/exercises/{SORT}")
    assert 'name="confirm_last"' in page.get_data(as_text=True)
    assert "This exercise allows one attempt only" in text_of(page)
    data = {**envelope(client, SORT), **correct_answer(exercise(app, SORT))}
    refused = client.post(f"/exercises/{SORT}", data=data)
    assert refused.status_code == 400
    assert "This would use your last attempt" in text_of(refused)
    assert attempts_stored(app) == 0
    assert client.post(f"/exercises/{SORT}",
                       data={**data, "confirm_last": "y"}).status_code == 303
    assert attempts_stored(app) == 1


def _latest_attempt_id(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.max(Attempt.id)))


def test_the_last_attempt_needs_confirming(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    for _ in range(ex.policy.max_attempts - 1):
        assert post(client, SORT, wrong_sort_answer(ex)).status_code == 303
    page = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert 'name="confirm_last"' in page
    data = {**envelope(client, SORT), **correct_answer(ex)}
    refused = client.post(f"/exercises/{SORT}", data=data)
    assert refused.status_code == 400
    assert "This would use your last attempt" in text_of(refused)
    assert attempts_stored(app) == ex.policy.max_attempts - 1
    # The learner's answer is still on the page, and the same form goes through once ticked.
    html = refused.get_data(as_text=True)
    first = ex.spec.items[0]
    assert f'name="place-{first.id}" value="{first.bucket}" checked' in html
    accepted = client.post(f"/exercises/{SORT}", data={**data, "confirm_last": "y"})
    assert accepted.status_code == 303
    assert attempts_stored(app) == ex.policy.max_attempts


def test_a_resent_form_gets_its_attempt_without_confirming_again(client, auth, app):
    """A form stored when two attempts were left, sent again (reload, back button) once
    only the last is left: the learner gets that attempt, not the last-attempt question."""
    auth.learner()
    ex = exercise(app, SORT)
    for _ in range(ex.policy.max_attempts - 2):
        assert post(client, SORT, wrong_sort_answer(ex)).status_code == 303
    data = {**envelope(client, SORT), **correct_answer(ex)}
    stored = client.post(f"/exercises/{SORT}", data=data)
    assert stored.status_code == 303
    again = client.post(f"/exercises/{SORT}", data=data)
    assert (again.status_code, again.headers["Location"]) == (303, stored.headers["Location"])
    assert attempts_stored(app) == ex.policy.max_attempts - 1


def test_result_leads_with_what_to_review_and_links_to_the_lesson(client, auth, app):
    auth.learner()
    ex = exercise(app, "build-now-next-later")
    answer = correct_answer(ex)
    card = next(c for c in ex.spec.cards if c.accept == ("off",))
    answer[f"place-{card.id}"] = ["now"]
    location = post(client, ex.id, answer).headers["Location"]
    response = client.get(location)
    body = text_of(response)
    html = response.get_data(as_text=True)
    # The card, and the "no more than 3 cards in Now" rule its move broke.
    assert "2 to review" in body
    assert f'href="#item-{card.id}"' in html and f'id="item-{card.id}"' in html
    assert 'href="#rule-focused-now"' in html and 'id="rule-focused-now"' in html
    with app.app_context():
        section = get_course().review_sections(ex, card.id)[0]
    link = f'href="/lessons/{section.lesson_id}#{section.anchor}"'
    assert link in html
    lesson = client.get(f"/lessons/{section.lesson_id}").get_data(as_text=True)
    assert f'id="{section.anchor}"' in lesson
    # Not passed with attempts left: Retry is the main button, Next the secondary one.
    if not response.get_data(as_text=True).count("status-done"):
        assert f'class="button" href="/exercises/{ex.id}">Retry' in html


def test_passing_makes_next_the_main_button(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    html = client.get(post(client, SORT, correct_answer(ex)).headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        _, following = get_course().neighbours(SORT)
    assert f'class="button" href="/lessons/{following.id}">Next: ' in html \
        or f'class="button" href="/exercises/{following.id}">Next: ' in html
    assert ">Retry<" not in html
    assert "nothing to review" in text_of(client.get(f"/attempts/{_latest_attempt_id(app)}"))


def test_out_of_attempts_is_explained_and_shown_as_done_not_passed(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    for _ in range(ex.policy.max_attempts):
        location = post(client, SORT, wrong_sort_answer(ex)).headers["Location"]
    body = text_of(client.get(location))
    assert "You have used every attempt" in body
    assert "done, not passed" in body
    assert "still finish it and get your certificate of completion" in body
    assert "The model answer and the full explanation for every item are shown below" in body
    assert ">Retry<" not in client.get(location).get_data(as_text=True)
    exercise_page = text_of(client.get(f"/exercises/{SORT}"))
    assert "Done, not passed" in exercise_page
    assert "Submit answer" not in exercise_page
    progress = client.get("/progress").get_data(as_text=True)
    assert "</span>Done, not passed</span>" in progress
    assert "step-done-not-passed" in client.get("/").get_data(as_text=True)


def test_my_progress_shows_in_progress_and_awaiting_review(client, auth, app):
    auth.learner()
    post(client, SORT, wrong_sort_answer(exercise(app, SORT)))
    post(client, REVIEW, correct_answer(exercise(app, REVIEW)))
    html = client.get("/progress").get_data(as_text=True)
    assert "</span>In progress</span>" in html
    assert "</span>Awaiting review</span>" in html
    assert "</span>Not started</span>" in html


def test_header_shows_new_feedback_on_every_page(client, auth, app):
    user = auth.learner()
    post(client, SORT, wrong_sort_answer(exercise(app, SORT)))
    assert "New feedback" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        get_session().execute(update(Attempt).where(Attempt.user_id == user.id)
                              .values(feedback_unread=True))
        get_session().commit()
    for url in ("/", f"/exercises/{SORT}", "/lessons/backlogs"):
        html = client.get(url).get_data(as_text=True)
        assert 'New feedback<span class="visually-hidden"> on 1 exercise</span>' in html, url


def test_anonymous_visitor_is_told_to_sign_in_first_and_comes_back(client, auth, app):
    body = client.get(f"/exercises/{SORT}").get_data(as_text=True)
    assert "Sign in before you start." in body
    assert f'href="/signin?next=/exercises/{SORT}"' in body
    from tests.helpers import make_user
    make_user(app)
    response = auth.sign_in(next=f"/exercises/{SORT}")
    assert response.headers["Location"] == f"/exercises/{SORT}"


def finish_everything(app, user_id: int) -> None:
    """Every lesson marked, every exercise passed: written work reviewed and released."""
    with app.app_context():
        reviewer = get_session().scalar(select(User.id).where(
            User.email == "reviewer@example.com"))
    if reviewer is None:
        reviewer = make_user(app, "reviewer@example.com", "Rea Reviewer",
                             Role.INSTRUCTOR).id
    pass_reviews(app, finish_every_step(app, user_id), reviewer)


def _certificate_url(client) -> str:
    page = client.get("/complete").get_data(as_text=True)
    start = page.index('href="/certificates/') + len('href="')
    return page[start:page.index('"', start)]


def test_completion_page_and_public_certificate(client, auth, app):
    user = auth.learner()
    unfinished = text_of(client.get("/complete"))
    assert "still to do before you finish the course" in unfinished
    finish_everything(app, user.id)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/complete">See your course results and certificate' in home
    assert "You finished the course" in client.get("/complete").get_data(as_text=True)
    certificate_url = _certificate_url(client)

    auth.sign_out()
    certificate = client.get(certificate_url)
    assert certificate.status_code == 200
    body = text_of(certificate)
    assert "Certificate of completion" in body
    assert "Lee Learner" in body
    assert f"http://localhost{certificate_url}" in body


def test_a_certificate_is_an_issued_record_found_by_a_random_id(client, auth, app,
                                                                make_app):
    user = auth.learner()
    client.get("/complete")
    with app.app_context():  # nothing is issued before the course is finished
        assert get_session().scalar(select(func.count(Certificate.id))) == 0
    finish_everything(app, user.id)
    url = _certificate_url(client)
    assert _certificate_url(client) == url  # issued once, the same record after
    with app.app_context():
        [issued] = get_session().scalars(select(Certificate)).all()
        assert issued.user_id == user.id and issued.name_at_issue == "Lee Learner"
        assert issued.revoked_at is None and len(issued.public_id) >= 22
        assert url == f"/certificates/{issued.public_id}"
        # A second finisher gets an unrelated id, not the next number.
        other = make_user(app, "ann@example.com", "Ann Other").id
        finish_everything(app, other)
        done = certificates.earned(get_session(), get_course(), other)
        second = certificates.issue(get_session(), get_course(), other, done)
        assert second.public_id != issued.public_id
        # The record says what was certified: a later change of name does not alter it.
        get_session().execute(update(User).where(User.id == user.id)
                              .values(display_name="Renamed Later"))
        get_session().commit()
    assert "Lee Learner" in text_of(client.get(url))
    # No secret key in the link: a rotated key leaves every certificate valid.
    rotated = make_app(SECRET_KEY="a-new-secret-after-rotation")
    assert rotated.test_client().get(url).status_code == 200


@pytest.mark.parametrize("public_id", ["not-a-certificate", "x" * 300])
def test_an_unknown_certificate_is_not_valid(client, public_id):
    response = client.get(f"/certificates/{public_id}")
    assert response.status_code == 404
    body = text_of(response)
    assert "This certificate is not valid" in body and "No certificate has this address" in body


def test_a_revoked_certificate_says_so_and_the_learner_is_told(client, auth, app):
    user = auth.learner()
    finish_everything(app, user.id)
    url = _certificate_url(client)
    public_id = url.rsplit("/", 1)[1]
    runner = app.test_cli_runner()
    result = runner.invoke(args=["certificates", "revoke", public_id,
                                 "--reason", "Work copied from another learner."])
    assert result.exit_code == 0, result.output
    assert "is revoked" in result.output
    response = app.test_client().get(url)  # as anybody who has the link
    assert response.status_code == 410
    body = text_of(response)
    assert "This certificate is not valid" in body and "revoked it on" in body
    assert "Lee Learner" not in body and "copied" not in body  # the reason stays inside
    completion = text_of(client.get("/complete"))
    assert "Your certificate of completion was revoked" in completion
    assert "/certificates/" not in client.get("/complete").get_data(as_text=True)
    listed = runner.invoke(args=["certificates", "list"]).output
    assert public_id in listed and "learner@example.com" in listed
    assert "revoked" in listed and "Work copied from another learner." in listed
    unknown = runner.invoke(args=["certificates", "revoke", "nope", "--reason", "x"])
    assert unknown.exit_code != 0 and "there is no certificate 'nope'" in unknown.output


def test_certificate_ids_are_hex_and_an_old_id_beginning_with_a_dash_can_be_revoked(
        client, auth, app):
    """CI once drew an id beginning with "-", which `revoke` read as an option."""
    user = auth.learner()
    finish_everything(app, user.id)
    public_id = _certificate_url(client).rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", public_id)
    with app.app_context():
        get_session().execute(update(Certificate).values(public_id="-K3xOldUrlsafeId"))
        get_session().commit()
    result = app.test_cli_runner().invoke(
        args=["certificates", "revoke", "--reason", "Issued in error.", "--", "-K3xOldUrlsafeId"])
    assert result.exit_code == 0, result.output
    assert client.get("/certificates/-K3xOldUrlsafeId").status_code == 410


def test_deleting_the_account_deletes_the_certificate(client, auth, app):
    user = auth.learner()
    finish_everything(app, user.id)
    url = _certificate_url(client)
    exported = client.get("/account/my-data.json").get_json()
    assert exported["certificate"]["id"] == url.rsplit("/", 1)[1]
    assert exported["certificate"]["name"] == "Lee Learner"
    response = client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account"), "delete-password": PASSWORD})
    assert response.status_code == 302
    with app.app_context():
        assert get_session().scalar(select(func.count(Certificate.id))) == 0
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("taught_in", "message"), [
    ("no-such-lesson#x", "'no-such-lesson' is not a lesson id"),
    ("fixture-welcome#no-such-heading", "'no-such-heading' is not a heading id"),
])
def test_taught_in_is_checked_on_load(tmp_path, taught_in, message):
    folder = tmp_path / "course"
    shutil.copytree(FIXTURE, folder)
    yaml = folder / "course.yaml"
    text = yaml.read_text().replace("  - id: first-fact\n",
                                    f"  - id: first-fact\n    taught_in: {taught_in}\n", 1)
    yaml.write_text(text)
    with pytest.raises(ContentError) as error:
        load_course(folder)
    assert "facts[0].taught_in" in str(error.value)
    assert message in str(error.value)


def test_every_fact_of_the_course_links_to_a_lesson_heading(app):
    with app.app_context():
        course = get_course()
        for fact in course.facts:
            section = course.fact_section(fact.id)
            assert section is not None and section.anchor and section.heading, fact.id


def test_written_work_self_assessment_and_worked_example(client, auth, app):
    auth.learner()
    ex = exercise(app, REVIEW)
    location = post(client, REVIEW, correct_answer(ex)).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "Check your work against the rubric" in html
    assert "A worked example" in html
    attempt_id = int(location.rsplit("/", 1)[1])
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    url = f"/attempts/{attempt_id}/self-assessment"
    first, *rest = ex.spec.rubric
    # A criterion left out: a 400 naming it, nothing stored.
    refused = client.post(url, data={"csrf_token": token,
                                     f"self-{first.id}": str(first.levels[0].points)})
    assert refused.status_code == 400
    assert rest[0].title in text_of(refused)
    with app.app_context():
        assert get_session().get(Attempt, attempt_id).self_assessment is None
    data = {"csrf_token": token}
    for criterion in ex.spec.rubric:
        data[f"self-{criterion.id}"] = f"{criterion.max_points:g}"
    assert client.post(url, data=data).status_code == 303
    with app.app_context():
        stored = get_session().get(Attempt, attempt_id).self_assessment
    assert stored == {"levels": {c.id: c.max_points for c in ex.spec.rubric}}
    body = text_of(client.get(location))
    assert "Your assessment" in body
    assert "once your work is reviewed" in body
    # It is the learner's data: "download my data" includes it.
    exported = client.get("/account/my-data.json").get_json()
    assert any(a.get("self_assessment") == stored for a in exported["attempts"])


def test_self_assessment_of_someone_elses_or_auto_graded_work_is_refused(client, auth, app):
    from tests.helpers import make_user
    auth.learner()
    location = post(client, SORT, wrong_sort_answer(exercise(app, SORT))).headers["Location"]
    attempt_id = int(location.rsplit("/", 1)[1])
    from tests.helpers import csrf_token
    token = csrf_token(client, location)
    assert client.post(f"/attempts/{attempt_id}/self-assessment",
                       data={"csrf_token": token}).status_code == 404
    make_user(app, "other@example.com", "Other")
    auth.sign_out()
    auth.sign_in("other@example.com")
    token = csrf_token(client, "/")
    assert client.post(f"/attempts/{attempt_id}/self-assessment",
                       data={"csrf_token": token}).status_code == 404


SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)
SUMMARY_LINK = re.compile(r'<li><a href="#([^"]+)">')


@pytest.mark.parametrize("step_id", ["roadmap-or-backlog", "build-now-next-later",
                                     "final-quiz", "order-the-tools",
                                     "write-a-product-vision", "your-own-roadmap"])
def test_error_summary_links_to_each_field_in_error(client, auth, app, step_id):
    """An empty answer: one link per problem, each to the card, question or field it is
    about, so no problem leaves the learner hunting for its place on the page."""
    auth.learner()
    ex = exercise(app, step_id)
    refused = client.post(f"/exercises/{step_id}", data=envelope(client, step_id))
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    summary = SUMMARY.search(html).group(0)
    targets = SUMMARY_LINK.findall(summary)
    assert "Go to your answer" not in summary
    assert len(targets) == summary.count("<li>")
    for target in targets:
        assert html.count(f'id="{target}"') == 1, target
    if ex.kind in ("sort", "now-next-later"):
        items = ex.spec.items if ex.kind == "sort" else ex.spec.cards
        assert targets == [f"place-{i.id}" for i in items]
    elif ex.kind == "quiz":
        assert targets == [f"q-{q.id}" for q in ex.spec.questions]
    elif ex.kind == "order":
        assert targets == [f"pos-{i.id}" for i in ex.spec.items]
    else:
        assert targets == [f"r-{p.id}" for p in ex.spec.prompts]


def test_last_attempt_problem_links_to_the_box_to_tick(client, auth, app):
    auth.learner()
    ex = exercise(app, SORT)
    for _ in range(ex.policy.max_attempts - 1):
        post(client, SORT, wrong_sort_answer(ex))
    data = {**envelope(client, SORT), **correct_answer(ex)}
    html = client.post(f"/exercises/{SORT}", data=data).get_data(as_text=True)
    assert SUMMARY_LINK.findall(SUMMARY.search(html).group(0)) == ["confirm_last"]
    assert 'id="confirm_last"' in html
