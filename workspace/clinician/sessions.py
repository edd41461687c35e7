"""Logging a session on one screen, and a session's own page: sign, addenda, cancel.

The screen is one page load; htmx sends it and swaps in what comes back (the errors beside
their fields, or the saved session). The same services as the API record it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from patients.models import Condition, Patient
from recordkeeping import audit
from recordkeeping.choices import BodyRegion, Laterality
from recordkeeping.db import database_rules
from recordkeeping.errors import RecordLocked
from recordkeeping.staff import signed_in
from stock.models import Product
from treatments import selectors, services
from treatments.models import (
    Injectate,
    InjectateKind,
    InjectionSession,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
)
from workspace.access import Request, clinicians_only
from workspace.clinician import bodymap
from workspace.clinician.forms import (
    NEW_COURSE,
    OTHER_STRUCTURE,
    InjectateFormSet,
    SessionForm,
    SideEffectFormSet,
    SiteFormSet,
    initial_performed_at,
    injectate_initial,
    renumbered,
    site_initial,
)
from workspace.clinician.gs1 import NotReadable, scan_read


@dataclass
class Screen:
    """The session screen's forms, bound to what was sent or filled from a stored session."""

    patient: Patient
    form: SessionForm
    injectates: Any
    sites: Any
    effects: Any
    session: InjectionSession | None = None
    errors: list[str] = field(default_factory=list)

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        stub = self.form.stub()
        for formset in (self.injectates, self.sites, self.effects):
            formset.form_kwargs = formset.form_kwargs | {"session": stub}
        valid = all([valid, self.injectates.is_valid(), self.sites.is_valid()])
        valid = self.effects.is_valid() and valid
        return valid and self.references_hold()

    def references_hold(self) -> bool:
        """Each site names an injectate on the screen, each side effect a site."""
        lines = {row.cleaned_data["line"] for row in self.injectates.filled()}
        held = True
        for row in self.sites.filled():
            if row.cleaned_data["injectate_line"] not in lines:
                row.add_error("injectate_line", "Choose an injectate of this session.")
                held = False
        site_lines = {row.cleaned_data["line"] for row in self.sites.filled()}
        for row in self.effects.filled():
            number = row.cleaned_data.get("site_line")
            if number and number not in site_lines:
                row.add_error("site_line", f"There is no site no. {number}.")
                held = False
        return held

    def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        return renumbered(
            [row.values() for row in self.injectates.filled()],
            [row.values() for row in self.sites.filled()],
            [
                row.values() | {"site_line": row.cleaned_data.get("site_line")}
                for row in self.effects.filled()
            ],
        )

    def condition(self) -> Condition | None:
        """The condition the course on the screen treats, read from what was sent."""
        data = self.form.data
        chosen = data.get("course", "")
        if chosen == NEW_COURSE:
            condition_id = data.get("new_condition", "")
            return (
                Condition.objects.filter(patient=self.patient, pk=condition_id).first()
                if str(condition_id).isdigit()
                else None
            )
        course = self.form.courses.get(chosen)
        return course.condition if course else None

    def warnings(self) -> list[str]:
        """Sites on another side or region than the course's condition: said before saving,
        never refused (a course for the right knee may well need the left one looked at)."""
        condition = self.condition() if self.form.is_bound else None
        if condition is None:
            return []
        found = []
        data, total = self.form.data, self.sites.total_form_count()
        for index in range(total):
            line = data.get(f"sites-{index}-line", "")
            region = data.get(f"sites-{index}-body_region", "")
            side = data.get(f"sites-{index}-laterality", "")
            if region and side and off_condition(condition, region, side):
                found.append(wrong_side_message(condition, line, region, side))
        return found


def off_condition(condition: Condition, region: str, side: str) -> bool:
    if region != condition.body_region:
        return True
    one_side = (Laterality.LEFT, Laterality.RIGHT)
    return (
        condition.laterality in one_side
        and side in (*one_side, Laterality.BILATERAL)
        and (side != condition.laterality)
    )


