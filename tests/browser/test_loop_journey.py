"""The whole course on a 390x844 touch phone, walked through the pages only.

A new learner signs up and follows the course's own buttons from the first step to the
last: lessons are marked complete, every sort and Now-Next-Later board is done by tapping
(a card, then a column), one sort is failed, reviewed through its "Review this" link and
retried from the previous answer, a quiz runs out of attempts and says what that means,
written work is submitted, the order exercise is solved with its buttons, and the finished
course leads to the completion page and a certificate whose printed link works for anyone.
axe-core checks the pages on the way. Nothing is set up in the database.

A shorter test checks the same retry without JavaScript (radio buttons, "Start over").
"""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Locator = Page = expect = None

from course.grading import now_next_later, registry
from tests.browser.axe import axe_source, violations
from tests.helpers import course_at

COURSE = course_at()
STEPS = {step.id: step for step in COURSE.steps}
FAILED_SORT = COURSE.exercise("vision-or-strategy")  # failed once, then retried
EXHAUSTED = COURSE.exercise("roadmap-or-delivery-plan")  # every attempt used, not passed
PASSWORD = "correct horse battery"
WIDTH, HEIGHT = 390, 844
PHONE = {"viewport": {"width": WIDTH, "height": HEIGHT}, "has_touch": True, "is_mobile": True}
WRITTEN = {
    "r-vision": "Forkcast, a meal-planning app: every family sits down to dinner without "
                "the daily worry of what to cook.",
    "r-strategy": "1. Busy parents first: a week planned in ten minutes. 2. Shopping lists "
                  "people trust. 3. No recipe social network: we stay a planner.",
    "r-notes": "Bugs and user stories go to the backlog; the beta date goes in the delivery "
               "plan.",
}
OWN_ROADMAP = {"Now": "Families plan a week of dinners in ten minutes",
               "Next": "Shopping lists become supermarket orders",
               "Later": "Families eat more healthily without extra effort"}


def no_axe_violations(page: Page, where: str) -> None:
    found = violations(page, axe_source())
    assert not found, f"axe-core on {where}:\n" + "\n".join(found)


