"""The page behind a reminder's link, for the patient: their first name, the time, the clinic
and its address, with Confirm and Cancel and the clinic's phone; nothing clinical.

Whoever holds the link may answer once, until the appointment has ended. A wrong, expired or
used link gets one and the same page, so the page never tells whether a link was ever valid.
Every request counts against the address's rate limit (database-backed: all server processes
share it, and ``make run`` needs no cache server) and every answer is in the access log, with
the patient; the booking's own change is in its history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from recordkeeping import audit
from treatments import services
from treatments.models import Answer

TEMPLATE = "workspace/answer/page.html"
WHO = "patient (reminder link)"
ASK_TO_CANCEL = "cancel"  # the first tap on Cancel asks "are you sure?"; nothing changes yet


def _logged_path() -> str:
    # The page's address without its secret: the secret stays out of the log.
    return reverse("reminder-answer", kwargs={"token": "secret"})


def _page(request: HttpRequest, state: str, status: int = 200, **context: Any) -> HttpResponse:
    return render(
        request,
        TEMPLATE,
        {
            "state": state,
            "clinic_name": settings.CLINIC_NAME,
            "clinic_address": settings.CLINIC_ADDRESS,
            "clinic_phone": settings.CLINIC_PHONE,
            "late_hours": settings.LATE_CANCEL_HOURS,
            **context,
        },
        status=status,
    )


def _unknown(request: HttpRequest) -> HttpResponse:
    """The one answer to a wrong, expired or used link."""
    audit.access_record(
        request=request,
        action="reminder.answer.unknown",
        status=404,
        username=WHO,
        path=_logged_path(),
    )
    return _page(request, "unknown", status=404)


# The secret in the address is what lets one answer: a cross-site form would have to know it,
# and a phone that refuses cookies must still be able to answer.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def answer_page(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    address = request.META.get("REMOTE_ADDR") or "unknown"
    if not services.answer_page_allowed(address=address, now=now):
        audit.access_record(
            request=request,
            action="reminder.answer.limited",
            status=429,
            username=WHO,
            path=_logged_path(),
        )
        response = _page(request, "limited", status=429)
        response["Retry-After"] = str(settings.ANSWER_RATE_WINDOW_SECONDS)
        return response
    link = services.answer_link_find(token=token[:200], now=now)
    if link is None:
        return _unknown(request)
    follow_up = link.follow_up
    booking = {
        "given_name": follow_up.patient.given_name,
        "starts_at": timezone.localtime(follow_up.starts_at),
    }
    answer = request.POST.get("answer", "") if request.method == "POST" else ""
    status, error = 200, ""
    if not answer:
        state = "ask"
    elif answer == ASK_TO_CANCEL:
        state = "ask_cancel"
    elif answer not in (Answer.CONFIRMED, Answer.CANCELLED):
        state, status, error = "ask", 400, "Choose Confirm or Cancel."
    else:
        try:
            state = services.booking_answer(link=link, answer=answer, now=now)
        except ValidationError:  # answered meanwhile (a second tap): used, like any other
            return _unknown(request)
    audit.access_record(
        request=request,
        action=f"reminder.answer.{state}",
        status=status,
        records=[follow_up],
        username=WHO,
        path=_logged_path(),
    )
    return _page(request, state, status=status, error=error, **booking)