def wrong_side_message(condition: Condition, line: Any, region: str, side: str) -> str:
    where = f"{Laterality(side).label.lower()} {BodyRegion(region).label.lower()}"
    treats = " ".join(
        (
            condition.get_laterality_display().lower(),
            condition.get_body_region_display().lower(),
        )
    )
    return (
        f"Site {line} is on the {where}, but this course treats {condition.label} "
        f"({condition.icd10_code}) of the {treats}. Check the side before saving."
    )


def screen_for(
    request: Request,
    patient: Patient,
    session: InjectionSession | None = None,
    initial: dict[str, Any] | None = None,
) -> Screen:
    courses = list(selectors.patient_courses(patient=patient))
    data = request.POST if request.method == "POST" else None
    form = SessionForm(
        data, patient=patient, courses=courses, session=session, initial=initial or {}
    )
    rows = initial or {}
    return Screen(
        patient=patient,
        form=form,
        injectates=InjectateFormSet(
            data,
            prefix="injectates",
            initial=rows.get("injectates"),
            form_kwargs={"products": list(Product.objects.offered())},
        ),
        sites=SiteFormSet(data, prefix="sites", initial=rows.get("sites")),
        effects=SideEffectFormSet(data, prefix="effects"),
        session=session,
    )


def new_initial(request: Request, patient: Patient) -> dict[str, Any]:
    """A new session's starting values: now, by you; with ``?course=`` that course, and with
    ``&repeat=1`` the injectates (without their batches) and sites of its last session."""
    initial: dict[str, Any] = {"performed_at": initial_performed_at(), "clinician": request.user.pk}
    course_id = request.GET.get("course", "")
    course = (
        TreatmentCourse.objects.filter(patient=patient, pk=course_id).first()
        if course_id.isdigit()
        else None
    )
    if course is None:
        return initial
    initial["course"] = str(course.pk)
    repeat = bool(request.GET.get("repeat"))
    last = selectors.course_last_completed_session(course=course) if repeat else None
    if last is not None:
        injectates = last.prefetched_injectates  # type: ignore[attr-defined]
        initial["guidance"] = last.guidance
        initial["injectates"] = [injectate_initial(row, repeat=True) for row in injectates]
        initial["sites"] = [
            site_initial(site, site.injectate_line)
            for site in last.prefetched_sites  # type: ignore[attr-defined]
        ]
        initial["repeated_from"] = last
    return initial


def stored_initial(session: InjectionSession) -> dict[str, Any]:
    local = timezone.localtime(session.performed_at)
    return {
        "course": str(session.course_id or ""),
        "clinician": session.clinician_id,
        "performed_at": local.strftime("%Y-%m-%dT%H:%M"),
        "status": session.status,
        "guidance": session.guidance,
        "consent_obtained": session.consent_obtained,
        "pre_pain_score": session.pre_pain_score,
        "notes": session.notes,
        "injectates": [
            injectate_initial(row)
            for row in session.prefetched_injectates  # type: ignore[attr-defined]
        ],
        "sites": [
            site_initial(site, site.injectate_line)
            for site in session.prefetched_sites  # type: ignore[attr-defined]
        ],
    }


def structure_options(row: Any) -> list[dict[str, Any]]:
    """The structures offered for a site row's region, the row's own choice selected (kept
    when it is not one of them, e.g. a structure typed on an earlier visit)."""
    region, chosen = row["body_region"].value(), row["structure"].value() or ""
    options = [
        choice.as_data() | {"selected": choice.name == chosen}
        for choice in bodymap.STRUCTURES.get(region or "", ())
    ]
    if chosen and chosen != OTHER_STRUCTURE and not any(o["selected"] for o in options):
        options.append(
            {"name": chosen, "snomed": "", "tissue": "", "laterality": ""} | {"selected": True}
        )
    return options


def lines_of(formset: Any) -> list[int]:
    found = []
    for row in formset.forms:
        value = str(row["line"].value() or "")
        if value.isdigit():
            found.append(int(value))
    return found


def draft_key(patient: Patient, session: InjectionSession | None) -> str:
    """Where the screen keeps what is typed in the browser until it is saved."""
    return f"clinic.session-draft.{patient.pk}" + (f".{session.pk}" if session else "")


