"""Graded exercises in a real browser: by mouse drag, by keyboard only, without JavaScript,
with the "Move to…" menu, and the written-card board of a review exercise.

The right answers come from the exercise files themselves (through the grading registry),
so the tests follow the content when an author edits it.
"""

from __future__ import annotations

import re

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # conftest skips every browser test with the reason (fails on CI)
    Locator = Page = expect = None

from course.grading import registry
from tests.helpers import course_at

COURSE = course_at()
SORT = COURSE.exercise("roadmap-or-backlog")
PLAN = COURSE.exercise("build-now-next-later")
QUIZ = COURSE.exercise("roadmap-or-delivery-plan")
OWN_ROADMAP = COURSE.exercise("your-own-roadmap")
PASSWORD = "correct horse battery"


def sign_up(page: Page, base: str, email: str, name: str = "Board Tester") -> None:
    page.goto(base + "/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name="My progress")).to_be_visible()


def column_list(page: Page, label: str) -> Locator:
    """A board column: a list labelled by its heading, e.g. "Roadmap (3 cards)"."""
    return page.get_by_role("list", name=re.compile("^" + re.escape(label) + r" \("))


def column_heading(page: Page, label: str) -> Locator:
    """The column's heading, which shows its count: "Later (2 cards)"."""
    return page.get_by_role("heading", name=re.compile("^" + re.escape(label) + r" \("))


def card(page: Page, text: str) -> Locator:
    return page.get_by_role("listitem").filter(has=page.get_by_text(text, exact=True))


def drag(page: Page, item: Locator, target: Locator) -> None:
    """A real pointer drag: press on the card, move in steps onto the column, release.

    On a wide screen the columns sit beside the "To place" tray and stay in view
    (sticky) while it scrolls: bring the card into view, then the column if need be.
    """
    item.evaluate("el => el.scrollIntoView({block: 'center'})")
    target.evaluate("el => el.closest('.board-column').scrollIntoView({block: 'nearest'})")
    box, goal = item.bounding_box(), target.bounding_box()
    assert box and goal
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + 12
    y1 = min(max(y0, goal["y"] + 20), goal["y"] + goal["height"] - 20)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(goal["x"] + goal["width"] / 2, y1, steps=6)
    page.mouse.up()
    expect(target).to_contain_text(item_text(item))


def item_text(item: Locator) -> str:
    return item.locator(".card-text").inner_text()


def labels(exercise) -> dict[str, str]:
    return {b.id: b.label for b in exercise.spec.buckets}


def test_sort_by_dragging_with_a_retry_then_the_step_is_complete(live_server: str,
                                                                 page: Page) -> None:
    sign_up(page, live_server, "dragger@example.com")
    answer = registry.model_answer(SORT)["placements"]
    bucket_label = labels(SORT)
    other = {b: next(o for o in bucket_label if o != b) for b in bucket_label}
    items = SORT.spec.items
    wrong = {item.id for item in items[:4]}  # 10 of 14 right: below the 80 % pass mark

    # First attempt: every card dragged, four of them into the wrong bucket.
    page.goto(f"{live_server}/exercises/{SORT.id}")
    expect(column_heading(page, "To place")).to_have_text(f"To place ({len(items)} cards)")
    for item in items:
        bucket = other[answer[item.id]] if item.id in wrong else answer[item.id]
        drag(page, card(page, item.text), column_list(page, bucket_label[bucket]))
    expect(page.locator("#board-status")).to_contain_text(f"{len(items)} of {len(items)} placed.")
    page.get_by_role("button", name="Submit answer").click()

    expect(page.get_by_text("Not passed yet")).to_be_visible()
    expect(page.locator(".score")).to_have_text(f"{round(100 * 10 / 14)}%")
    expect(page.get_by_text(items[0].hint)).to_be_visible()  # a hint, not the answer
    expect(page.get_by_text(items[0].explanation)).to_have_count(0)
    page.get_by_role("link", name="Retry").click()

    # Second attempt: every card dragged to its right bucket.
    expect(page.get_by_role("heading", level=1)).to_have_text(SORT.title)
    for item in items:
        drag(page, card(page, item.text), column_list(page, bucket_label[answer[item.id]]))
    page.get_by_role("button", name="Submit answer").click()
    expect(page.locator(".score")).to_have_text("100%")
    expect(page.get_by_role("region", name="Result")).to_contain_text("Passed")
    expect(page.get_by_text(items[0].explanation)).to_be_visible()

    # The step is complete on the course outline and on My progress.
    page.goto(live_server + "/")
    step = page.locator(".step").filter(has_text=SORT.title)
    expect(step.get_by_text(re.compile(r"^\W*Passed$"))).to_be_visible()
    page.get_by_role("link", name="My progress").click()
    row = page.get_by_role("row").filter(has_text=SORT.title)
    expect(row.get_by_text(re.compile(r"^\W*Passed$"))).to_be_visible()
    expect(row).to_contain_text("100%")


def test_now_next_later_plan_by_keyboard_only(live_server: str, page: Page) -> None:
    sign_up(page, live_server, "keys@example.com")
    plan = dict(registry.model_answer(PLAN)["placements"])
    # One card too many in Now: the plan still passes, and the capacity rule's feedback shows.
    crowding = next(c.id for c in PLAN.spec.cards if plan[c.id] == "next")
    plan[crowding] = "now"
    expected = registry.grade(PLAN, {"placements": plan})
    capacity = next(r for r in PLAN.spec.rules if r.type == "capacity")
    page.goto(f"{live_server}/exercises/{PLAN.id}")
    order = ["", "now", "next", "later", "off"]  # the tray, then the columns left to right
    label = {"now": "Now", "next": "Next", "later": "Later", "off": "Off the roadmap"}
    total = len(PLAN.spec.cards)

    # Tab reaches the first card (the radios are out of the tab order once enhanced).
    first = card(page, PLAN.spec.cards[0].text)
    for _ in range(40):
        page.keyboard.press("Tab")
        if first.evaluate("el => el === document.activeElement"):
            break
    expect(first).to_be_focused()

    status = page.locator("#board-status")
    for n, c in enumerate(PLAN.spec.cards, start=1):
        item = card(page, c.text)
        expect(item).to_be_focused()  # the next card to place: no key needed to reach it
        page.keyboard.press("Space")
        expect(item).to_have_accessible_name(re.compile(r"Picked up$"))
        expect(status).to_contain_text("picked up")
        for _ in range(order.index(plan[c.id])):
            page.keyboard.press("ArrowRight")
        expect(status).to_have_text(f"'{c.text}' moved to {label[plan[c.id]]}. "
                                    f"{n} of {total} placed.")
        page.keyboard.press("Space")
        expect(status).to_contain_text(f"dropped in {label[plan[c.id]]}")
        expect(item).to_have_accessible_name(c.text)
        expect(column_list(page, label[plan[c.id]])).to_contain_text(c.text)

    # Escape puts a picked-up card back where it was.
    moved = card(page, PLAN.spec.cards[0].text)
    moved.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    expect(column_list(page, label[plan[PLAN.spec.cards[0].id]])).not_to_contain_text(
        PLAN.spec.cards[0].text)
    page.keyboard.press("Escape")
    expect(status).to_contain_text("Move cancelled")
    expect(column_list(page, label[plan[PLAN.spec.cards[0].id]])).to_contain_text(
        PLAN.spec.cards[0].text)

    page.get_by_role("button", name="Submit answer").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".score")).to_have_text(f"{round(expected.score * 100)}%")
    rules = page.get_by_role("region", name="Plan rules")
    expect(rules.get_by_text("Rule kept")).to_have_count(len(PLAN.spec.rules) - 1)
    broken = rules.get_by_role("listitem").filter(has_text="Rule broken")
    expect(broken).to_contain_text(capacity.feedback.strip())


