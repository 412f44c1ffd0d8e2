"""The mail queue: mail written in the transaction it belongs to, delivered after it.

`enqueue` adds rows to the caller's session and does not commit, so the mail commits or
rolls back with the change it reports (a release never loses its email, a release that
failed never sends one). `deliver_due` runs after the commit, in a background thread
or from `flask send-mail`: it claims a batch of due rows, hands the whole batch to one
`send_batch` call (one SMTP connection), deletes what was sent and puts each failure
back with a later `next_try_at`. Two senders never send one row twice: a row is claimed
by one conditional UPDATE, and read back by its claim token. A sender that dies holding
a batch leaves it due again once the claim's lease runs out, so mail is sent at least
once. Nothing here imports Flask; sending is the caller's `send_batch`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from course.models import QueuedMail
from course.models.timestamps import utcnow

BATCH_SIZE = 100
# How long a claimed batch is left to its sender before another may take it.
LEASE = timedelta(minutes=10)
# After this many failed tries a message is held (next_try_at NULL): only
# `flask send-mail --all` tries it again (that also sends mail waiting for its next try).
MAX_TRIES = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)


@dataclass(frozen=True)
class Message:
    """A plain-text email to one address."""

    to: str
    subject: str
    body: str


# Sends a batch; per message, None when the server accepted it or the error if not.
SendBatch = Callable[[Sequence[Message]], Sequence[Exception | None]]


@dataclass
class Delivery:
    """What one run of `deliver_due` did."""

    sent: int = 0
    failed: int = 0
    batches: int = 0


def enqueue(session: Session, messages: Iterable[Message]) -> int:
    """Add the messages to the queue in the caller's transaction (no commit)."""
    now = utcnow()
    rows = [QueuedMail(recipient=m.to, subject=m.subject, body=m.body, created_at=now,
                       next_try_at=now) for m in messages]
    session.add_all(rows)
    return len(rows)


def retry_delay(tries: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most an hour."""
    return min(FIRST_RETRY * (1 << min(max(tries, 1) - 1, 10)), LONGEST_WAIT)


def _claim(session: Session, now: datetime, limit: int, everything: bool,
           after_id: int) -> list[QueuedMail]:
    """Take up to `limit` due rows past `after_id` (with `everything`, any row no other
    sender holds), oldest first, for this sender alone; commit."""
    token = secrets.token_hex(16)
    due = QueuedMail.next_try_at <= now
    if everything:
        due = due | QueuedMail.claim.is_(None)
    due = due & (QueuedMail.id > after_id)
    ids = select(QueuedMail.id).where(due).order_by(QueuedMail.id).limit(limit)
    # The condition is repeated on the row itself: of two senders racing for a row, the
    # second finds it no longer due (its next_try_at is the first's lease) and skips it.
    session.execute(update(QueuedMail)
                    .where(QueuedMail.id.in_(ids.scalar_subquery()), due)
                    .values(claim=token, next_try_at=now + LEASE)
                    .execution_options(synchronize_session=False))
    session.commit()
    return list(session.scalars(select(QueuedMail).where(QueuedMail.claim == token)
                                .order_by(QueuedMail.id)))


def _record(session: Session, batch: Sequence[QueuedMail],
            outcome: Sequence[Exception | None], now: datetime) -> None:
    """Delete what was sent; put each failure back with its error and a later try."""
    sent = [row.id for row, error in zip(batch, outcome, strict=True) if error is None]
    if sent:
        session.execute(delete(QueuedMail).where(QueuedMail.id.in_(sent))
                        .execution_options(synchronize_session=False))
    for row, error in zip(batch, outcome, strict=True):
        if error is not None:
            row.tries += 1
            row.last_error = str(error)[:2000]
            row.next_try_at = now + retry_delay(row.tries) if row.tries < MAX_TRIES else None
            row.claim = None
    session.commit()


def deliver_due(session: Session, send_batch: SendBatch, *, batch_size: int = BATCH_SIZE,
                everything: bool = False, now: datetime | None = None) -> Delivery:
    """Send every message due now, a batch (one `send_batch` call) at a time, oldest
    first, each at most once per run (mail queued meanwhile is included). With
    `everything`, also the mail waiting for a later try and the mail held."""
    done = Delivery()
    after_id = 0
    while True:
        at = now or utcnow()
        batch = _claim(session, at, batch_size, everything, after_id)
        if not batch:
            return done
        after_id = batch[-1].id
        outcome = list(send_batch([Message(r.recipient, r.subject, r.body) for r in batch]))
        _record(session, batch, outcome, at)
        done.batches += 1
        done.sent += outcome.count(None)
        done.failed += len(outcome) - outcome.count(None)


@dataclass(frozen=True)
class Waiting:
    """What the queue holds: due or being sent, waiting to be retried, given up on."""

    queued: int
    retrying: int
    held: int


def waiting(session: Session) -> Waiting:
    """Counts of undelivered mail (one query)."""
    queued, retrying, held = session.execute(select(
        func.count(),
        func.count().filter(QueuedMail.tries > 0, QueuedMail.next_try_at.is_not(None)),
        func.count().filter(QueuedMail.next_try_at.is_(None)))).one()
    return Waiting(queued - held, retrying, held)
