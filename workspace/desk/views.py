"""The front desk's screens: the day's grid (a column per clinician) and a clinician's week,
booking a free time, moving a booking by dragging it or with the keys, its status, proposals to
book, the waitlist, the clinicians shown, and registering a patient.

Each view checks the role, calls a selector or a service (the same ones as the API) and renders
the grid, or the fragment htmx swaps in. The front desk writes; clinicians read."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from patients.selectors import patients_matching
from patients.services import PossibleDuplicates, patient_register
from recordkeeping import audit
from recordkeeping.errors import Clash
from recordkeeping.permissions import roles_of
from recordkeeping.roles import FRONT_DESK
from treatments import schedule, services
from treatments.models import FollowUp, FollowUpStatus, WaitlistEntry
from treatments.selectors import day_bounds
from treatments.services.day_view import MAX_COLUMNS
from workspace.access import Request, desk_and_clinicians, for_roles
from workspace.desk import grid
from workspace.desk.forms import (
    BookForm,
    DayForm,
    MoveForm,
    RegisterForm,
    StatusForm,
    WaitlistBookForm,
    WaitlistForm,
)

desk_only = for_roles(FRONT_DESK)
DEFAULT_COLUMNS = 8  # clinicians shown when nobody chose: a laptop's width
ACTIONS = {
    FollowUpStatus.SCHEDULED: "Book",
    FollowUpStatus.CONFIRMED: "Confirm",
    FollowUpStatus.CHECKED_IN: "Check in",
    FollowUpStatus.NO_SHOW: "No-show",
}
DONE = {
    FollowUpStatus.SCHEDULED: "Booked",
    FollowUpStatus.CONFIRMED: "Confirmed",
    FollowUpStatus.CHECKED_IN: "Checked in",
    FollowUpStatus.NO_SHOW: "Marked as a no-show",
    FollowUpStatus.CANCELLED: "Cancelled",
}


def name_of(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def can_change(request: Request) -> bool:
    user = request.user
    return bool(user.is_superuser or FRONT_DESK in roles_of(user))


# -- What a grid shows ----------------------------------------------------------------------


def _next_open_day(day: datetime.date, step: int) -> datetime.date:
    for _ in range(7):
        day += datetime.timedelta(days=step)
        if day.isoweekday() in settings.CLINIC_DAYS:
            return day
    return day


def _shown_clinicians(
    request: Request, asked: list[int], start: datetime.datetime, end: datetime.datetime
) -> tuple[list[Any], str]:
    """The clinicians of the grid and how they were chosen: asked for in the address, chosen
    by this person before, or (by default) those working then, else every clinician."""
    if asked:
        return schedule.clinicians_named(asked[:MAX_COLUMNS]), "asked"
    chosen = schedule.day_view_chosen(user=request.user)
    if chosen:
        return schedule.clinicians_named(chosen), "chosen"
    working = schedule.clinicians_working(start=start, end=end)
    if working:
        return schedule.clinicians_named(working)[:DEFAULT_COLUMNS], "working"
    return schedule.all_clinicians()[:DEFAULT_COLUMNS], "all"


def _state(request: Request) -> tuple[str, QueryDict]:
    """The grid a write came from (htmx names the page in HX-Current-URL), to show it again."""
    current = urlparse(request.headers.get("HX-Current-URL", ""))
    week = current.path.rstrip("/").endswith("/week")
    return ("week" if week else "day"), QueryDict(current.query)


def _schedule(
    request: Request,
    *,
    view: str,
    query: QueryDict,
    notice: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context of a day's or a week's grid, read with the selectors, and the read logged."""
    form = DayForm(query)
    valid = form.is_valid()
    day = form.cleaned_data["date"] if valid else timezone.localdate()
    asked = form.cleaned_data["clinician"] if valid else []
    show_cancelled = bool(form.cleaned_data.get("cancelled")) if valid else False
    now = timezone.now()
    if view == "week":
        first = day - datetime.timedelta(days=day.weekday())
        days = [first + datetime.timedelta(days=n) for n in range(7)]
        days = [d for d in days if d.isoweekday() in settings.CLINIC_DAYS] or days[:5]
        start, end = day_bounds(days[0])[0], day_bounds(days[-1])[1]
        shown, how = _shown_clinicians(request, asked[:1], start, end)
        shown = shown[:1]
        pairs = [(clinician, d, f"{d:%a} {d.day} {d:%b}") for clinician in shown for d in days]
        previous, following = day - datetime.timedelta(days=7), day + datetime.timedelta(days=7)
    else:
        start, end = day_bounds(day)
        days = [day]
        shown, how = _shown_clinicians(request, asked, start, end)
        pairs = [(clinician, day, name_of(clinician)) for clinician in shown]
        previous, following = _next_open_day(day, -1), _next_open_day(day, 1)
    bookings = schedule.schedule_bookings(
        start=start, end=end, clinician_ids=[c.pk for c in shown], with_cancelled=True
    )
    waiting = schedule.waitlist_waiting(first_day=days[0], last_day=days[-1])
    the_grid = grid.build(
        pairs=pairs, bookings=bookings, waiting=waiting, now=now, show_cancelled=show_cancelled
    )
    proposals = schedule.proposals_to_book(since=day_bounds(timezone.localdate(now))[0])
    for proposal in proposals:  # its length, for the outline that follows the pointer
        proposal.minutes = (proposal.ends_at - proposal.starts_at) // datetime.timedelta(minutes=1)  # type: ignore[attr-defined]
    shown_records = [b for column in the_grid.columns for b in column.blocks]
    audit.access_record(
        request=request,
        action=f"workspace.desk.{view}",
        status=200,
        records=[
            *(block.follow_up for block in shown_records),
            *proposals,
            *(entry for column in the_grid.columns for f in column.freed for entry in f.matches),
        ],
    )
    keep = {"clinician": asked} if asked else {}
    if show_cancelled:
        keep["cancelled"] = ["1"]

    def address(**changes: Any) -> str:
        params = {**keep, **changes}
        return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")}, True)

    return {
        "view": view,
        "day": day,
        "today": timezone.localdate(now),
        "now": now,
        "grid": the_grid,
        "clinicians": shown,
        "how_chosen": how,
        "asked": asked,
        "show_cancelled": show_cancelled,
        "proposals": proposals,
        "waiting_count": len(waiting),
        "notice": notice,
        "can_change": can_change(request),
        "previous_url": address(date=previous.isoformat()),
        "next_url": address(date=following.isoformat()),
        "today_url": address(),
        "cancelled_url": address(date=day.isoformat(), cancelled=None if show_cancelled else "1"),
        "week_url": reverse("workspace:desk-week")
        + "?"
        + urlencode({"date": day.isoformat(), "clinician": shown[0].pk} if shown else {}),
        "day_url": reverse("workspace:desk") + "?" + urlencode({"date": day.isoformat()}),
        "query": query.urlencode(),
    }