def sign_up(page: Page, email: str, name: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").tap()
    expect(page.get_by_role("link", name=re.compile("^My progress"))).to_be_visible()


def column_list(page: Page, label: str) -> Locator:
    """A board column: a list labelled by its heading, e.g. "Vision (3 cards)"."""
    return page.get_by_role("list", name=re.compile("^" + re.escape(label) + r" \("))


def tap_place(page: Page, text: str, label: str) -> None:
    """Tap a card, then the column's button in the bar that stays in view."""
    card = page.locator(".board-list > li").filter(has_text=text)
    card.locator(".card-text").tap()
    expect(card).to_have_accessible_name(f"{text} Selected")
    targets = page.get_by_role("group", name="Move the selected card to")
    expect(targets).to_be_visible()
    box = targets.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, "targets out of view"
    button = targets.get_by_role("button", name=re.compile("^" + re.escape(label) + r" \("))
    assert button.bounding_box()["height"] >= 44, "tap target under 44 px"
    button.tap()
    expect(targets).to_be_hidden()
    expect(column_list(page, label)).to_contain_text(text)


def tap_board(page: Page, placements: dict[str, str], texts: dict[str, str],
              labels: dict[str, str]) -> None:
    """Place every card by tapping, checking the touch instructions and announcements."""
    expect(page.get_by_text("Tap a card, then tap where it goes.")).to_be_visible()
    expect(page.get_by_text("Press Space to pick up")).to_be_hidden()
    total = len(placements)
    for n, (item_id, column) in enumerate(placements.items(), start=1):
        tap_place(page, texts[item_id], labels[column])
        expect(page.locator("#board-status")).to_contain_text(f"{n} of {total} placed.")
    for move in page.locator(".card-move").all():
        assert move.bounding_box()["height"] >= 44, "Move to button under 44 px"


def sort_placements(exercise) -> dict[str, str]:
    return dict(registry.model_answer(exercise)["placements"])


def sort_texts(exercise) -> dict[str, str]:
    return {item.id: item.text for item in exercise.spec.items}


def bucket_labels(exercise) -> dict[str, str]:
    return {b.id: b.label for b in exercise.spec.buckets}


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit answer").tap()


def go_next(page: Page, following_id: str | None) -> None:
    """The result page's main button: Next, or the course results after the last step."""
    name = f"Next: {STEPS[following_id].title}" if following_id else "See your course results"
    page.get_by_role("link", name=name, exact=True).first.tap()


def do_lesson(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Mark as complete")).tap()
    expect(page.get_by_role("status")).to_contain_text("as complete.")


def do_sort(page: Page, exercise) -> None:
    tap_board(page, sort_placements(exercise), sort_texts(exercise), bucket_labels(exercise))
    submit(page)
    expect(page.locator(".score")).to_have_text("100%")


def fail_review_and_retry_sort(page: Page, exercise) -> None:
    """Four cards in the wrong bucket, "Review this", then a retry that starts where the
    learner left the cards: only the four are moved again."""
    answer = sort_placements(exercise)
    texts, labels = sort_texts(exercise), bucket_labels(exercise)
    wrong = {item_id: next(b for b in labels if b != answer[item_id])
             for item_id in list(answer)[:4]}
    tap_board(page, {**answer, **wrong}, texts, labels)
    no_axe_violations(page, "a sort board placed by tapping")
    submit(page)

    expect(page.get_by_text("Not passed yet")).to_be_visible()
    expect(page.get_by_role("link", name="4 to review")).to_be_visible()
    expect(page.get_by_role("heading", name="To review (4)")).to_be_visible()
    no_axe_violations(page, "a failed attempt's result")
    review = page.locator(".review-link a").first
    href = review.get_attribute("href") or ""
    lesson_id, anchor = href.split("/lessons/")[1].split("#")
    review.tap()
    expect(page).to_have_url(re.compile(re.escape(f"/lessons/{lesson_id}#{anchor}") + "$"))
    heading = page.locator(f"#{anchor}")
    expect(heading).to_be_in_viewport()
    page.go_back()

    page.get_by_role("link", name=re.compile("^Retry")).tap()
    expect(page.get_by_text("Your answer from attempt 1 is filled in below")).to_be_visible()
    for item_id, bucket in {**answer, **wrong}.items():
        expect(column_list(page, labels[bucket])).to_contain_text(texts[item_id])
    for item_id in wrong:
        tap_place(page, texts[item_id], labels[answer[item_id]])
    submit(page)
    expect(page.locator(".score")).to_have_text("100%")
    expect(page.get_by_role("region", name="Result")).to_contain_text("Passed")


def choose(page: Page, quiz, right: bool) -> None:
    """Answer every question of a quiz, all right or all wrong (checking, not toggling:
    a retry arrives with the previous picks already made)."""
    total = len(quiz.spec.questions)
    for n, question in enumerate(quiz.spec.questions, start=1):
        group = page.get_by_role("group", name=re.compile(f"^Question {n} of {total}"))
        first_wrong = next(o for o in question.options if not o.correct)
        for option in question.options:
            box = group.get_by_label(option.text, exact=True)
            if (option.correct if right else option is first_wrong):
                box.check()
            elif box.get_attribute("type") == "checkbox":
                box.uncheck()


def do_quiz(page: Page, quiz) -> None:
    choose(page, quiz, right=True)
    submit(page)
    expect(page.locator(".score")).to_have_text("100%")


def run_out_of_attempts(page: Page, quiz) -> None:
    """Every attempt wrong; the last one asks to be confirmed; then the step is explained."""
    attempts = quiz.policy.max_attempts
    assert attempts
    for number in range(1, attempts + 1):
        if number == 1:
            choose(page, quiz, right=False)
        else:
            page.get_by_role("link", name=re.compile("^Retry")).tap()
            expect(page.get_by_text(f"Your answer from attempt {number - 1} is filled in "
                                    "below")).to_be_visible()
        if number == attempts:
            confirm = page.get_by_label("I understand this is my last attempt at this exercise")
            expect(confirm).to_be_visible()
            confirm.check()
        submit(page)
        expect(page.get_by_text(f"{number} of {attempts} attempts used")).to_be_visible()

    expect(page.get_by_role("heading", name="You have used every attempt")).to_be_visible()
    expect(page.get_by_text("done, not passed", exact=True)).to_be_visible()
    expect(page.get_by_text("still finish it and get your certificate")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Retry"))).to_have_count(0)
    expect(page.locator(".out-of-attempts").get_by_role("link").filter(
        has_text=re.compile(r"\S"))).not_to_have_count(0)
    no_axe_violations(page, "an exercise out of attempts")


def do_plan(page: Page, exercise) -> None:
    labels = dict(now_next_later.COLUMNS)
    texts = {card.id: card.text for card in exercise.spec.cards}
    tap_board(page, sort_placements(exercise), texts, labels)
    no_axe_violations(page, "a Now-Next-Later board placed by tapping")
    submit(page)
    expect(page.get_by_role("region", name="Result")).to_contain_text("Passed")


def do_order(page: Page, exercise) -> None:
    in_order = page.locator(".order-list > li")
    for item in exercise.spec.items:
        if item.position is None:
            page.get_by_role("button", name=f"Doesn't belong \u201c{item.text}\u201d").tap()
            expect(page.locator("#order-status")).to_contain_text("is in Doesn't belong")
    for item in exercise.spec.ordered:
        up = page.get_by_role("button", name=f"Move up \u201c{item.text}\u201d")
        while in_order.nth(item.position - 1).get_attribute("data-item") != item.id:
            before = in_order.evaluate_all("els => els.map(el => el.dataset.item).join()")
            up.tap()
            after = in_order.evaluate_all("els => els.map(el => el.dataset.item).join()")
            assert after != before, f"Move up did not move {item.id}"
    expect(page.locator(".order-count")).to_contain_text("Every position is filled")
    submit(page)
    expect(page.locator(".score")).to_have_text("100%")


def do_written(page: Page, exercise) -> None:
    for prompt in exercise.spec.prompts:
        if prompt.format == "text":
            page.locator(f"#r-{prompt.id}").fill(WRITTEN[f"r-{prompt.id}"])
            continue
        for column, text in OWN_ROADMAP.items():
            page.get_by_role("button", name=f"Add card to {column}").tap()
            expect(page.locator(":focus")).to_have_attribute("name",
                                                             f"card-{prompt.id}-text")
            page.keyboard.type(text)
            expect(column_list(page, column).get_by_role("textbox").last).to_have_value(text)
    submit(page)
    expect(page.get_by_text("Awaiting review by an instructor")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^Retry"))).to_have_count(0)


def test_a_new_learner_walks_the_whole_course_on_a_touch_phone(live_server, make_page):
    base = live_server
    page = make_page(**PHONE)
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up to save your progress").tap()
    sign_up(page, "phone@example.com", "Pat Phone")
    expect(page.get_by_role("status")).to_contain_text("Welcome, Pat Phone!")
    no_axe_violations(page, "the course home, signed in")
    page.get_by_role("link", name=f"Start with: {COURSE.steps[0].title}").tap()

    steps = list(COURSE.steps)
    for index, step in enumerate(steps):
        following = steps[index + 1].id if index + 1 < len(steps) else None
        kind = "lessons" if step.kind == "lesson" else "exercises"
        expect(page).to_have_url(re.compile(re.escape(f"/{kind}/{step.id}") + "$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        if step.kind == "lesson":
            do_lesson(page)
            continue  # marking it complete went on to the next step
        exercise = COURSE.exercise(step.id)
        if exercise is FAILED_SORT:
            fail_review_and_retry_sort(page, exercise)
        elif exercise is EXHAUSTED:
            run_out_of_attempts(page, exercise)
        elif exercise.kind == "sort":
            do_sort(page, exercise)
        elif exercise.kind == "quiz":
            do_quiz(page, exercise)
        elif exercise.kind == "now-next-later":
            do_plan(page, exercise)
        elif exercise.kind == "order":
            do_order(page, exercise)
        elif exercise.kind == "review":
            do_written(page, exercise)
        else:
            raise AssertionError(f"the journey does not know how to do a {exercise.kind}")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, step.id
        go_next(page, following)

    # The last step's button leads to the results: every step worked through, the
    # exhausted one shown, and no certificate, since the course's rule asks for every
    # graded exercise passed (certificates: tests/test_learner_loop.py, test_standing.py).
    expect(page.get_by_role("heading", name="Your course results so far")).to_be_visible()
    expect(page.get_by_text("You have worked through every step")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=EXHAUSTED.title)).to_contain_text(
        "Done, not passed")
    expect(page.get_by_role("link", name="Open your certificate")).to_have_count(0)
    no_axe_violations(page, "the completion page")

    # The course home and My progress agree.
    page.goto(base + "/")
    expect(page.get_by_role("link", name="See your course results and certificate")).to_be_visible()
    page.get_by_role("link", name=re.compile("^My progress")).tap()
    expect(page.get_by_role("row").filter(has_text=EXHAUSTED.title)).to_contain_text(
        "Done, not passed")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_retry_without_javascript_starts_from_the_previous_answer(live_server, make_page):
    sort = COURSE.exercise("roadmap-or-backlog")
    labels = bucket_labels(sort)
    answer = sort_placements(sort)
    page = make_page(java_script_enabled=False, **PHONE)
    # A visitor is told to sign in first, and comes back to the exercise.
    page.goto(f"{live_server}/exercises/{sort.id}")
    expect(page.get_by_text("Sign in before you start.")).to_be_visible()
    page.get_by_role("link", name="create an account").click()
    sign_up(page, "nojs@example.com", "Noa Script")
    expect(page).to_have_url(f"{live_server}/exercises/{sort.id}")

    first = sort.spec.items[0]
    wrong = next(b for b in labels if b != answer[first.id])
    mistaken = {item.id for item in sort.spec.items[:4]}  # 10 of 14: below the pass mark
    for item in sort.spec.items:
        bucket = next(b for b in labels if b != answer[item.id]) \
            if item.id in mistaken else answer[item.id]
        page.get_by_role("group", name=f'Where does "{item.text}" go?') \
            .get_by_label(labels[bucket], exact=True).check()
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_role("link", name="4 to review")).to_be_visible()

    page.get_by_role("link", name=re.compile("^Retry")).click()
    expect(page.get_by_text("Your answer from attempt 1 is filled in below")).to_be_visible()
    group = page.get_by_role("group", name=f'Where does "{first.text}" go?')
    expect(group.get_by_label(labels[wrong], exact=True)).to_be_checked()
    page.get_by_role("link", name="Start over with a blank answer").click()
    expect(page.get_by_role("group", name=f'Where does "{first.text}" go?')
           .get_by_label(labels[wrong], exact=True)).not_to_be_checked()
