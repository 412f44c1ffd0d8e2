"""Operator commands: `flask --app course <command>`.

check-content is registered as a Flask plugin command (pyproject entry point) so that it
runs without building the app: the app refuses to start on broken content, and this
command is how an author sees why.

Every command imports what it uses inside its own body: Flask imports this module (for
the plugin commands) on every `flask` invocation, `--help` included, and a command should
not wait for the modules of all the others (SQLAlchemy's models, the graders, the demo
data, mail).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    for command in (init_db, create_user_command, regrade_command, demo_data, review_summary,
                    send_mail_command, rebuild_aggregates_command, check_aggregates_command,
                    certificates_command):
        app.cli.add_command(command)


def with_database(command: Callable[..., Any]) -> Callable[..., Any]:
    """`with_appcontext`, with the database migrated first as a server's start would: the
    app built for a command leaves that to the commands that use the database."""

    @with_appcontext
    @functools.wraps(command)
    def prepared(*args: Any, **kwargs: Any) -> Any:
        from course.prepare import prepare_database

        prepare_database(current_app)
        return command(*args, **kwargs)

    return prepared


@click.command("init-db")
@with_database
def init_db() -> None:
    """Create any missing database tables (`with_database` does it)."""
    from course.db import get_engine

    click.echo(f"Database ready: {get_engine().url.render_as_string(hide_password=True)}")


@click.command("create-user")
@with_database
@click.argument("email")
@click.option("--name", help="Display name (defaults to the part of the email before @).")
@click.option("--instructor", is_flag=True, help="Give the account the instructor role.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def create_user_command(email: str, name: str | None, instructor: bool,
                        password_stdin: bool) -> None:
    """Create an account; the only way to make an instructor.

    The password is asked for (twice, not echoed) until one is accepted, or read from
    standard input with --password-stdin; it is never an argument, which would leave it
    in the shell history and the process list.
    """
    from course.db import get_session
    from course.models import Role
    from course.services import email_addresses
    from course.services.accounts import EmailTaken, create_user

    name = name or email.strip().split("@")[0]  # as typed: the address is lower-cased
    try:
        email = email_addresses.normalise(email)
    except email_addresses.InvalidAddress as exc:
        raise click.BadParameter(f"{email!r} is not an email address: {exc}",
                                 param_hint="EMAIL") from exc
    password = _new_password(password_stdin, [email, name])
    role = Role.INSTRUCTOR if instructor else Role.LEARNER
    try:
        user = create_user(get_session(), email, name, password, role)
    except EmailTaken as exc:
        raise click.ClickException(f"an account with {exc} already exists") from exc
    click.echo(f"Created {role.value} {user.email}.")


def _new_password(from_stdin: bool, personal: list[str]) -> str:
    """A password `password_problem` accepts. Asked for, a refused one is explained and
    asked for again (at the end of input the command stops); read from standard input, it
    is an error, since a script cannot answer again."""
    from course.passwords import password_problem

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = password_problem(password, personal)
        if problem:
            raise click.BadParameter(problem, param_hint="password")
        return password
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password, personal)
        if problem is None:
            return password
        click.echo(f"That password is refused: {problem} Try another.", err=True)


@click.command("check-content")
def check_content() -> None:
    """Validate every lesson and exercise file; exit non-zero on any problem."""
    from course.config import content_dir_from_environment
    from course.content.errors import ContentError
    from course.content.loader import coverage_gaps, load_course

    try:
        course = load_course(content_dir_from_environment())
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(f"ERROR {problem}", err=True)
        raise SystemExit(1) from exc
    untaught, unchecked = coverage_gaps(course)
    lessons = sum(1 for s in course.steps if s.kind == "lesson")
    click.echo(f"{lessons} lessons and {len(course.exercises)} exercises are valid.")
    for fact in course.facts:
        status = "ok " if fact not in untaught and fact not in unchecked else "GAP"
        click.echo(f"  {status} {fact.id}")
    for fact in untaught:
        click.echo(f"ERROR fact '{fact.id}' is taught by no lesson", err=True)
    for fact in unchecked:
        click.echo(f"ERROR fact '{fact.id}' is checked by no graded exercise", err=True)
    if untaught or unchecked:
        raise SystemExit(1)
    click.echo(f"Every one of the {len(course.facts)} facts is taught and checked.")


@click.command("regrade")
@with_database
@click.argument("exercise_id")
def regrade_command(exercise_id: str) -> None:
    """Re-score every attempt at an exercise against its current file; overrides stay."""
    from course.db import get_session
    from course.services.regrade import NothingToRegrade, regrade_exercise
    from course.site import get_course

    exercise = get_course().exercise(exercise_id)
    if exercise is None:
        raise click.ClickException(f"there is no exercise {exercise_id!r}")
    try:
        report = regrade_exercise(get_session(), exercise, changed_by_id=None)
    except NothingToRegrade as exc:
        raise click.ClickException(
            f"{exercise_id!r} is graded by instructors; there is nothing to regrade") from exc
    click.echo(f"Regraded {report.regraded} attempts at {exercise.title!r}: "
               f"{len(report.changed)} scores changed, {len(report.kept)} overrides kept.")
    for change in report.changed:
        click.echo(f"  attempt {change.attempt_id} ({change.learner}, #{change.number}): "
                   f"{_percent(change.old_score)} -> {_percent(change.new_score)}")
    for change in report.kept:
        click.echo(f"  kept override on attempt {change.attempt_id} ({change.learner}): "
                   f"{_percent(change.old_score)} (automatic now {_percent(change.new_score)})")
    for change, why in report.failed:
        click.echo(f"  could not regrade attempt {change.attempt_id} ({change.learner}): {why}",
                   err=True)


def _percent(score: float | None) -> str:
    return "-" if score is None else f"{round(score * 100)}%"


@click.command("demo-data")
@with_database
@click.option("--learners", default=40, show_default=True, type=click.IntRange(1),
              help="Sample learners to create.")
@click.option("--attempts", default=400, show_default=True, type=click.IntRange(0),
              help="Attempts to spread over them.")
@click.option("--seed", default=1, show_default=True, help="Same seed, same data.")
@click.option("--force", is_flag=True, help="Add more even if demo learners exist.")
def demo_data(learners: int, attempts: int, seed: int, force: bool) -> None:
    """Fill the database with sample learners and attempts to try the instructor pages,
    one of whom has finished the course (to try the certificate)."""
    import secrets

    from course import demo
    from course.db import get_session
    from course.site import get_course

    session = get_session()
    existing = demo.demo_learner_count(session)
    if existing and not force:
        raise click.ClickException(
            f"this database already has {existing} demo learners (@{demo.DEMO_DOMAIN}); "
            "run again with --force to add more")
    password = secrets.token_urlsafe(12)
    made = demo.fill(session, get_course(), learners=learners, attempts=attempts, seed=seed,
                     password=password)
    click.echo(f"Made {made.learners} demo learners ({made.first_email} to "
               f"{made.last_email}) and {made.attempts} attempts: "
               f"{made.awaiting_review} awaiting review, {made.reviewed} reviewed; "
               f"{made.completed_steps} completed steps.")
    if made.finished_email:
        click.echo(f"{made.finished_email} has finished the course: sign in as them to see "
                   "the certificate.")
    click.echo(f"Every demo learner's password: {password}")


@click.command("review-summary")
@with_database
@click.option("--dry-run", is_flag=True, help="Print the mail instead of sending it.")
def review_summary(dry_run: bool) -> None:
    """Email every instructor what awaits review and which drafts wait to be released.

    Meant for a daily scheduler (cron: `0 7 * * * flask --app course review-summary`);
    sends nothing when nothing waits. Its links are built on PUBLIC_URL.
    """
    from course.db import get_session
    from course.instruct import notify
    from course.mail import deliver_queue
    from course.models.timestamps import utcnow
    from course.services import mail_queue

    messages = notify.daily_summary(utcnow())
    if not messages:
        click.echo("Nothing awaits review; no mail sent.")
        return
    if dry_run:
        click.echo(messages[0].body)
        click.echo(f"(dry run: would send to {', '.join(m.to for m in messages)})")
        return
    session = get_session()
    mail_queue.enqueue(session, messages)
    session.commit()
    done = deliver_queue()
    click.echo(f"Summary queued for {len(messages)} instructors; {done.sent} emails sent "
               f"({done.failed} failed and stay queued for `send-mail`).")
    if done.failed:
        sys.exit(1)


@click.command("send-mail")
@with_database
@click.option("--all", "everything", is_flag=True,
              help="Send every queued mail now: also mail waiting for its next try after "
                   "a failure, and mail held after failing too often.")
def send_mail_command(everything: bool) -> None:
    """Send the queued mail that is due (release emails the web process could not send).

    Meant for a scheduler, every few minutes (cron: `*/5 * * * * flask --app course
    send-mail`). Exits 1 when some mail failed; it stays queued for the next run.
    """
    from course.db import get_session
    from course.mail import deliver_queue
    from course.services import mail_queue

    done = deliver_queue(everything=everything)
    left = mail_queue.waiting(get_session())
    click.echo(f"Sent {done.sent} email{'' if done.sent == 1 else 's'} in {done.batches} "
               f"batch{'' if done.batches == 1 else 'es'}; {done.failed} failed. "
               f"Still queued: {left.queued} ({left.retrying} waiting to be retried), "
               f"{left.held} held after {mail_queue.MAX_TRIES} failed tries "
               "(`send-mail --all` retries them).")
    if done.failed:
        sys.exit(1)


@click.command("rebuild-aggregates")
@with_database
def rebuild_aggregates_command() -> None:
    """Recompute the report aggregates from the attempts (after changing an exercise's
    `counts` policy, or to check them), then refresh the planner's statistics."""
    from course.db import analyse, get_session
    from course.services.aggregates.rebuild import rebuild
    from course.site import get_course

    session = get_session()
    done = rebuild(session, get_course())
    analyse(session)
    click.echo(f"Rebuilt {done.learner_rows} learner rows over {done.exercises} exercises "
               f"and {done.item_rows} item counts from the attempts.")