def screen_context(screen: Screen, *, fresh: bool, repeated_from: Any = None) -> dict[str, Any]:
    products = list(Product.objects.offered())
    session = screen.session
    for row in screen.sites.forms:
        row.structure_options = structure_options(row)
    return {
        "views": [
            ("front", bodymap.spots(bodymap.FRONT), False),
            ("back", bodymap.spots(bodymap.BACK), True),
        ],
        "injectate_lines": lines_of(screen.injectates),
        "site_lines": lines_of(screen.sites),
        "patient": screen.patient,
        "screen": screen,
        "form": screen.form,
        "session": session,
        "fresh": fresh,
        "draft_key": draft_key(screen.patient, session),
        "warnings": screen.warnings() if screen.form.is_bound else [],
        "errors": screen.errors,
        "repeated_from": repeated_from,
        "products": products,
        "presets": {str(p.pk): p.preset() for p in products},
        "gtins": {p.gtin: str(p.pk) for p in products if p.gtin},
        "structures": bodymap.structures_data(),
        "other_structure": OTHER_STRUCTURE,
        "new_course": NEW_COURSE,
        "action": (
            reverse("workspace:session-edit", args=[session.pk])
            if session
            else reverse("workspace:session-new", args=[screen.patient.pk])
        ),
        "check_url": reverse("workspace:session-check", args=[screen.patient.pk]),
    }


def save(screen: Screen, *, by: User, sign: bool) -> InjectionSession:
    """Record what the screen holds, all or nothing: a new course if asked, the session with
    its injectates and sites, the side effects, and the signature when asked to sign."""
    data = screen.form.cleaned_data
    injectates, sites, effects = screen.rows()
    with transaction.atomic():
        course = data["course"]
        if course == NEW_COURSE:
            course = TreatmentCourse(
                patient=screen.patient,
                condition=data["new_condition"],
                planned_treatment=data["new_treatment"],
                planned_sessions=data["new_sessions"],
                planned_interval_weeks=data["new_interval"],
                start_date=timezone.localdate(data["performed_at"]),
            )
            course.full_clean()
            course.save()
        fields = screen.form.session_fields() | {"course": course}
        if screen.session is None:
            session = services.session_create(fields=fields, injectates=injectates, sites=sites)
        else:
            session = services.session_update(
                session=screen.session,
                by=by,
                fields=fields,
                injectates=injectates,
                sites=sites,
            )
        site_of = {site.line: site for site in session.sites.all()}
        for values in effects:
            number = values.pop("site_line", None)
            effect = SideEffect(
                session=session, site=site_of.get(number) if number else None, **values
            )
            effect.recorded_by = by
            effect.full_clean()
            effect.save()
        if sign:
            services.session_sign(session=session, clinician=by)
    return session


def refusal(error: Exception) -> list[str]:
    """A refusal of the services or the database, in words."""
    if isinstance(error, IntegrityError):
        diag = getattr(error.__cause__, "diag", None)
        rule = getattr(diag, "constraint_name", None) or ""
        message = database_rules().get(rule, ("", ""))[1]
        return [message or "The record was refused as it stands; check the values and save again."]
    if isinstance(error, ValidationError):
        return list(error.messages)
    return [str(error)]


def submit(
    request: Request, screen: Screen, *, action: str, repeated_from: Any = None
) -> HttpResponse:
    """Save, or show the errors beside their fields with everything typed kept."""
    by = signed_in(request.user)
    sign = "sign" in request.POST
    if screen.is_valid():
        try:
            session = save(screen, by=by, sign=sign)
        except (ValidationError, IntegrityError, RecordLocked, PermissionDenied) as error:
            screen.errors = refusal(error)
        else:
            audit.access_record(request=request, action=action, status=201, records=[session])
            return saved(request, session, draft=draft_key(screen.patient, screen.session))
    else:
        screen.errors = ["Nothing was saved: see the fields marked below."]
    context = screen_context(screen, fresh=False, repeated_from=repeated_from)
    audit.access_record(request=request, action=action, status=400, records=[screen.patient])
    template = "workspace/clinician/session_form.html"
    if request.htmx:
        return render(request, f"{template}#screen", context)
    return render(request, template, context, status=400)