def _render_schedule(
    request: Request, *, view: str, query: QueryDict, notice: dict[str, Any] | None = None
) -> HttpResponse:
    context = _schedule(request, view=view, query=query, notice=notice)
    template = "workspace/desk/day.html"
    return render(request, f"{template}#desk" if request.htmx else template, context)


@desk_and_clinicians
def day(request: Request) -> HttpResponse:
    """The day's grid: the clinic's hours by clinician, bookings, free times, proposals."""
    return _render_schedule(request, view="day", query=request.GET)


@desk_and_clinicians
def week(request: Request) -> HttpResponse:
    """One clinician's week, a column per clinic day."""
    return _render_schedule(request, view="week", query=request.GET)


def _after_write(
    request: Request, *, text: str, error: bool = False, freed: dict[str, Any] | None = None
) -> HttpResponse:
    """Show the grid again with what happened: in place for htmx (closing the dialog), else
    by going back to it with a message."""
    if request.htmx:
        view, query = _state(request)
        notice = {"error": error, "text": text, "freed": freed}
        response = _render_schedule(request, view=view, query=query, notice=notice)
        response["HX-Retarget"] = "#desk"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Trigger-After-Swap"] = "desk-done"
        return response
    messages.add_message(request, messages.ERROR if error else messages.SUCCESS, text)
    return redirect("workspace:desk")


def refusal(error: Exception) -> str:
    """What a service said when it refused, as one sentence per problem."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return " ".join(m for messages_ in error.message_dict.values() for m in messages_)
        return " ".join(error.messages)
    return str(error)


def refusal_naming_the_booking(
    request: Request,
    error: Exception,
    *,
    clinician_id: int,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    other_than: int | None = None,
) -> str:
    """A refusal, the booking in the way named by its patient and time: the desk sees patients
    on the grid, not the follow-up numbers the service's message gives."""
    text = refusal(error)
    other = schedule.booking_in_the_way(
        clinician_id=clinician_id, starts_at=starts_at, ends_at=ends_at, other_than=other_than
    )
    if other is None or other.describe_as_clash() not in text:
        return text
    audit.access_record(
        request=request, action="workspace.desk.in_the_way", status=200, records=[other]
    )
    start, end = timezone.localtime(other.starts_at), timezone.localtime(other.ends_at)
    named = (
        f"{name_of(other.clinician)} is already booked from {start:%H:%M} to {end:%H:%M} with "
        f"{other.patient.given_name} {other.patient.family_name} "
        f"({other.get_kind_display().lower()})."
    )
    return text.replace(other.describe_as_clash(), named)


