"""Every admin page each role can reach answers without a server error.

For each role the crawl starts at /admin/ and follows the links the role is shown (app indexes,
change lists, add and change views, history, the agenda and the reports page), visits each
change list with each choice of each filter, its search, each ordering and the date hierarchy,
runs every action on each row and on all rows, and submits every form back unchanged and with
one field changed. With records in every state, no answer may be a 5xx; where a role may not
go, the admin refuses it (403, or 400 for a lookup on a field the role cannot read).

The counts of each role's crawl are printed (``pytest -s``) and written to ``crawl.json``
under the test's temporary directory.
"""

from __future__ import annotations

import datetime
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from patients.models import ConditionStatus, Instrument, TimePoint
from recordkeeping.roles import CLINIC_ADMIN
from tests.factories import (
    AddendumFactory,
    ConditionFactory,
    CourseFactory,
    DeliveryFactory,
    FollowUpFactory,
    InjectateFactory,
    OutcomeScoreFactory,
    PatientFactory,
    ReminderFactory,
    SessionFactory,
    SideEffectFactory,
    SiteFactory,
    UserFactory,
    clinic_slot,
)
from treatments import services
from treatments.models import (
    CourseStatus,
    DeliveryOutcome,
    FollowUpKind,
    FollowUpStatus,
    ReminderStatus,
    SessionStatus,
)

pytestmark = pytest.mark.django_db

ROLES = ["clinician", "front_desk", "clinic_admin", "staff_in_no_group", "superuser"]
# Never followed or posted: the crawl would end its own login, or delete.
SKIPPED_PATHS = ("/admin/logout/",)
EDITED = "Edited text"
DATE_PARTS = ("__year", "__month", "__day")
# Actions run on each row alone in short lists (one row per state); always on all rows at once.
ROWS_ONE_BY_ONE = 10
# Records opened from each list (the lists of installed rows, such as MCIDs, are longer).
RECORDS_PER_LIST = 8
SEARCH_TERM = "Okafor"
# Text boxes that hold a date, a time or a record's id, not free text.
CODED_TEXT = {
    "vDateField",
    "vTimeField",
    "vForeignKeyRawIdAdminField",
    "vManyToManyRawIdAdminField",
}
# A page, a redirect, or a refusal: 403, or 400 for a lookup on a field the role cannot read.
ANSWERS = (200, 301, 302, 400, 403)
CLINICAL_PAGES = ("/admin/patients/", "/admin/treatments/", "/admin/reports/")
# Apps whose first record's change and history pages every role is sent to.
PROBED_RECORDS = ("patients", "treatments", "auth")


# --- the records: one in every state ---------------------------------------------------------


def open_day_before(days: int, hour: int) -> datetime.datetime:
    """``hour`` o'clock on the open day ``days`` before today (or the open day before that)."""
    day = timezone.localdate() - datetime.timedelta(days=days)
    while day.isoweekday() not in settings.CLINIC_DAYS:
        day -= datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def staff_in_no_group(db):
    return UserFactory(username="temp.staff")


