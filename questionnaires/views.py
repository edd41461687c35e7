"""The patient's pages, opened from the link in an invitation (or on the clinic's tablet): one
question per screen, each answer saved as it is given, a last question about new problems, and
a thank-you. A wrong, expired or used link, and any link from an address that opened too many
wrong ones, gets the same page; every open and answer is in the access log, the secret never.

And a clinician's review of a new problem from the chart's panel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from questionnaires import selectors, services
from questionnaires.models import InvitationLink, LinkKind, ProblemReport
from recordkeeping import audit
from recordkeeping.permissions import CHANGE, allowed

PATIENT = "patient link"
UNAVAILABLE = "questionnaires/unavailable.html"


def page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """A patient's page: the clinic's phone for anyone stuck."""
    return render(
        request, template, {**(context or {}), "clinic_phone": settings.CLINIC_PHONE}, status=status
    )


def _hidden(request: HttpRequest, token: str) -> str:
    """The request's path as the access log keeps it: without the link's secret."""
    return request.path.replace(token, "[link]")


def _unavailable(request: HttpRequest, token: str) -> HttpResponse:
    audit.access_record(
        request=request,
        action="questionnaire.refused",
        status=404,
        username=PATIENT,
        path=_hidden(request, token),
    )
    return page(request, UNAVAILABLE, status=404)


PatientView = Callable[..., HttpResponse]


def with_link(view: PatientView) -> PatientView:
    """Open the link in the address (or answer the one page every bad link gets), and log the
    request against its patient."""

    def opened(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
        link = services.link_open(
            token=token, address=request.META.get("REMOTE_ADDR"), now=timezone.now()
        )
        if link is None:
            return _unavailable(request, token)
        response = view(request, token, link, **kwargs)
        audit.access_record(
            request=request,
            action="questionnaire.answer" if request.method == "POST" else "questionnaire.open",
            status=response.status_code,
            patient_ids=[link.invitation.patient_id],
            username=PATIENT,
            path=_hidden(request, token),
        )
        return response

    opened.__name__ = view.__name__
    opened.__doc__ = view.__doc__
    return opened


def _next_url(
    token: str, items: list[tuple[int, int]], answers: dict[int, int], link: InvitationLink
) -> str:
    for number, (item, _) in enumerate(items, start=1):
        if item not in answers:
            return reverse("questionnaires:step", args=[token, number])
    return _after_last(token, link)


def _after_last(token: str, link: InvitationLink) -> str:
    if selectors.asks_new_problem(link.invitation):
        return reverse("questionnaires:problem", args=[token])
    return reverse("questionnaires:finish", args=[token])


@require_http_methods(["GET"])
@with_link
def start(request: HttpRequest, token: str, link: InvitationLink) -> HttpResponse:
    """Where the link lands: the first question not answered yet (so a patient who comes back
    carries on where they left)."""
    services.invitation_opened(invitation=link.invitation, now=timezone.now())
    items = selectors.invitation_items(invitation=link.invitation)
    answers = selectors.invitation_answers(invitation=link.invitation)
    return redirect(_next_url(token, items, answers, link))


@require_http_methods(["GET", "POST"])
@with_link
def step(request: HttpRequest, token: str, link: InvitationLink, number: int) -> HttpResponse:
    """One question; answering it (one tap) saves the answer and moves on."""
    invitation = link.invitation
    items = selectors.invitation_items(invitation=invitation)
    if not 1 <= number <= len(items):
        return redirect("questionnaires:start", token=token)
    current = selectors.invitation_step(items=items, number=number)
    error = ""
    if request.method == "POST":
        value = _posted_value(request)
        if value is not None or "skip" in request.POST:
            # At baseline the last answer ends the questions; later ones ask of new problems.
            last = number == len(items) and not selectors.asks_new_problem(invitation)
            try:
                services.answer_save(
                    invitation=invitation, item=current.item, value=value, last=last
                )
            except ValidationError as refused:
                error = " ".join(refused.messages)
            else:
                if last:
                    return _done(link)
                if number < len(items):
                    return redirect("questionnaires:step", token=token, number=number + 1)
                return redirect(_after_last(token, link))
        else:
            error = "Choose one of the answers."
    chosen = selectors.invitation_answers(invitation=invitation).get(current.item.pk)
    context = {
        "patient_name": invitation.patient.given_name,
        "step": current,
        "total": len(items) + (1 if selectors.asks_new_problem(invitation) else 0),
        "chosen": chosen,
        "back": reverse("questionnaires:step", args=[token, number - 1]) if number > 1 else "",
        "error": error,
    }
    return page(request, "questionnaires/question.html", context, status=400 if error else 200)


def _posted_value(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("answer", ""))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@with_link
def problem(request: HttpRequest, token: str, link: InvitationLink) -> HttpResponse:
    """The last question: any new problem since the injection? No ends the questions; yes asks
    what, in the patient's words."""
    invitation = link.invitation
    if not selectors.asks_new_problem(invitation):
        return redirect("questionnaires:finish", token=token)
    count = len(selectors.invitation_items(invitation=invitation))
    error, details = "", False
    if request.method == "POST":
        answer = request.POST.get("problem")
        if answer == "no":
            return _complete(request, link, new_problem=False)
        if answer == "yes":
            details = True
            if "text" in request.POST:
                return _complete(request, link, new_problem=True, text=request.POST.get("text", ""))
        else:
            error = "Choose No or Yes."
    context = {
        "patient_name": invitation.patient.given_name,
        "number": count + 1,
        "total": count + 1,
        "details": details,
        "back": reverse("questionnaires:step", args=[token, count]) if count else "",
        "error": error,
    }
    return page(request, "questionnaires/problem.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@with_link
def finish(request: HttpRequest, token: str, link: InvitationLink) -> HttpResponse:
    """At baseline, after the last question: send the answers."""
    if request.method == "POST":
        return _complete(request, link, new_problem=None)
    count = len(selectors.invitation_items(invitation=link.invitation))
    context = {
        "patient_name": link.invitation.patient.given_name,
        "back": reverse("questionnaires:step", args=[token, count]) if count else "",
    }
    return page(request, "questionnaires/finish.html", context)


def _complete(
    request: HttpRequest, link: InvitationLink, *, new_problem: bool | None, text: str = ""
) -> HttpResponse:
    try:
        services.invitation_complete(
            invitation=link.invitation, new_problem=new_problem, problem_text=text
        )
    except ValidationError as refused:
        context = {
            "patient_name": link.invitation.patient.given_name,
            "details": True,
            "error": " ".join(refused.messages),
            "text": text,
        }
        return page(request, "questionnaires/problem.html", context, status=400)
    return _done(link)


def _done(link: InvitationLink) -> HttpResponse:
    done = reverse("questionnaires:done")
    return redirect(f"{done}?tablet=1" if link.kind == LinkKind.KIOSK else done)


@require_http_methods(["GET"])
def done(request: HttpRequest) -> HttpResponse:
    """The end: thanks (no name, no link: the page holds nothing of anyone's)."""
    return page(request, "questionnaires/done.html", {"tablet": request.GET.get("tablet") == "1"})


# -- The chart's panel ------------------------------------------------------------------------


@require_POST
def problem_reviewed(request: HttpRequest, report_id: int) -> HttpResponse:
    """A clinician marks a patient's new problem as reviewed, from the chart."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not allowed(request.user, ProblemReport, CHANGE):
        raise PermissionDenied
    report = get_object_or_404(ProblemReport, pk=report_id)
    services.problem_review(
        report=report, clinician=request.user, note=request.POST.get("note", "")[:2000]
    )
    audit.access_record(
        request=request, action="questionnaire.problem.review", status=302, records=[report]
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("workspace:chart", args=[report.patient_id])
    return redirect(back)
