"""The instructor report pages: access, rendering, the CSV export, and query counts."""

from __future__ import annotations

import csv
import io
import re

import pytest

from course import demo
from course.db import get_engine, get_session
from course.models import User
from course.services.reports import gradebook as gradebook_report
from course.services.reports import misconceptions as misconception_report
from course.site import get_course
from tests.helpers import count_queries, make_user

SORT_ID = "roadmap-or-backlog"

PAGES = ["/instructor/", "/instructor/gradebook", "/instructor/gradebook.csv",
         "/instructor/misconceptions", "/instructor/activity"]


def fill(app, learners: int, attempts: int, seed: int = 1) -> None:
    with app.app_context():
        demo.fill(get_session(), get_course(), learners=learners, attempts=attempts, seed=seed)


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_learners_are_refused(auth, client, path):
    auth.learner()
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_an_instructor_on_an_empty_database(auth, client, path):
    auth.instructor()
    assert client.get(path).status_code == 200


def test_pages_show_the_demo_cohort(app, auth, client):
    fill(app, learners=6, attempts=80)
    auth.instructor()
    html = client.get("/instructor/").get_data(as_text=True)
    assert "Roadmap or backlog?" in html
    assert "/instructor/submissions?exercise=write-a-product-vision&amp;status=awaiting_review" \
        in html
    assert 'href="/instructor/gradebook"' in html  # the sub-navigation
    book = client.get("/instructor/gradebook").get_data(as_text=True)
    assert "Zoë Ångström" in book and "learner1@demo.example" in book
    # User text is escaped, never markup.
    assert "=HYPERLINK(&#34;https://evil.example&#34;" in book
    report = client.get("/instructor/misconceptions").get_data(as_text=True)
    assert 'id="ex-roadmap-or-backlog"' in report
    assert "Most common wrong bucket" in report