@pytest.fixture
def records(clinician, front_desk, clinic_admin, staff_in_no_group, superuser) -> dict[str, Any]:
    """Sessions planned, completed, signed and cancelled; follow-ups in every status; side
    effects, scores, courses, conditions and reminders in each of theirs."""
    patient = PatientFactory(
        family_name="Okafor", reminder_consent=True, reminder_consent_on=datetime.date(2025, 1, 6)
    )
    PatientFactory(family_name="Archived", archived_at=timezone.now())
    course = CourseFactory(patient=patient)
    CourseFactory(
        patient=patient,
        condition=ConditionFactory(patient=patient, status=ConditionStatus.RESOLVED),
        status=CourseStatus.COMPLETED,
        ended_on=timezone.localdate() - datetime.timedelta(days=10),
    )
    CourseFactory(
        patient=patient,
        condition=course.condition,
        status=CourseStatus.STOPPED,
        stop_reason="Moved away.",
        planned_treatment="dextrose",
    )
    in_course = {"patient": patient, "course": course, "clinician": clinician}

    SessionFactory(
        **in_course,
        status=SessionStatus.PLANNED,
        performed_at=clinic_slot(8, 9),
        consent_obtained=False,
        pre_pain_score=None,
    )
    SessionFactory(
        **in_course,
        status=SessionStatus.CANCELLED,
        performed_at=clinic_slot(9, 9),
        cancel_reason="Unwell.",
        consent_obtained=False,
        pre_pain_score=None,
    )
    completed = SessionFactory(**in_course, performed_at=timezone.now() - datetime.timedelta(3))
    site = SiteFactory(session=completed, line=1, injectate__line=1, injectate__prp=True)
    SideEffectFactory(session=completed, site=site)
    SideEffectFactory(session=completed, grade=3, serious=True, kind="infection")

    signed = SessionFactory(**in_course, performed_at=timezone.now() - datetime.timedelta(10))
    dextrose = InjectateFactory(session=signed, line=1)
    exosome = InjectateFactory(session=signed, line=2, exosome=True)
    SiteFactory(session=signed, injectate=dextrose, line=1)
    signed_site = SiteFactory(session=signed, injectate=exosome, line=2, structure="Knee joint")
    SideEffectFactory(session=signed, site=signed_site, grade=2)
    services.session_sign(session=signed, clinician=clinician)
    AddendumFactory(session=signed)
    SideEffectFactory(session=signed, kind="bruising")  # found after signing: still editable

    OutcomeScoreFactory(patient=patient, course=course)
    OutcomeScoreFactory(
        patient=patient,
        course=course,
        instrument=Instrument.WOMAC,
        score=Decimal("40"),
        time_point=TimePoint.WEEK_6,
        measured_on=timezone.localdate() - datetime.timedelta(days=5),
    )

    booking = {"patient": patient, "clinician": clinician, "course": course}
    today_at = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(), datetime.time(8, 0))
    )
    follow_ups = {
        FollowUpStatus.PROPOSED: FollowUpFactory(
            **booking, status=FollowUpStatus.PROPOSED, starts_at=clinic_slot(3, 9)
        ),
        FollowUpStatus.SCHEDULED: FollowUpFactory(**booking, session=completed),
        FollowUpStatus.CONFIRMED: FollowUpFactory(**booking, status=FollowUpStatus.CONFIRMED),
        FollowUpStatus.CHECKED_IN: FollowUpFactory(
            **booking,
            status=FollowUpStatus.CHECKED_IN,
            starts_at=today_at,
            ends_at=today_at + datetime.timedelta(minutes=20),
            kind=FollowUpKind.REVIEW,
        ),
        FollowUpStatus.COMPLETED: FollowUpFactory(
            **booking, status=FollowUpStatus.COMPLETED, starts_at=open_day_before(7, 9)
        ),
        FollowUpStatus.NO_SHOW: FollowUpFactory(
            **booking, status=FollowUpStatus.NO_SHOW, starts_at=open_day_before(6, 10)
        ),
        FollowUpStatus.CANCELLED: FollowUpFactory(
            **booking, status=FollowUpStatus.CANCELLED, kind=FollowUpKind.PHONE_CALL
        ),
    }
    scheduled = follow_ups[FollowUpStatus.SCHEDULED]
    ReminderFactory(follow_up=scheduled, hours_before=48)
    for hours, status, outcome in (
        (24, ReminderStatus.SENT, DeliveryOutcome.SENT),
        (12, ReminderStatus.FAILED, DeliveryOutcome.FAILED),
        (6, ReminderStatus.SKIPPED, DeliveryOutcome.SKIPPED),
    ):
        reminder = ReminderFactory(
            follow_up=scheduled, hours_before=hours, status=status, attempts=1
        )
        reason = "" if outcome == DeliveryOutcome.SENT else "No answer from the provider."
        DeliveryFactory(reminder=reminder, outcome=outcome, reason=reason)
    ReminderFactory(follow_up=follow_ups[FollowUpStatus.CANCELLED], status=ReminderStatus.CANCELLED)
    return {
        "users": {
            "clinician": clinician,
            "front_desk": front_desk,
            "clinic_admin": clinic_admin,
            "staff_in_no_group": staff_in_no_group,
            "superuser": superuser,
        },
        "follow_ups": follow_ups,
    }


# --- reading pages as a browser does ---------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    form_id: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what a browser would send
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    checkboxes: list[tuple[str, str]] = field(default_factory=list)  # every one, ticked or not
    textareas: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)  # name: every option's value


