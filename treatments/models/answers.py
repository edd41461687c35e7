"""Patients answer their reminders: each reminder carries a link to a page where they confirm or
cancel that booking. Only a digest of the link's secret is stored; the answers are kept, never
changed, and the page is rate-limited per address."""

from __future__ import annotations

import pgtrigger
from django.db import models

from recordkeeping.db import choices_constraint


class AnswerLink(models.Model):
    """The secret address a reminder carries. It answers for one booking at the time the
    reminder announced, until the appointment has ended, and once."""

    follow_up = models.ForeignKey(
        "treatments.FollowUp", on_delete=models.PROTECT, related_name="answer_links"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    appointment_at = models.DateTimeField(help_text="The appointment time the link announces.")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Answer link of follow-up {self.follow_up_id}"


class Answer(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed by the patient"
    CANCELLED = "cancelled", "Cancelled by the patient"
    LATE_CANCEL = "late_cancel", "Asked to cancel too late: call the patient"


# The answers that use up a link (a late request to cancel leaves it working, to confirm).
FINAL_ANSWERS = (Answer.CONFIRMED, Answer.CANCELLED)


class BookingAnswer(models.Model):
    """What a patient answered through a link, and when."""

    link = models.ForeignKey(AnswerLink, on_delete=models.PROTECT, related_name="answers")
    follow_up = models.ForeignKey(
        "treatments.FollowUp", on_delete=models.PROTECT, related_name="answers"
    )
    answer = models.CharField(max_length=12, choices=Answer.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["link"],
                condition=models.Q(answer__in=FINAL_ANSWERS),
                name="treatments_bookinganswer_link_answers_once",
                violation_error_message="This link was answered already.",
            ),
            choices_constraint(table="treatments_bookinganswer", field="answer", choices=Answer),
        ]
        triggers = [
            pgtrigger.Protect(
                name="booking_answer_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_answer_display()} ({self.at:%d %b %Y %H:%M})"


class AnswerPageHits(models.Model):
    """Requests to the patients' answer pages from one address within one window of time (the
    rate limit). Kept in the database: every server process and ``make run`` see the same
    counts, with no cache server needed. Old windows are cleared nightly."""

    key = models.CharField(max_length=100, unique=True, help_text="Address and window start.")
    hits = models.PositiveIntegerField(default=1)
    window_ends_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "answer page hits"

    def __str__(self) -> str:
        return f"{self.hits} hits until {self.window_ends_at:%H:%M}"