def saved(request: Request, session: InjectionSession, *, draft: str) -> HttpResponse:
    """The saved session's page; htmx swaps it in, shows its address, and the screen's draft
    in the browser is dropped."""
    url = reverse("workspace:session", args=[session.pk])
    if not request.htmx:
        return redirect(url)
    context = record_context(request, session.pk)
    context |= {"just_saved": True, "cleared_draft": draft}
    response = render(request, "workspace/clinician/session.html#record", context)
    response["HX-Push-Url"] = url
    return response


@clinicians_only
def session_new(request: Request, patient_id: int) -> HttpResponse:
    """The session screen for a new session (``?course=``, ``&repeat=1``)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    if request.method == "POST":
        screen = screen_for(request, patient)
        return submit(request, screen, action="workspace.session.add")
    initial = new_initial(request, patient)
    repeated_from = initial.pop("repeated_from", None)
    screen = screen_for(request, patient, initial=initial)
    audit.access_record(
        request=request, action="workspace.session.new", status=200, records=[patient]
    )
    context = screen_context(screen, fresh=True, repeated_from=repeated_from)
    return render(request, "workspace/clinician/session_form.html", context)


def loaded_session(session_id: int) -> InjectionSession:
    found = (
        InjectionSession.objects.filter(pk=session_id)
        .select_related("patient", "clinician", "signed_by", "course__condition")
        .with_parts()
        .first()
    )
    if found is None:
        raise Http404("No such session.")
    return found


@clinicians_only
def session_edit(request: Request, session_id: int) -> HttpResponse:
    """The session screen for a session not yet signed."""
    session = loaded_session(session_id)
    if session.is_signed or session.status == SessionStatus.CANCELLED:
        return redirect("workspace:session", session_id=session.pk)
    if request.method == "POST":
        screen = screen_for(request, session.patient, session=session)
        return submit(request, screen, action="workspace.session.change")
    screen = screen_for(request, session.patient, session=session, initial=stored_initial(session))
    audit.access_record(
        request=request, action="workspace.session.edit", status=200, records=[session]
    )
    return render(
        request, "workspace/clinician/session_form.html", screen_context(screen, fresh=True)
    )


def record_context(request: Request, session_id: int) -> dict[str, Any]:
    session = loaded_session(session_id)
    injectates = {row.line: row for row in session.prefetched_injectates}  # type: ignore[attr-defined]
    sites = session.prefetched_sites  # type: ignore[attr-defined]
    for site in sites:
        site.injectate_row = injectates.get(site.injectate_line)
    effects = list(session.side_effects.select_related("site").order_by("onset_date", "id"))
    addenda = session.prefetched_addenda  # type: ignore[attr-defined]
    authors = {u.pk: u for u in User.objects.filter(pk__in={a.author_id for a in addenda})}
    for addendum in addenda:
        addendum.author_row = authors.get(addendum.author_id)
    user = signed_in(request.user)
    own = session.clinician_id == user.pk
    return {
        "session": session,
        "patient": session.patient,
        "injectates": list(injectates.values()),
        "sites": sites,
        "dots": bodymap.dots(sites),
        "effects": effects,
        "addenda": addenda,
        "can_sign": own and not session.is_signed and session.status == SessionStatus.COMPLETED,
        "can_edit": not session.is_signed and session.status != SessionStatus.CANCELLED,
        "can_cancel": session.status == SessionStatus.PLANNED,
        "draft_key": f"clinic.session-draft.{session.patient_id}",
    }


@clinicians_only
@require_GET
def session_page(request: Request, session_id: int) -> HttpResponse:
    """A session as a record: what was given where, who signed it when, its addenda."""
    context = record_context(request, session_id)
    audit.access_record(
        request=request, action="workspace.session.view", status=200, records=[context["session"]]
    )
    return render(request, "workspace/clinician/session.html", context)


def record_answer(
    request: Request, session_id: int, *, action: str, errors: dict[str, str] | None = None
) -> HttpResponse:
    context = record_context(request, session_id) | {"action_errors": errors or {}}
    status = 400 if errors else 200
    audit.access_record(request=request, action=action, status=status, records=[context["session"]])
    if request.htmx:
        return render(request, "workspace/clinician/session.html#record", context)
    if not errors:
        return redirect("workspace:session", session_id=session_id)
    return render(request, "workspace/clinician/session.html", context, status=status)


def attempt(call: Any) -> str | None:
    try:
        call()
    except (ValidationError, RecordLocked, PermissionDenied, IntegrityError) as error:
        return " ".join(refusal(error))
    return None


@clinicians_only
@require_POST
def session_sign(request: Request, session_id: int) -> HttpResponse:
    session = get_object_or_404(InjectionSession, pk=session_id)
    by = signed_in(request.user)
    error = attempt(lambda: services.session_sign(session=session, clinician=by))
    errors = {"sign": error} if error else None
    return record_answer(request, session_id, action="workspace.session.sign", errors=errors)


@clinicians_only
@require_POST
def session_cancel(request: Request, session_id: int) -> HttpResponse:
    session = get_object_or_404(InjectionSession, pk=session_id)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        errors: dict[str, str] | None = {"reason": "Say why the session is cancelled."}
    else:
        error = attempt(lambda: services.session_cancel(session=session, reason=reason))
        errors = {"reason": error} if error else None
    return record_answer(request, session_id, action="workspace.session.cancel", errors=errors)


@clinicians_only
@require_POST
def addendum_add(request: Request, session_id: int) -> HttpResponse:
    session = get_object_or_404(InjectionSession, pk=session_id)
    text = request.POST.get("text", "").strip()
    if not text:
        errors: dict[str, str] | None = {"text": "Write the addendum first."}
    else:
        by = signed_in(request.user)
        error = attempt(lambda: services.addendum_add(session=session, author=by, text=text))
        errors = {"text": error} if error else None
    return record_answer(request, session_id, action="workspace.session.addendum", errors=errors)


@clinicians_only
@require_POST
def session_check(request: Request, patient_id: int) -> HttpResponse:
    """What the screen says before saving, from what is typed so far: sites off the course's
    condition, and batches that expired before the session's day (beside their expiry)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    screen = screen_for(request, patient)
    expired = expired_batches(screen)
    audit.access_record(
        request=request, action="workspace.session.check", status=200, records=[patient]
    )
    context = {
        "warnings": screen.warnings(),
        "expired": expired,
        "rows": range(screen.injectates.total_form_count()),
    }
    return render(request, "workspace/clinician/session_form.html#checks", context)


