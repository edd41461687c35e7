"""Reminders are rows with a due time, claimed by the dispatch task; each delivery attempt is
recorded under a unique key. Calendar feeds let clinicians see their bookings elsewhere."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from recordkeeping.db import choices_constraint


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class DeliveryOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class DeliveryChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class Reminder(models.Model):
    """A message due ``hours_before`` the appointment time it announces.

    A booking moved to another time gets new reminders; the ones for the old time are cancelled
    unless they went out already.
    """

    follow_up = models.ForeignKey(
        "treatments.FollowUp", on_delete=models.PROTECT, related_name="reminders"
    )
    hours_before = models.PositiveSmallIntegerField()
    appointment_at = models.DateTimeField(help_text="The appointment time this reminder announces.")
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(help_text="Due time, later after a failed attempt.")
    attempts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["follow_up", "hours_before", "appointment_at"],
                name="treatments_reminder_one_per_offset_and_time",
            ),
            models.CheckConstraint(
                condition=models.Q(next_attempt_at__gte=models.F("due_at")),
                name="treatments_reminder_attempt_not_before_due",
                violation_error_message="A reminder is not attempted before it is due.",
            ),
            choices_constraint(table="treatments_reminder", field="status", choices=ReminderStatus),
        ]
        indexes = [
            # The dispatch task's claim: pending rows in due order, and nothing else.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status=ReminderStatus.PENDING),
                name="treatments_reminder_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.hours_before} h before follow-up {self.follow_up_id}"


class ReminderDelivery(models.Model):
    """One attempt to send a reminder. The key makes each attempt a single row, and a reminder
    has at most one sent delivery."""

    reminder = models.ForeignKey(Reminder, on_delete=models.PROTECT, related_name="deliveries")
    key = models.CharField(max_length=64, unique=True)
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=5, choices=DeliveryChannel.choices, blank=True)
    outcome = models.CharField(max_length=7, choices=DeliveryOutcome.choices)
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "reminder deliveries"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder"],
                condition=models.Q(outcome=DeliveryOutcome.SENT),
                name="treatments_reminderdelivery_sent_once",
                violation_error_message="This reminder was sent already.",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome=DeliveryOutcome.SENT) | ~models.Q(reason=""),
                name="treatments_reminderdelivery_reason_unless_sent",
                violation_error_message="A failed or skipped delivery says why.",
            ),
            choices_constraint(
                table="treatments_reminderdelivery", field="outcome", choices=DeliveryOutcome
            ),
            choices_constraint(
                table="treatments_reminderdelivery",
                field="channel",
                choices=DeliveryChannel,
                blank=True,
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="reminder_delivery_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.key}"


class CalendarFeed(models.Model):
    """A clinician's secret calendar address. Only a digest of the secret is stored; issuing a
    new one makes the old address stop working."""

    clinician = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    secret_digest = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.clinician}"
