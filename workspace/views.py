"""The workspace's shared screens: signing in, the day's list and finding a patient."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from patients.selectors import patients_matching
from recordkeeping import audit
from recordkeeping.permissions import roles_of
from recordkeeping.roles import CLINICIAN
from treatments import selectors
from treatments.models import InjectionSession
from workspace.access import Request, desk_and_clinicians, landing


class LoginView(auth_views.LoginView):
    template_name = "workspace/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse(landing(self.request.user))


def home(request: Request) -> HttpResponse:
    """``/``: the signed-in person's own start (clinic admins: the admin)."""
    if not request.user.is_authenticated:
        return redirect("workspace:login")
    return redirect(landing(request.user))


@desk_and_clinicians
def today(request: Request) -> HttpResponse:
    """The day: a clinician's own bookings and sessions; the front desk's, everyone's bookings."""
    day = timezone.localdate()
    mine = CLINICIAN in roles_of(request.user)
    bookings = list(selectors.agenda(day=day, clinician_id=request.user.pk if mine else None))
    start, end = selectors.day_bounds(day)
    sessions = (
        list(
            InjectionSession.objects.filter(
                clinician=request.user, performed_at__gte=start, performed_at__lt=end
            ).select_related("patient")
        )
        if mine
        else []
    )
    audit.access_record(
        request=request, action="workspace.today", status=200, records=[*bookings, *sessions]
    )
    return render(
        request,
        "workspace/today.html",
        {"day": day, "bookings": bookings, "sessions": sessions, "mine": mine},
    )


@desk_and_clinicians
def patient_search(request: Request) -> HttpResponse:
    """Patients by MRN, name or date of birth; htmx asks for the results alone as one types."""
    text = request.GET.get("q", "").strip()[:100]
    patients = list(patients_matching(text=text)) if text else []
    if patients:
        audit.access_record(
            request=request, action="workspace.patient.search", status=200, records=patients
        )
    template = "workspace/search.html#results" if request.htmx else "workspace/search.html"
    # Only those who may open a chart are offered a link to one (the front desk would get 403).
    opens_charts = request.user.is_superuser or CLINICIAN in roles_of(request.user)
    return render(
        request, template, {"q": text, "patients": patients, "opens_charts": opens_charts}
    )