@click.command("check-aggregates")
@with_database
def check_aggregates_command() -> None:
    """Compare every maintained value (report aggregates, gradebook keys, step completion)
    with a rebuild from the attempts, changing nothing; print each difference and exit 1
    on any. Certificates a later change no longer supports are listed as notes."""
    from course.db import get_session
    from course.services import drift
    from course.site import get_course

    session, course = get_session(), get_course()
    found = drift.differences(session, course)
    for line in found:
        click.echo(line)
    for line in drift.kept_certificates(session, course):
        click.echo(f"note: {line}")
    if found:
        click.echo(f"{len(found)} differences from a rebuild.", err=True)
        sys.exit(1)
    click.echo("Every maintained value equals a rebuild from the attempts.")


@click.group("certificates")
def certificates_command() -> None:
    """List certificates of completion, or revoke one (its link then says "not valid")."""


@certificates_command.command("list")
@with_database
def list_certificates() -> None:
    """Every certificate, newest first: its id, learner, name on it, dates and state."""
    from course.db import get_session
    from course.services import certificates

    rows = certificates.listing(get_session())
    if not rows:
        click.echo("No certificates have been issued.")
    for certificate, email in rows:
        state = (f"revoked {certificate.revoked_at:%Y-%m-%d}: {certificate.revoked_reason}"
                 if certificate.revoked_at else "valid")
        click.echo(f"{certificate.public_id}  {email}  {certificate.name_at_issue!r}  "
                   f"issued {certificate.issued_at:%Y-%m-%d}  {state}")


@certificates_command.command("revoke")
@with_database
@click.argument("public_id")
@click.option("--reason", required=True, help="Why (kept with the record, not shown).")
def revoke_certificate(public_id: str, reason: str) -> None:
    """Revoke the certificate PUBLIC_ID (the last part of its link).

    An id issued before ids were hex may begin with "-": put it after "--".
    """
    from course.db import get_session
    from course.models.timestamps import utcnow
    from course.services import certificates

    try:
        revoked = certificates.revoke(get_session(), public_id, reason, utcnow())
    except certificates.UnknownCertificate as exc:
        raise click.ClickException(f"there is no certificate {public_id!r}") from exc
    click.echo(f"Certificate {revoked.public_id} ({revoked.name_at_issue!r}) is revoked as of "
               f"{revoked.revoked_at:%Y-%m-%d %H:%M} UTC; its link now says it is not valid.")
