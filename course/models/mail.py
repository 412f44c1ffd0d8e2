"""Mail waiting to be sent: a durable queue written in the transaction it reports on.

A release writes its learners' emails here before it commits, so a committed release
always has its mail and a rolled-back one never sends any. `services.mail_queue` hands
the rows to the mail server after the commit, a batch per SMTP connection, and deletes
each one once the server has accepted it: a row here is mail not yet delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from course.models.base import Base
from course.models.timestamps import utcnow


class QueuedMail(Base):
    __tablename__ = "mail_queue"
    __table_args__ = (
        # The sender's "what is due now, oldest first" (services.mail_queue.claim_due).
        Index("ix_mail_queue_due", "next_try_at", "id"),
        # Reading back the rows one sender has just claimed.
        Index("ix_mail_queue_claim", "claim"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a sender may next take it: now for new mail, later after a failure (backoff)
    # or while a sender holds it; NULL once it has failed too often to try again alone.
    next_try_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claim: Mapped[str | None] = mapped_column(String(32))  # the sender holding it