def test_gradebook_pages_and_refuses_a_page_past_the_end(app, auth, client):
    app.config["GRADEBOOK_PAGE_SIZE"] = 4
    fill(app, learners=6, attempts=30)
    auth.instructor()
    first = client.get("/instructor/gradebook").get_data(as_text=True)
    assert "Page 1 of 2" in first
    fourth = re.findall(r'<span class="meta learner-email">([^<]+)</span>', first)[-1]
    with app.app_context():
        after = get_session().query(User).filter_by(email=fourth).one().id
    assert f'rel="next" href="/instructor/gradebook?page=2&amp;after={after}"' in first
    second = client.get(f"/instructor/gradebook?page=2&after={after}").get_data(as_text=True)
    assert 'rel="prev" href="/instructor/gradebook"' in second and 'rel="next"' not in second
    assert second == client.get("/instructor/gradebook?page=2").get_data(as_text=True)
    counts = []
    for url in ("/instructor/gradebook", f"/instructor/gradebook?page=2&after={after}"):
        with count_queries(app) as statements:
            client.get(url)
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert client.get("/instructor/gradebook?page=3").status_code == 404
    assert client.get("/instructor/gradebook?page=0").status_code == 404


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_csv_export_header_encoding_and_download_headers(app, auth, client):
    fill(app, learners=5, attempts=40)
    auth.instructor()
    response = client.get("/instructor/gradebook.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="gradebook-')
    assert disposition.endswith('.csv"')
    rows = read_csv(response)
    with app.app_context():
        exercise_ids = [e.id for e in get_course().exercises]
    assert rows[0] == ["learner_id", "name", "email", *exercise_ids, "awaiting_review", "total",
                       "completion"]
    assert read_csv(client.get("/instructor/gradebook.csv"))[0] == rows[0]  # stable
    assert get_engine(app).pool.checkedout() == 0  # the stream closed its session
    assert len(rows) == 1 + 5
    by_email = {r[2]: r for r in rows[1:]}
    assert by_email["learner1@demo.example"][1] == "Zoë Ångström"
    for row in rows[1:]:
        scores, pending = row[3:3 + len(exercise_ids)], row[3 + len(exercise_ids)]
        assert int(pending) == scores.count("awaiting review")
        for cell in [*scores, *row[-2:]]:
            assert cell in ("", "awaiting review") or (
                0 <= float(cell) <= 100 and len(cell.split(".")[1]) == 1)


@pytest.mark.parametrize("name", ["=1+2", "+SUM(A1:A3)", "-2+3", "@SUM(A1)", '=HYPERLINK("x")'])
def test_csv_export_neutralises_formulas_in_names(app, auth, client, name):
    make_user(app, "formula@example.com", name)
    auth.instructor()
    rows = read_csv(client.get("/instructor/gradebook.csv"))
    row = next(r for r in rows[1:] if r[2] == "formula@example.com")
    assert row[1] == "'" + name


@pytest.mark.parametrize(("name", "shown"), [
    ("X45\t=1+1", "X45\t'=1+1"), ("X45\r=1+1", "X45\r'=1+1"), ("\uff1d1+1", "'=1+1"),
    ("\uff0bSUM(A1)", "'+SUM(A1)"), ("\uff20SUM(A1)", "'@SUM(A1)")])
def test_csv_export_neutralises_formulas_after_a_tab_and_full_width_ones(
        app, auth, client, name, shown):
    make_user(app, "formula@example.com", name)
    auth.instructor()
    rows = read_csv(client.get("/instructor/gradebook.csv"))
    [row] = [r for r in rows[1:] if r[2] == "formula@example.com"]
    assert row[1] == shown


def test_csv_export_quotes_every_cell_and_neutralises_after_a_semicolon(app, auth, client):
    make_user(app, "semi@example.com", "x;=cmd|' /C calc'!A0;")
    auth.instructor()
    body = client.get("/instructor/gradebook.csv").get_data().decode("utf-8-sig")
    line = next(line for line in body.split("\r\n") if "semi@example.com" in line)
    assert line.startswith('"') and line.count('","') == len(read_csv_row(line)) - 1
    assert "\"x;'=cmd|' /C calc'!A0;\"" in line
    for piece in line.replace(",", ";").split(";"):
        assert not piece.lstrip(' "').startswith(tuple("=+-@\t\r")), piece


def read_csv_row(line: str) -> list[str]:
    return next(csv.reader([line]))


def test_query_counts_do_not_grow_with_the_data(app, auth, client):
    app.config["GRADEBOOK_PAGE_SIZE"] = 5
    paths = ["/instructor/", "/instructor/gradebook", "/instructor/gradebook?page=2",
             "/instructor/misconceptions", "/instructor/activity",
             "/instructor/activity?weeks=12"]
    auth.instructor()

    def counts() -> dict[str, int]:
        result = {}
        for path in paths:
            with count_queries(app) as statements:
                assert client.get(path).status_code == 200
            result[path] = len(statements)
        return result

    fill(app, learners=12, attempts=60)
    small = counts()
    fill(app, learners=40, attempts=800, seed=2)
    with app.app_context():
        assert get_session().query(User).count() == 53
    assert counts() == small
    assert max(small.values()) <= 6


def test_gradebook_page_and_csv_show_awaiting_review_apart_from_not_attempted(app, auth,
                                                                             client):
    from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit

    learner = make_user(app, "pat@example.com", "Pat Pending").id
    submit(app, learner, VISION, VISION_ANSWER)
    submit(app, learner, SORT, sort_form(app))
    auth.instructor()
    html = client.get("/instructor/gradebook").get_data(as_text=True)
    assert "awaiting review</a>" in html and "not attempted" in html
    assert "counts as 0 until it is graded" in html
    rows = read_csv(client.get("/instructor/gradebook.csv"))
    header, row = rows[0], next(r for r in rows[1:] if r[2] == "pat@example.com")
    cells = dict(zip(header, row, strict=True))
    assert cells[VISION] == "awaiting review" and cells[SORT] == "100.0"
    assert cells["final-quiz"] == "" and cells["awaiting_review"] == "1"
    with app.app_context():
        share = 100 / len(get_course().exercises)
    assert cells["total"] == f"{share:.1f}"


def test_dashboard_draws_each_score_distribution_with_its_numbers(app, auth, client):
    from tests.review_factories import SORT, VISION, VISION_ANSWER, sort_form, submit

    for n, wrong in enumerate((0, 0, 9)):
        learner = make_user(app, f"d{n}@example.com", f"D {n}").id
        submit(app, learner, SORT, sort_form(app, wrong=wrong))
        submit(app, learner, VISION, VISION_ANSWER)
    auth.instructor()
    html = client.get("/instructor/").get_data(as_text=True)
    figure = html.split('id="dist-roadmap-or-backlog-caption"')[1].split("</figure>")[0]
    assert '<svg class="chart-svg"' in figure and 'role="img"' in figure
    assert "<script" not in html.split('id="distribution-title"')[1]
    assert figure.count('<rect class="chart-bar') == 6
    assert '<th scope="row">80\u2013100%</th><td class="num">2</td>' in figure
    assert '<th scope="row">awaiting review</th><td class="num">0</td>' in figure
    written = html.split('id="dist-write-a-product-vision-caption"')[1].split("</figure>")[0]
    assert '<th scope="row">awaiting review</th><td class="num">3</td>' in written


def test_a_kept_score_distribution_follows_its_counts(app, auth, client):
    """Each worker keeps a drawn chart while its exercise's counts read back the same."""
    from tests.review_factories import SORT, sort_form, submit

    def chart() -> str:
        html = client.get("/instructor/").get_data(as_text=True)
        return html.split('id="dist-roadmap-or-backlog-caption"')[1].split("</figure>")[0]

    submit(app, make_user(app, "k0@example.com", "K 0").id, SORT, sort_form(app, wrong=0))
    auth.instructor()
    first = chart()
    assert chart() == first and '<th scope="row">80\u2013100%</th><td class="num">1</td>' in first
    submit(app, make_user(app, "k1@example.com", "K 1").id, SORT, sort_form(app, wrong=0))
    assert '<th scope="row">80\u2013100%</th><td class="num">2</td>' in chart()


def test_misconceptions_draw_a_stacked_bar_per_item_with_its_numbers(app, auth, client):
    from tests.review_factories import SORT, sort_form, submit

    for n, wrong in enumerate((0, 0, 1)):
        submit(app, make_user(app, f"m{n}@example.com", f"M {n}").id, SORT,
               sort_form(app, wrong=wrong))
    auth.instructor()
    html = client.get("/instructor/misconceptions").get_data(as_text=True)
    section = html.split('id="ex-roadmap-or-backlog"')[1].split("</section>")[0]
    assert "<script" not in section and 'id="chart-hatch"' in html  # hatching defined once
    first = section.split('<li class="mc-item">')[1]  # worst understood: the moved item
    assert '<svg class="chart-svg"' in first and 'role="img"' in first
    # Right first, hatched, two thirds of the bar; the wrong bucket the other third.
    assert '<rect class="chart-seg chart-seg-right" x="0" y="0" width="200.0"' in first
    assert '<rect class="chart-seg chart-seg-1" x="200.0" y="0" width="100.0"' in first
    rows = first.split("<tbody>")[1]
    assert "<strong>Right</strong>" in rows and "2 (67%)" in rows
    assert ("Roadmap" in rows or "Backlog" in rows) and "1 (33%)" in rows


def test_misconceptions_parts_are_rendered_again_only_when_their_counts_change(app, auth,
                                                                              client):
    from flask import template_rendered

    from tests.review_factories import SORT, sort_form, submit

    learner = make_user(app, "m@example.com", "M").id
    submit(app, learner, SORT, sort_form(app, wrong=0))
    with app.app_context():
        parts = len([e for e in get_course().exercises if e.auto_graded])
    auth.instructor()
    rendered: list[str] = []

    def record(_app, template, **_extra) -> None:
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        first = client.get("/instructor/misconceptions").get_data(as_text=True)
        again = client.get("/instructor/misconceptions").get_data(as_text=True)
        first, again = (html.split("<h1>Misconceptions</h1>")[1] for html in (first, again))
        assert rendered.count("instruct/_misconceptions.html") == parts > 1
        assert again == first and "1 graded attempt." in first
        submit(app, learner, SORT, sort_form(app, wrong=1))
        after = client.get("/instructor/misconceptions").get_data(as_text=True)
    finally:
        template_rendered.disconnect(record, app)
    # Only the exercise that was submitted to is drawn again.
    assert rendered.count("instruct/_misconceptions.html") == parts + 1
    assert "2 graded attempts." in after and "1 (50%)" in after
    assert after.split("<h1>Misconceptions</h1>")[1].replace(
        after.split(f'id="ex-{SORT}"')[1].split("</section>")[0], "") == first.replace(
        first.split(f'id="ex-{SORT}"')[1].split("</section>")[0], "")
    with app.app_context():
        counts = misconception_report.misconception_counts(get_session(), get_course())
        assert [misconception_report.exercise_misconceptions(e, counts[e.id]) for e in
                get_course().exercises if e.auto_graded] == misconception_report.misconceptions(
            get_session(), get_course())


def test_a_bar_counts_each_wrong_option_ticked_and_wrong_answers_no_option_explains(app):
    from course.models import ItemOutcome
    from course.services.aggregates.rows import CORRECT, WRONG

    counts = {CORRECT: 1, WRONG: 3, "beginners-win": 2, "sprint-bugs": 2}
    with app.app_context():
        session = get_session()
        session.add_all(ItemOutcome(exercise_id="final-quiz", item_id="language-app-strategy",
                                    outcome=outcome, count=n) for outcome, n in counts.items())
        session.add_all([ItemOutcome(exercise_id="final-quiz", item_id="bike-share-vision",
                                     outcome=CORRECT, count=1),
                         ItemOutcome(exercise_id="final-quiz", item_id="bike-share-vision",
                                     outcome=WRONG, count=2)])
        session.commit()
        quiz = next(e for e in misconception_report.misconceptions(session, get_course())
                    if e.exercise.id == "final-quiz")
    items = {i.id: i for i in quiz.items}
    several = items["language-app-strategy"]
    assert [s.count for s in several.segments] == [1, 2, 2]
    assert several.segments[0].right and several.bar_total == 5 and several.answered == 4
    assert quiz.overlapping
    missed = items["bike-share-vision"]
    assert [(s.label, s.count) for s in missed.segments] == [
        ("right", 1), (misconception_report.OTHER_WRONG, 2)]


# ------------------------------------------------------------------ gradebook sorting


def _header_cells(html: str) -> list[str]:
    thead = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return re.findall(r"<th scope=\"col\"[^>]*>.*?</th>", thead, flags=re.S)


def test_gradebook_headers_are_sort_links_that_say_which_way(app, auth, client):
    fill(app, learners=5, attempts=30)
    auth.instructor()
    cells = _header_cells(client.get("/instructor/gradebook").get_data(as_text=True))
    with app.app_context():
        course = get_course()
        columns = gradebook_report.gradebook_columns(course)
    assert len(cells) == len(columns)
    at = [c.key for c in columns].index(f"ex-{SORT_ID}")
    title = columns[at].label
    assert 'aria-sort="ascending"' in cells[0]  # by name unless asked
    assert all("aria-sort" not in cell for cell in cells[1:])
    # Each heading links to its column ascending; the sorted one to the reverse.
    assert 'href="/instructor/gradebook?sort=name&amp;dir=desc"' in cells[0]
    assert f'href="/instructor/gradebook?sort=ex-{SORT_ID}&amp;dir=asc"' in cells[at]
    html = client.get(f"/instructor/gradebook?sort=ex-{SORT_ID}&dir=desc").get_data(
        as_text=True)
    cells = _header_cells(html)
    assert 'aria-sort="descending"' in cells[at] and "aria-sort" not in cells[0]
    assert f'href="/instructor/gradebook?sort=ex-{SORT_ID}&amp;dir=asc"' in cells[at]
    assert f"sorted by {title}, descending" in html
    # The download is the table as shown: same order, same filter.
    assert f'href="/instructor/gradebook.csv?sort=ex-{SORT_ID}&amp;dir=desc"' in html


def test_sorting_and_the_filter_are_kept_across_pages_and_in_the_csv(app, auth, client):
    app.config["GRADEBOOK_PAGE_SIZE"] = 2
    fill(app, learners=6, attempts=40)
    auth.instructor()
    query = "sort=total&dir=desc&learner=demo.example"
    first = client.get(f"/instructor/gradebook?{query}").get_data(as_text=True)
    assert 'value="demo.example"' in first  # the search box shows the filter
    assert re.search(r'rel="next" href="/instructor/gradebook\?page=2&amp;after=\d+'
                     r'&amp;sort=total&amp;dir=desc&amp;learner=demo.example"', first)
    assert ('<input type="hidden" name="sort" value="total">'
            '<input type="hidden" name="dir" value="desc">') in first  # a new search keeps it
    names, html = [], first
    while True:  # following Next, as a reader would
        names += re.findall(r'<span class="meta learner-email">([^<]+)</span>', html)
        link = re.search(r'rel="next" href="([^"]+)"', html)
        if link is None:
            break
        html = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    counted, page = [], 1
    while (response := client.get(f"/instructor/gradebook?page={page}&{query}")).status_code \
            == 200:  # typed-in page numbers give the same pages
        counted += re.findall(r'<span class="meta learner-email">([^<]+)</span>',
                              response.get_data(as_text=True))
        page += 1
    assert counted == names
    rows = read_csv(client.get(f"/instructor/gradebook.csv?{query}"))
    assert [r[2] for r in rows[1:]] == names and len(names) == len(set(names))
    assert all(email.endswith("@demo.example") for email in names)
    totals = [float(r[-2]) for r in rows[1:]]
    assert totals == sorted(totals, reverse=True)


def test_gradebook_query_count_is_the_same_whatever_the_sort_or_filter(app, auth, client):
    app.config["GRADEBOOK_PAGE_SIZE"] = 5
    fill(app, learners=12, attempts=80)
    auth.instructor()
    with app.app_context():
        keys = [c.key for c in gradebook_report.gradebook_columns(get_course())]
    counts = {}
    for key in keys:
        for direction in ("asc", "desc"):
            for extra in ("", "&learner=learner1", "&page=2"):
                url = f"/instructor/gradebook?sort={key}&dir={direction}{extra}"
                with count_queries(app) as statements:
                    assert client.get(url).status_code == 200, url
                counts[url] = len(statements)
    with count_queries(app) as plain:
        client.get("/instructor/gradebook")
    assert set(counts.values()) == {len(plain)}, counts
    assert len(plain) <= 6  # the user, then count, page of learners, scores, steps


def test_an_unknown_sort_or_a_long_filter_is_not_an_error(app, auth, client):
    fill(app, learners=3, attempts=10)
    auth.instructor()
    assert client.get("/instructor/gradebook?sort=password&dir=sideways").status_code == 200
    response = client.get("/instructor/gradebook?learner=" + "x" * 5000)
    assert response.status_code == 200
    assert "No learner's name or email contains" in response.get_data(as_text=True)


def submit_on(app, monkeypatch, day_offset: int, learner: int, exercise_id: str,
              form: dict[str, list[str]]) -> None:
    """Submit through the service as if `day_offset` days ago (the service's clock)."""
    from datetime import timedelta

    from course.models.timestamps import utcnow
    from course.services.attempts import submit as submission
    from tests.review_factories import submit

    when = utcnow() - timedelta(days=day_offset)
    with monkeypatch.context() as clock:
        clock.setattr(submission, "utcnow", lambda: when)
        submit(app, learner, exercise_id, form)


def activity_rows(html: str) -> list[tuple[str, int, int]]:
    """(day, attempts, completed) from the activity page's table, newest first."""
    import re

    body = html.split('class="table chart-table activity-table"')[1].split("</table>")[0]
    return [(day, int(a.replace(",", "")), int(c.replace(",", ""))) for day, a, c in re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="num">([\d,]+)</td>'
        r'<td class="num">([\d,]+)</td></tr>', body)]