class Page(HTMLParser):
    """The links and forms of a page (stdlib parser: no extra package for the test suite)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.date_links: list[str] = []
        self.autocompletes: list[dict[str, str]] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._in_toplinks = False
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._options: list[tuple[str, bool]] = []
        self._option_text: list[str] | None = None
        self._option_value: str | None = None
        self._option_selected = False
        self._textarea: str | None = None
        self._textarea_text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and a.get("href"):
            (self.date_links if self._in_toplinks else self.links).append(a["href"])
        elif tag == "nav" and "toplinks" in a.get("class", "").split():
            self._in_toplinks = True
        elif tag == "form":
            self._form = Form(
                method=a.get("method", "get").lower(),
                action=a.get("action", ""),
                form_id=a.get("id", ""),
            )
            self.forms.append(self._form)
        elif tag == "select" and a.get("data-ajax--url"):
            self.autocompletes.append(
                {
                    "url": a["data-ajax--url"],
                    "app_label": a.get("data-app-label", ""),
                    "model_name": a.get("data-model-name", ""),
                    "field_name": a.get("data-field-name", ""),
                }
            )
        if self._form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button"):
                if kind == "submit":
                    self._form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                self._form.checkboxes.append((name, a.get("value", "on")))
                if "checked" in a:
                    self._form.fields.append((name, a.get("value", "on")))
            elif kind != "file":
                self._form.fields.append((name, a.get("value", "")))
                # Free text a person would edit (not a date, a time or a record's raw id).
                if kind == "text" and not CODED_TEXT.intersection(a.get("class", "").split()):
                    self._form.texts.append(name)
        elif tag == "button" and name and a.get("type", "submit").lower() == "submit":
            self._form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in a), []
        elif tag == "option" and self._select:
            self._option_value = a.get("value")
            self._option_selected = "selected" in a
            self._option_text = []
        elif tag == "textarea" and name:
            self._textarea, self._textarea_text = name, []

    def handle_data(self, data: str) -> None:
        if self._option_text is not None:
            self._option_text.append(data)
        if self._textarea is not None:
            self._textarea_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_toplinks = False
        elif tag == "form":
            self._form = None
        elif tag == "option" and self._option_text is not None:
            value = self._option_value
            if value is None:
                value = "".join(self._option_text).strip()
            self._options.append((value, self._option_selected))
            self._option_text = None
        elif tag == "select" and self._select and self._form is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]  # a browser sends the first option
            self._form.fields.extend((name, value) for value in chosen)
            self._form.selects[name] = [value for value, _ in self._options]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._textarea_text)
            # A browser drops the newline that opens a textarea's content.
            self._form.fields.append((self._textarea, text.removeprefix("\n")))
            self._form.textareas.append(self._textarea)
            self._textarea = None


# --- the crawl ---------------------------------------------------------------------------------


def url_name(path: str) -> str:
    try:
        return resolve(path).url_name or ""
    except Resolver404:
        return ""


def is_change_list(path: str) -> bool:
    return url_name(path).endswith("_changelist")


def normal(url: str) -> str:
    """The path and its query in a stable order, without the fragment."""
    parts = urlsplit(url)
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return parts.path + (f"?{query}" if query else "")


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def as_post(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


@dataclass
class Crawl:
    """One role's walk through the admin: what it visited, submitted and ran, and what went
    wrong (a crash: an exception or a 5xx; an odd answer: anything but a page, a redirect or a
    refusal)."""

    client: Client
    queue: list[tuple[str, str]] = field(default_factory=list)  # (url, where it was linked)
    seen: set[str] = field(default_factory=set)
    shapes: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    answers: Counter[int] = field(default_factory=Counter)
    pages: set[str] = field(default_factory=set)  # the addresses that answered with a page
    crashes: list[str] = field(default_factory=list)
    odd_answers: list[str] = field(default_factory=list)
    refused_links: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, data: Any = None, keep: bool = True) -> Any:
        """One request in its own savepoint (kept, or rolled back so that the next request
        finds the records as they were)."""
        try:
            with transaction.atomic():
                if method == "get":
                    response = self.client.get(url)
                else:
                    response = self.client.post(url, data or {})
                if not keep:
                    transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 - every crash is reported, not only the first
            self.crashes.append(f"{method.upper()} {url}: {type(error).__name__}: {error}")
            return None
        status = response.status_code
        self.answers[status] += 1
        if status >= 500:
            self.crashes.append(f"{method.upper()} {url}: {status}")
        elif status not in ANSWERS:
            self.odd_answers.append(f"{method.upper()} {url}: {status}")
        return response

    def enqueue(self, url: str, source: str, *, seed: bool = False) -> None:
        url = normal(url)
        path, _, query = url.partition("?")
        if not path.startswith("/admin/") or path.startswith(SKIPPED_PATHS) or url in self.seen:
            return
        if query and not is_change_list(path) and not seed:
            # Prefilled forms and pop-ups: one of each kind, not one per free slot.
            shape = (path, tuple(sorted(query_of(url))))
            if shape in self.shapes:
                return
            self.shapes.add(shape)
        self.seen.add(url)
        self.queue.append((url, source))

    def run(self, seeds: list[str]) -> None:
        for url in seeds:
            self.enqueue(url, "", seed=True)
        while self.queue:
            self.visit(*self.queue.pop(0))

    def visit(self, url: str, source: str) -> None:
        self.counts["urls visited"] += 1
        response = self.request("get", url)
        if response is None:
            return
        if response.status_code in (301, 302):
            self.enqueue(urljoin(url, response["Location"]), url)
            return
        if response.status_code != 200:
            if source:
                self.refused_links.append(f"{url} ({response.status_code}, linked from {source})")
            return
        self.pages.add(url)
        path, _, query = url.partition("?")
        dated = all(key.endswith(DATE_PARTS) for key in query_of(url))
        if "html" not in response["Content-Type"] or (query and is_change_list(path) and not dated):
            return  # a filtered or ordered list links where the whole list does
        page = Page(response.content.decode())
        records = 0
        for link in page.links:
            target = urljoin(url, link)
            # One step into query space (filter choices, prefilled forms), never combinations;
            # the orderings are added below, one per column.
            if (query and "?" in link) or "o" in query_of(target):
                continue
            if is_change_list(path) and url_name(urlsplit(target).path).endswith("_change"):
                records += 1
                if records > RECORDS_PER_LIST:
                    continue
            self.enqueue(target, url)
        if dated:
            for link in page.date_links:  # the date hierarchy narrows year, month, day
                if "o" not in query_of(link):
                    self.enqueue(urljoin(url, link), url)
        for box in page.autocompletes:
            lookup = urljoin(url, box.pop("url")) + "?" + urlencode(box)
            self.enqueue(lookup, url)
            self.enqueue(lookup + "&" + urlencode({"term": SEARCH_TERM}), url)
        if is_change_list(path) and not query:
            for link in page.links:  # each sortable column's header links ``?o=N``
                column = query_of(link).get("o", "").split(".")[0].lstrip("-")
                if column.isdigit():
                    self.enqueue(f"{path}?o={column}", url)
        for form in page.forms:
            self.submit(url, form)

    def submit(self, url: str, form: Form) -> None:
        target = urljoin(url, form.action) if form.action else url
        path, query = urlsplit(target).path, urlsplit(url).query
        if path.startswith(SKIPPED_PATHS) or path.endswith("/delete/"):
            return  # the crawl keeps its login, and nothing is deleted
        if form.method == "get":  # the search, the agenda's day, the reports' filters
            if not query:
                fields = {name: value for name, value in form.fields if value}
                if form.form_id == "changelist-search":
                    fields["q"] = SEARCH_TERM
                self.enqueue(path + "?" + urlencode(fields), url)
        elif form.form_id == "changelist-form":
            if not query:
                self.run_actions(target, form)
        else:
            # The admin's forms are saved with their first button; the agenda's rows have one
            # button per move, each tried from the same state.
            saves = [button for button in form.buttons if button[0].startswith("_")]
            for button in saves[:1] or form.buttons or [None]:
                fields = [*form.fields, *([button] if button else [])]
                self.post_form(target, fields)
                changed = change_one(form, fields) if button else None  # no button: read-only
                if changed is not None:
                    self.post_form(target, changed)

    def post_form(self, url: str, fields: list[tuple[str, str]]) -> None:
        self.counts["forms submitted"] += 1
        self.request("post", url, as_post(fields), keep=False)

    def run_actions(self, url: str, form: Form) -> None:
        """Every action on each row alone (one per state) and on all rows at once, each from
        the records as they were."""
        actions = [value for value in form.selects.get("action", []) if value]
        rows = [value for name, value in form.checkboxes if name == "_selected_action"]
        kept = [(name, value) for name, value in form.fields if name != "action"]
        button = next((b for b in form.buttons if b[0] == "index"), ("index", "0"))
        model = resolve(urlsplit(url).path).func.model_admin.model
        # An action applies its service to each selected row in a transaction of its own (one
        # refused row does not undo the others), reading each row afresh: a query per row.
        per_row = [{"model": f"{model._meta.app_label}.{model.__name__}", "field": "get()"}]
        selections = [[row] for row in rows] if len(rows) <= ROWS_ONE_BY_ONE else []
        selections += [rows] if len(rows) > 1 else []
        for action in actions:
            for selection in selections:
                data = as_post([*kept, ("action", action), button])
                data["_selected_action"] = selection
                self.counts["actions run"] += 1
                with override_settings(ZEAL_ALLOWLIST=per_row):
                    self.request("post", url, data, keep=False)


def change_one(form: Form, fields: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The same fields with one changed: a text area, else a text box, else a choice."""
    texts = [name for name in [*form.textareas, *form.texts] if "__prefix__" not in name]
    if texts:
        return [(n, f"{v} {EDITED}".strip() if n == texts[0] else v) for n, v in fields]
    for name, options in form.selects.items():
        current = dict(fields).get(name)
        other = next((option for option in options if option != current), None)
        if "__prefix__" not in name and other is not None:
            return [(n, other if n == name else v) for n, v in fields]
    return None


