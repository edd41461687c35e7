"""The clinicians' calendar feeds: an iCalendar file of their upcoming bookings behind a secret
address, for calendar apps that cannot log in. Events hold no clinical detail: the kind of
visit (appointment or phone call), the patient's initials, time and place."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from recordkeeping import audit
from treatments.models import BOOKED, CalendarFeed, FollowUp, FollowUpKind, FollowUpStatus
from treatments.services.calendar import event_uid, secret_digest

SHOWN = (*BOOKED, FollowUpStatus.CHECKED_IN)


def calendar_feed_url(secret: str) -> str:
    return reverse("calendar-feed", kwargs={"secret": secret})


@require_GET
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    feed = (
        CalendarFeed.objects.select_related("clinician")
        .filter(secret_digest=secret_digest(secret), clinician__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404("No such calendar.")
    start_of_today = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time.min)
    )
    follow_ups = list(
        FollowUp.objects.filter(
            clinician=feed.clinician, status__in=SHOWN, starts_at__gte=start_of_today
        )
        .select_related("patient")
        .order_by("starts_at", "id")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic records//Follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{settings.CLINIC_NAME}: bookings")
    place = ", ".join(part for part in (settings.CLINIC_NAME, settings.CLINIC_ADDRESS) if part)
    for follow_up in follow_ups:
        patient = follow_up.patient
        what = "Phone call" if follow_up.kind == FollowUpKind.PHONE_CALL else "Appointment"
        event = Event()
        event.add("uid", event_uid(follow_up))
        event.add("dtstamp", follow_up.updated_at)
        event.add("dtstart", follow_up.starts_at)
        event.add("dtend", follow_up.ends_at)
        event.add("summary", f"{what}: {patient.given_name[:1]}.{patient.family_name[:1]}.")
        event.add("location", place)
        event.add(
            "status", "CONFIRMED" if follow_up.status != FollowUpStatus.SCHEDULED else "TENTATIVE"
        )
        event.add(
            "url",
            request.build_absolute_uri(
                reverse("admin:treatments_followup_change", args=[follow_up.pk])
            ),
        )
        calendar.add_component(event)
    audit.access_record(
        request=request,
        action="calendar.feed",
        status=200,
        records=follow_ups,
        username=f"calendar of {feed.clinician.get_username()}",
        path=calendar_feed_url("secret"),  # not the secret itself: it stays out of the log
    )
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