def test_quiz_without_javascript_shows_feedback_per_question(live_server: str,
                                                             make_page) -> None:
    page = make_page(java_script_enabled=False)
    sign_up(page, live_server, "nojs@example.com")
    page.goto(f"{live_server}/exercises/{QUIZ.id}")
    questions = QUIZ.spec.questions
    chosen = []
    for n, q in enumerate(questions, start=1):
        group = page.get_by_role("group", name=re.compile(f"^Question {n} of {len(questions)}"))
        right = [o for o in q.options if o.correct]
        # The first question is answered wrongly on purpose: its feedback must say so.
        picks = [next(o for o in q.options if not o.correct)] if n == 1 else right
        for option in picks:
            group.get_by_label(option.text, exact=True).check()
        chosen.append(picks)
    page.get_by_role("button", name="Submit answer").click()

    expect(page.locator(".score")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Question \d"))).to_have_count(
        len(questions))
    for picks in chosen:
        for option in picks:
            expect(page.get_by_text(option.feedback.strip(), exact=True).first).to_be_visible()
    expect(page.get_by_text("Not right").first).to_be_visible()


def test_move_to_menu_and_the_written_card_board(live_server: str, page: Page) -> None:
    sign_up(page, live_server, "menus@example.com")
    page.goto(f"{live_server}/exercises/{SORT.id}")
    item = SORT.spec.items[0]
    target = labels(SORT)[item.bucket]
    the_card = card(page, item.text)
    opener = the_card.get_by_role("button", name=re.compile("^Move to"))

    # Escape closes the menu and gives focus back to its button.
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    expect(the_card.get_by_role("button", name=target, exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(opener).to_have_attribute("aria-expanded", "false")
    expect(opener).to_be_focused()

    opener.click()
    the_card.get_by_role("button", name=target, exact=True).click()
    expect(column_list(page, target)).to_contain_text(item.text)
    expect(page.locator("#board-status")).to_have_text(
        f"'{item.text}' moved to {target}. 1 of {len(SORT.spec.items)} placed.")
    expect(page.locator(f"input[name='place-{item.id}'][value='{item.bucket}']")).to_be_checked()
    expect(opener).to_be_focused()
    expect(page.get_by_text(f"{len(SORT.spec.items) - 1} of {len(SORT.spec.items)} items "
                            "still to place")).to_be_visible()

    # The written-card board: add cards with the buttons, move one, remove one, submit.
    page.goto(f"{live_server}/exercises/{OWN_ROADMAP.id}")
    cards = {"Now": "Families plan a week of dinners in ten minutes",
             "Next": "Shopping lists become supermarket orders",
             "Later": "Help families eat more healthily"}
    for column, text in cards.items():
        page.get_by_role("button", name=f"Add card to {column}").click()
        expect(page.locator(":focus")).to_have_attribute("name", "card-roadmap-text")
        page.keyboard.type(text)
        expect(page.locator("#board-status")).to_contain_text(f"New card in {column}")
    for column in cards:
        expect(column_heading(page, column)).to_have_text(f"{column} (1 card)")

    # A stray card: added to Now, moved to Later with the menu, then removed.
    page.get_by_role("button", name="Add card to Now").click()
    page.keyboard.type("Fix the login bug")
    stray = column_list(page, "Now").get_by_role("listitem").last
    stray.get_by_role("button", name="Move to…").click()
    stray.get_by_role("button", name="Later", exact=True).click()
    expect(column_heading(page, "Later")).to_have_text("Later (2 cards)")
    expect(page.locator("#board-status")).to_contain_text("'Fix the login bug' moved to Later")
    stray = column_list(page, "Later").get_by_role("listitem").last
    expect(stray.get_by_role("button", name="Move to…")).to_be_focused()
    stray.get_by_role("button", name="Remove").click()
    expect(column_heading(page, "Later")).to_have_text("Later (1 card)")
    expect(page.locator("#board-status")).to_contain_text("removed from Later")

    page.get_by_label(re.compile("What will you keep off the roadmap")).fill(
        "Bugs and user stories live in the backlog; the beta date lives in the delivery plan.")
    page.get_by_role("button", name="Submit answer").click()
    expect(page.get_by_text("Awaiting review by an instructor")).to_be_visible()
    for text in cards.values():
        expect(page.get_by_text(text).first).to_be_visible()
    expect(page.get_by_text("Fix the login bug")).to_have_count(0)
