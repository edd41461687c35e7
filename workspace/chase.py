"""The front desk's list of patients to call about their questionnaires (who to call and how to
reach them, not their answers), and the clinic's tablet at check-in, which opens a booked
patient's questionnaire on a short-lived link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from questionnaires import selectors, services
from questionnaires.models import CallOutcome, Invitation, InvitationCall
from recordkeeping import audit
from recordkeeping.permissions import ADD, VIEW, allowed
from workspace.access import desk_and_clinicians


@desk_and_clinicians
def chase_list(request: HttpRequest) -> HttpResponse:
    """Patients whose questionnaire messages ran out unanswered, to call; and the patients
    booked today with a questionnaire open, to start on the tablet."""
    if not allowed(request.user, Invitation, VIEW):
        raise PermissionDenied
    invitations = list(selectors.call_list())
    kiosk = selectors.kiosk_invitations()
    audit.access_record(
        request=request, action="workspace.chase", status=200, records=[*invitations, *kiosk]
    )
    context = {"invitations": invitations, "kiosk": kiosk, "outcomes": CallOutcome.choices}
    return render(request, "workspace/chase.html", context)


@require_POST
@desk_and_clinicians
def call_record(request: HttpRequest, invitation_id: int) -> HttpResponse:
    if not allowed(request.user, InvitationCall, ADD):
        raise PermissionDenied
    invitation = get_object_or_404(Invitation.objects.select_related("patient"), pk=invitation_id)
    try:
        services.call_record(
            invitation=invitation,
            called_by=request.user,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", "")[:500],
        )
    except ValidationError as refused:
        messages.error(request, f"{invitation.patient}: {' '.join(refused.messages)}")
    else:
        messages.success(request, f"Call to {invitation.patient} recorded.")
    audit.access_record(
        request=request, action="workspace.chase.call", status=302, records=[invitation]
    )
    return redirect("workspace:chase")


@require_POST
@desk_and_clinicians
def kiosk_start(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Open the patient's questionnaire on this tablet. The staff member is signed out of it
    first: the patient holds the tablet, and nothing of the workspace stays open behind."""
    if not allowed(request.user, Invitation, VIEW):
        raise PermissionDenied
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        token = services.kiosk_link_issue(invitation=invitation, issued_by=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("workspace:chase")
    audit.access_record(
        request=request, action="workspace.chase.tablet", status=302, records=[invitation]
    )
    logout(request)
    return redirect("questionnaires:start", token=token)