def seeds(records: dict[str, Any]) -> list[str]:
    """The index; the agenda of each day with a follow-up (the crawl does not page through
    days); and the list, add, change and history pages of every model, so that a role is
    refused (not failed) where it has no link."""
    agenda = reverse("admin:treatments_followup_agenda")
    days = sorted({timezone.localdate(f.starts_at) for f in records["follow_ups"].values()})
    urls = ["/admin/", reverse("reports"), agenda]
    urls += [f"{agenda}?date={day.isoformat()}" for day in days]
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
        if model._meta.app_label in PROBED_RECORDS:
            first = model._default_manager.order_by("pk").first()
            pages = ("change", "history") if first is not None else ()
            urls += [reverse(f"{name}_{page}", args=[first.pk]) for page in pages]
    return urls


def viewable_lists(user: Any) -> set[str]:
    """The change lists the admin lets ``user`` see."""
    request = RequestFactory().get("/admin/")
    request.user = user
    return {
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model, model_admin in admin.site._registry.items()
        if model_admin.has_view_permission(request)
    }


@pytest.mark.parametrize("role", ROLES)
def test_no_admin_page_fails_any_role(role, records, tmp_path):
    started, cpu = time.monotonic(), time.process_time()
    user = records["users"][role]
    client = Client()
    client.force_login(user)
    crawl = Crawl(client=client)
    crawl.run(seeds(records))
    counts = dict(crawl.counts) | {
        "seconds": round(time.monotonic() - started, 1),
        "cpu seconds": round(time.process_time() - cpu, 1),
    }
    counts["answers"] = {str(status): n for status, n in sorted(crawl.answers.items())}
    counts["refused links"] = len(crawl.refused_links)  # listed in crawl.json
    report = {
        "role": role,
        **counts,
        "refused links": crawl.refused_links,
        "urls": sorted(crawl.seen),
    }
    (tmp_path / "crawl.json").write_text(json.dumps(report, indent=2))
    print(f"\nadmin crawl as {role}: {json.dumps(counts)}")
    assert not crawl.crashes, "\n".join(crawl.crashes)
    assert not crawl.odd_answers, "\n".join(crawl.odd_answers)
    lists = viewable_lists(user)
    assert lists <= crawl.pages  # the crawl opened every list the role may see
    if not lists:  # a staff user in no group: the index, and no record of the clinic
        assert not {page for page in crawl.pages if page.startswith(CLINICAL_PAGES)}