def expired_batches(screen: Screen) -> dict[int, str]:
    """The injectate rows whose expiry is before the session's day, with the model's own
    message; rows not yet complete are checked all the same."""
    data = screen.form.data
    try:
        performed_at = screen.form.fields["performed_at"].clean(data.get("performed_at"))
    except ValidationError:
        return {}
    stub = InjectionSession(patient=screen.patient, performed_at=performed_at)
    found: dict[int, str] = {}
    for index in range(screen.injectates.total_form_count()):
        raw = data.get(f"injectates-{index}-expiry_date", "")
        try:
            expiry = datetime.date.fromisoformat(raw) if raw else None
        except ValueError:
            continue
        if expiry is None:
            continue
        injectate = Injectate(session=stub, kind=InjectateKind.OTHER, expiry_date=expiry)
        try:
            injectate.clean()
        except ValidationError as error:
            messages = error.message_dict.get("expiry_date")
            if messages:
                found[index] = messages[0]
    return found


@clinicians_only
@require_GET
def gs1_read(request: Request) -> JsonResponse:
    """A scanned GS1 string's lot, expiry and product (by GTIN), for the lot field."""
    text = request.GET.get("code", "")[:200]
    try:
        scan = scan_read(text)
    except NotReadable as error:
        return JsonResponse({"error": f"The barcode could not be read: {error}"}, status=400)
    if scan is None:
        return JsonResponse({"scanned": False})
    product = Product.objects.offered().filter(gtin=scan.gtin).first() if scan.gtin else None
    expiry: datetime.date | None = scan.expiry
    return JsonResponse(
        {
            "scanned": True,
            "lot": scan.lot,
            "expiry": expiry.isoformat() if expiry else "",
            "gtin": scan.gtin,
            "product": str(product.pk) if product else "",
        }
    )