def form_errors(form: Any) -> str:
    """A form's errors as one line, each after its field's label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label if field is not None else None) or name.replace("_", " ").capitalize()
        parts.append(" ".join(errors) if name == "__all__" else f"{label}: {' '.join(errors)}")
    return " ".join(parts)


def _when(follow_up: FollowUp) -> str:
    start = timezone.localtime(follow_up.starts_at)
    return f"{start:%a} {start.day} {start:%b} at {start:%H:%M}"


# -- Booking --------------------------------------------------------------------------------


@desk_and_clinicians
def patient_options(request: Request) -> HttpResponse:
    """Patients to choose from in a dialog, by MRN, name or date of birth."""
    text = request.GET.get("q", "").strip()[:100]
    patients = list(patients_matching(text=text, limit=8)) if text else []
    if patients:
        audit.access_record(
            request=request, action="workspace.desk.patients", status=200, records=patients
        )
    return render(
        request,
        "workspace/desk/dialogs.html#patients",
        {"q": text, "patients": [p for p in patients if not p.is_archived]},
    )


def _book_dialog(request: Request, form: BookForm, error: str = "") -> HttpResponse:
    clinician = form["clinician"].value()
    starts_at = form["starts_at"].value()
    context = {"form": form, "error": error, "clinician_name": "", "when": ""}
    chosen = schedule.clinicians_named([int(clinician)]) if str(clinician).isdigit() else []
    if chosen:
        context["clinician_name"] = name_of(chosen[0])
    try:
        moment = form.fields["starts_at"].clean(starts_at)
        context["when"] = f"{moment:%A} {moment.day} {moment:%B %Y} at {moment:%H:%M}"
    except ValidationError:
        pass
    return render(request, "workspace/desk/dialogs.html#book", context)


@desk_only
def book(request: Request) -> HttpResponse:
    """A free time clicked on the grid: the booking dialog, and the booking made."""
    if request.method != "POST":
        form = BookForm(initial={**request.GET.dict(), "minutes": 30})
        return _book_dialog(request, form)
    form = BookForm(request.POST)
    if not form.is_valid():
        return _book_dialog(request, form, form_errors(form))
    fields = form.booking()
    try:
        follow_up = services.follow_up_book(fields=fields)
    except (ValidationError, Clash) as error:
        said = refusal_naming_the_booking(
            request,
            error,
            clinician_id=fields["clinician"].pk,
            starts_at=fields["starts_at"],
            ends_at=fields["ends_at"],
        )
        return _book_dialog(request, form, said)
    patient = form.cleaned_data["patient"]
    return _after_write(
        request,
        text=f"Booked {patient.given_name} {patient.family_name}: {follow_up.get_kind_display()} "
        f"with {name_of(form.cleaned_data['clinician'])}, {_when(follow_up)}.",
    )


# -- One booking: its dialog, moving it, its status ------------------------------------------


def _follow_up(pk: int) -> FollowUp:
    return get_object_or_404(
        FollowUp.objects.select_related("patient", "clinician").prefetch_related("answers"),
        pk=pk,
    )


def _follow_up_dialog(request: Request, follow_up: FollowUp, error: str = "") -> HttpResponse:
    offered = services.follow_up_moves_offered(follow_up=follow_up, now=timezone.now())
    audit.access_record(
        request=request, action="workspace.desk.follow_up", status=200, records=[follow_up]
    )
    return render(
        request,
        "workspace/desk/dialogs.html#follow_up",
        {
            "follow_up": follow_up,
            "actions": [(to, label) for to, label in ACTIONS.items() if to in offered],
            "can_cancel": FollowUpStatus.CANCELLED in offered,
            "can_change": can_change(request),
            "error": error,
        },
    )


@desk_and_clinicians
def follow_up_detail(request: Request, pk: int) -> HttpResponse:
    """A booking's dialog: who, when, its status and the patient's answers; the actions that
    apply now."""
    return _follow_up_dialog(request, _follow_up(pk))


def _freed_offer(
    *, clinician: Any, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> dict[str, Any] | None:
    matches = schedule.waitlist_for_slot(
        clinician_id=clinician.pk, starts_at=starts_at, ends_at=ends_at
    )
    if not matches:
        return None
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    return {
        "clinician": clinician,
        "starts_at": start,
        "ends_at": end,
        "matches": matches,
        "label": f"{name_of(clinician)}, {start:%a} {start.day} {start:%b} "
        f"{start:%H:%M}–{end:%H:%M}",
    }


@require_POST
@desk_only
def follow_up_move(request: Request, pk: int) -> HttpResponse:
    """Drop a booking (or a proposal) at another time or clinician: the same service as the
    API's reschedule. Refused (an overlap, a closed hour), nothing changes and the message names
    what is in the way."""
    follow_up = _follow_up(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _after_write(request, text=form_errors(form), error=True)
    before = (follow_up.clinician, follow_up.starts_at, follow_up.ends_at, follow_up.status)
    starts_at, clinician = form.cleaned_data["starts_at"], form.cleaned_data["clinician"]
    try:
        moved = services.follow_up_reschedule(
            follow_up=follow_up, starts_at=starts_at, clinician_id=clinician.pk
        )
    except (ValidationError, Clash) as error:
        said = refusal_naming_the_booking(
            request,
            error,
            clinician_id=clinician.pk,
            starts_at=starts_at,
            ends_at=starts_at + (follow_up.ends_at - follow_up.starts_at),
            other_than=follow_up.pk,
        )
        who = f"{follow_up.patient.given_name} {follow_up.patient.family_name}"
        if before[3] == FollowUpStatus.PROPOSED:
            return _after_write(
                request, text=f"Not booked: {said} {who} stays on the list to book.", error=True
            )
        return _after_write(
            request, text=f"Not moved: {said} {who} stays {_when(follow_up)}.", error=True
        )
    patient = follow_up.patient
    # The time it leaves may suit someone on the waitlist (a proposal held no time).
    freed = None
    if before[3] != FollowUpStatus.PROPOSED:
        freed = _freed_offer(clinician=before[0], starts_at=before[1], ends_at=before[2])
    verb = "Booked" if before[3] == FollowUpStatus.PROPOSED else "Moved"
    return _after_write(
        request,
        text=f"{verb} {patient.given_name} {patient.family_name}: "
        f"{moved.get_kind_display()} with {name_of(form.cleaned_data['clinician'])}, "
        f"{_when(moved)}.",
        freed=freed,
    )


@require_POST
@desk_only
def follow_up_status(request: Request, pk: int) -> HttpResponse:
    """Book a proposal at its time, confirm, check in, mark a no-show, or cancel with a
    reason."""
    follow_up = _follow_up(pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _follow_up_dialog(request, follow_up, form_errors(form))
    to = form.cleaned_data["to"]
    try:
        if to == FollowUpStatus.CANCELLED:
            changed = services.follow_up_cancel(
                follow_up=follow_up, reason=form.cleaned_data["reason"]
            )
        else:
            changed = services.follow_up_transition(follow_up=follow_up, to=to)
    except (ValidationError, Clash) as error:
        if request.htmx and request.POST.get("from") == "list":
            return _after_write(request, text=f"Not booked: {refusal(error)}", error=True)
        return _follow_up_dialog(request, follow_up, refusal(error))
    patient = follow_up.patient
    freed = None
    if to == FollowUpStatus.CANCELLED:
        freed = _freed_offer(
            clinician=follow_up.clinician, starts_at=changed.starts_at, ends_at=changed.ends_at
        )
    return _after_write(
        request,
        text=f"{DONE[to]}: {patient.given_name} {patient.family_name}, "
        f"{changed.get_kind_display().lower()} {_when(changed)}.",
        freed=freed,
    )


# -- The waitlist ---------------------------------------------------------------------------


def _waitlist_page(request: Request, form: WaitlistForm, status: int = 200) -> HttpResponse:
    entries = schedule.waitlist_waiting()
    audit.access_record(
        request=request, action="workspace.desk.waitlist", status=200, records=entries
    )
    return render(
        request,
        "workspace/desk/waitlist.html",
        {"form": form, "entries": entries, "can_change": can_change(request)},
        status=status,
    )


@desk_and_clinicians
def waitlist(request: Request) -> HttpResponse:
    """Patients waiting for an earlier visit; the front desk adds them here."""
    if request.method != "POST":
        today = timezone.localdate()
        initial = {"earliest": today, "latest": today + datetime.timedelta(days=28)}
        return _waitlist_page(request, WaitlistForm(initial=initial))
    if not can_change(request):
        raise PermissionDenied
    form = WaitlistForm(request.POST)
    if form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            entry = services.waitlist_add(fields=fields, added_by=request.user)
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
        else:
            patient = entry.patient
            audit.access_record(
                request=request, action="workspace.desk.waitlist.add", status=201, records=[entry]
            )
            messages.success(
                request, f"{patient.given_name} {patient.family_name} is on the waitlist."
            )
            return redirect("workspace:desk-waitlist")
    return _waitlist_page(request, form, status=400)


@require_POST
@desk_only
def waitlist_withdraw(request: Request, pk: int) -> HttpResponse:
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient"), pk=pk)
    try:
        services.waitlist_withdraw(entry=entry)
    except ValidationError as error:
        messages.error(request, refusal(error))
    else:
        audit.access_record(
            request=request, action="workspace.desk.waitlist.withdraw", status=200, records=[entry]
        )
        messages.success(
            request,
            f"{entry.patient.given_name} {entry.patient.family_name} is off the waitlist.",
        )
    return redirect("workspace:desk-waitlist")


@require_POST
@desk_only
def waitlist_book(request: Request, pk: int) -> HttpResponse:
    """Book a waiting patient into a freed slot (one action from the grid)."""
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient"), pk=pk)
    form = WaitlistBookForm(request.POST)
    if not form.is_valid():
        return _after_write(request, text=form_errors(form), error=True)
    try:
        booked = services.waitlist_book(
            entry=entry,
            clinician_id=form.cleaned_data["clinician"].pk,
            starts_at=form.cleaned_data["starts_at"],
        )
    except (ValidationError, Clash) as error:
        starts_at = form.cleaned_data["starts_at"]
        said = refusal_naming_the_booking(
            request,
            error,
            clinician_id=form.cleaned_data["clinician"].pk,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=entry.minutes),
        )
        return _after_write(request, text=f"Not booked: {said}", error=True)
    follow_up = booked.follow_up
    assert follow_up is not None  # noqa: S101 - a booked entry names its booking
    return _after_write(
        request,
        text=f"Booked {entry.patient.given_name} {entry.patient.family_name} from the "
        f"waitlist: {follow_up.get_kind_display().lower()} with "
        f"{name_of(form.cleaned_data['clinician'])}, {_when(follow_up)}.",
    )


# -- The clinicians shown -------------------------------------------------------------------


@desk_and_clinicians
def clinicians_choice(request: Request) -> HttpResponse:
    """Choose the clinicians the grid shows (kept for this person); none: those working."""
    error = ""
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("clinician") if v.isdigit() and len(v) < 19]
        try:
            services.day_view_choose(user=request.user, clinician_ids=ids)
        except ValidationError as refused:
            error = refusal(refused)
        else:
            messages.success(
                request,
                f"The grid shows {len(ids)} clinician{'s' if len(ids) != 1 else ''}."
                if ids
                else "The grid shows the clinicians working each day.",
            )
            return redirect("workspace:desk")
    chosen = set(schedule.day_view_chosen(user=request.user))
    start, end = day_bounds(timezone.localdate())
    working = set(schedule.clinicians_working(start=start, end=end))
    return render(
        request,
        "workspace/desk/clinicians.html",
        {
            "clinicians": schedule.all_clinicians(),
            "chosen": chosen,
            "working": working,
            "error": error,
            "max_columns": MAX_COLUMNS,
        },
        status=400 if error else 200,
    )


# -- Registering a patient ------------------------------------------------------------------


@desk_only
def register(request: Request) -> HttpResponse:
    """A new patient. One who may be on record already (born the same day with a similar name,
    or with the same phone or email) is shown with the candidates before anything is saved."""
    candidates: list[Any] = []
    if request.method == "POST":
        form = RegisterForm(request.POST)
        if form.is_valid():
            try:
                patient = patient_register(
                    fields=form.fields_to_save(),
                    confirm_new=form.cleaned_data["confirm_new"],
                )
            except PossibleDuplicates as found:
                candidates = found.candidates
                audit.access_record(
                    request=request,
                    action="workspace.desk.register.duplicates",
                    status=409,
                    records=candidates,
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, problems)
            else:
                messages.success(
                    request,
                    f"Registered {patient.given_name} {patient.family_name} ({patient.mrn}).",
                )
                return redirect("workspace:desk")
    else:
        form = RegisterForm()
    status = 200 if request.method != "POST" else (409 if candidates else 400)
    return render(
        request,
        "workspace/desk/register.html",
        {"form": form, "candidates": candidates},
        status=status,
    )