# --- what the crawl found, one by one ------------------------------------------------------------


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form(page: Page) -> Form:
    return next(form for form in page.forms if form.method == "post" and form.buttons)


def test_a_patient_with_several_courses_is_saved_from_their_page(clinician):
    course = CourseFactory()
    CourseFactory(patient=course.patient, condition=course.condition)
    client = logged_in(clinician)
    url = reverse("admin:patients_patient_change", args=[course.patient_id])
    form = change_form(Page(client.get(url).content.decode()))
    data = as_post([*form.fields, ("_save", "Save")])
    data["phone"] = ["+447700900999"]
    response = client.post(url, data)
    assert response.status_code == 302
    course.patient.refresh_from_db()
    assert course.patient.phone == "+447700900999"


def test_a_clinic_admin_reads_a_patient_with_several_courses(clinic_admin):
    course = CourseFactory()
    CourseFactory(patient=course.patient, condition=course.condition)
    url = reverse("admin:patients_patient_change", args=[course.patient_id])
    page = logged_in(clinic_admin).get(url).content.decode()
    assert page.count(str(course.condition)) >= 2  # each course names its condition


def test_a_clinic_admin_reads_a_staff_groups_permissions(clinic_admin):
    group = Group.objects.get(name=CLINIC_ADMIN)
    url = reverse("admin:auth_group_change", args=[group.pk])
    response = logged_in(clinic_admin).get(url)
    assert response.status_code == 200
    assert "Patients | patient | Can view patient" in response.content.decode()


def test_the_list_of_all_changes_offers_no_counts_it_cannot_make(superuser):
    client = logged_in(superuser)
    events = reverse("admin:pghistory_events_changelist")
    assert "Show counts" not in client.get(events).content.decode()
    assert client.get(events + "?_facets=True").status_code == 200