def test_activity_counts_attempts_and_first_passes_per_day(app, auth, client, monkeypatch):
    from tests.review_factories import SORT, sort_form

    ann, bo = (make_user(app, f"{n}@example.com", n).id for n in ("ann", "bo"))
    submit_on(app, monkeypatch, 2, ann, SORT, sort_form(app, wrong=9))  # failed
    submit_on(app, monkeypatch, 1, ann, SORT, sort_form(app))  # passed: completed
    submit_on(app, monkeypatch, 0, ann, SORT, sort_form(app))  # passed again: not again
    submit_on(app, monkeypatch, 0, bo, SORT, sort_form(app))
    submit_on(app, monkeypatch, 40, bo, SORT, sort_form(app, wrong=9))  # outside 4 weeks
    auth.instructor()
    html = client.get("/instructor/activity").get_data(as_text=True)
    rows = activity_rows(html)
    assert len(rows) == 28
    assert [(a, c) for _, a, c in rows[:4]] == [(2, 1), (1, 1), (1, 0), (0, 0)]
    assert "<strong>4</strong> attempts and <strong>2</strong> exercises completed" in html
    assert html.count('<svg class="chart-svg"') == 2 and "<script" not in html.split("<main")[1]
    twelve = client.get("/instructor/activity?weeks=12").get_data(as_text=True)
    assert len(activity_rows(twelve)) == 84 and sum(a for _, a, _ in activity_rows(twelve)) == 5
    assert client.get("/instructor/activity?weeks=5").status_code == 404


def test_charts_show_the_numbers_of_the_csv_and_the_dashboard(app, auth, client):
    """The issue's done-when: the charts and the CSV export agree for the same data."""
    import re

    from course.services.reports.score_distribution import PENDING_BAND, SCORE_BANDS

    fill(app, learners=25, attempts=400, seed=5)
    auth.instructor()
    rows = read_csv(client.get("/instructor/gradebook.csv"))
    header, learners = rows[0], rows[1:]
    dashboard = client.get("/instructor/").get_data(as_text=True)
    with app.app_context():
        exercises = get_course().exercises
    for exercise in exercises:
        cells = [r[header.index(exercise.id)] for r in learners]
        expected = dict.fromkeys((*SCORE_BANDS, PENDING_BAND), 0)
        for cell in cells:
            if cell == "awaiting review":
                expected[PENDING_BAND] += 1
            elif cell:
                expected[SCORE_BANDS[min(4, int(float(cell) // 20))]] += 1
        figure = dashboard.split(f'id="dist-{exercise.id}-caption"')
        if not any(expected.values()):
            assert len(figure) == 1  # nobody tried it: no chart
            continue
        table = figure[1].split("</figure>")[0]
        drawn = {label: int(n) for label, n in re.findall(
            r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', table)}
        assert drawn == expected, exercise.id
    # The activity chart's attempts over every day add up to the dashboard's attempts.
    activity = client.get("/instructor/activity?weeks=12").get_data(as_text=True)
    attempts = re.findall(r'data-label="Attempts">([\d,]+)</td>', dashboard)
    assert sum(a for _, a, _ in activity_rows(activity)) == sum(
        int(a.replace(",", "")) for a in attempts) > 0
