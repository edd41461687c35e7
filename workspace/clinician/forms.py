"""The forms of the session screen: the session, its injectates, sites and side effects, each
row checked by its model's own rules (full_clean), as the API checks a session.

Rows are numbered (``line``) as they are added on the screen; a site names its injectate and a
side effect its site by that number, so all of them are entered before any is saved.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.renderers import Jinja2
from django.utils import timezone

from patients.models import Condition, ConditionStatus, Patient
from recordkeeping.permissions import clinicians
from stock.models import Product
from treatments.models import (
    Guidance,
    Injectate,
    InjectateKind,
    InjectionSession,
    InjectionSite,
    Reporter,
    SessionStatus,
    SideEffect,
    TreatmentCourse,
    TreatmentKind,
)
from treatments.models.sessions import DEXTROSE_FIELDS, EXOSOME_FIELDS, PRP_FIELDS
from workspace.clinician.chart import condition_label, course_label

NEW_COURSE = "new"
OTHER_STRUCTURE = "__other__"
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    InjectateKind.PRP: PRP_FIELDS,
    InjectateKind.DEXTROSE: DEXTROSE_FIELDS,
    InjectateKind.EXOSOME: EXOSOME_FIELDS,
}


# The session screen draws some 70 widgets, one a network's list of clinicians: Django's own
# widget templates rendered by Jinja2 (the same markup, compiled) take less than half the time the
# template language does (49 ms to 22 ms a screen at bench scale).
RENDERER = Jinja2()


class ClinicianField(forms.ChoiceField):
    """Active clinicians by full name, as colleagues know them; it gives the chosen User. A
    network lists hundreds on every screen, so names are read as values, not as users."""

    def load(self) -> None:
        rows = (
            clinicians()
            .order_by("last_name", "first_name", "pk")
            .values_list("pk", "first_name", "last_name", "username")
        )
        self.choices = [("", "---------")] + [
            (str(pk), f"{first} {last}".strip() or username) for pk, first, last, username in rows
        ]

    def clean(self, value: Any) -> User | None:
        chosen = super().clean(value)
        if not chosen:
            return None
        found = clinicians().filter(pk=chosen).first()
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return cast(User, found)


class SessionForm(forms.Form):
    default_renderer = RENDERER
    course = forms.ChoiceField(required=False)
    new_condition = forms.ModelChoiceField(
        queryset=Condition.objects.none(), required=False, label="Condition"
    )
    new_treatment = forms.ChoiceField(
        choices=TreatmentKind.choices, required=False, label="Planned treatment"
    )
    new_sessions = forms.IntegerField(
        min_value=1, max_value=12, required=False, initial=3, label="Sessions planned"
    )
    new_interval = forms.IntegerField(
        min_value=1, max_value=26, required=False, initial=4, label="Weeks apart"
    )
    clinician = ClinicianField()
    performed_at = forms.DateTimeField(
        label="Date and time",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    status = forms.ChoiceField(
        choices=[
            (SessionStatus.COMPLETED, "Completed (given today)"),
            (SessionStatus.PLANNED, "Planned"),
        ],
        initial=SessionStatus.COMPLETED,
    )
    guidance = forms.ChoiceField(
        choices=Guidance.choices, initial=Guidance.LANDMARK, label="Image guidance"
    )
    consent_obtained = forms.BooleanField(required=False, label="Consent obtained")
    pre_pain_score = forms.IntegerField(
        min_value=0, max_value=10, required=False, label="Pain before (NPRS 0-10)"
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        patient: Patient,
        courses: list[TreatmentCourse],
        session: InjectionSession | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient, self.session = patient, session
        self.courses = {str(course.pk): course for course in courses}
        choices: list[tuple[str, str]] = [("", "No course (a single session)")]
        choices += [(pk, course_label(course)) for pk, course in self.courses.items()]
        choices.append((NEW_COURSE, "New course…"))
        course_field = cast(forms.ChoiceField, self.fields["course"])
        course_field.choices = choices
        condition_field = cast(forms.ModelChoiceField, self.fields["new_condition"])
        condition_field.queryset = Condition.objects.filter(
            patient=patient, status=ConditionStatus.ACTIVE
        )
        condition_field.label_from_instance = condition_label  # type: ignore[method-assign,assignment]
        cast(ClinicianField, self.fields["clinician"]).load()

    def clean_course(self) -> TreatmentCourse | str | None:
        value = self.cleaned_data.get("course") or ""
        if value == NEW_COURSE:
            return NEW_COURSE
        return self.courses.get(value) if value else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("course") == NEW_COURSE:
            for name in ("new_condition", "new_treatment", "new_sessions", "new_interval"):
                if data.get(name) in (None, ""):
                    self.add_error(name, "Needed for the new course.")
        if self.errors:
            return data
        # The session's own rules (consent before completing, not in the future, ...), checked
        # on a copy as the API checks them, so every error shows at once beside its field.
        session = InjectionSession(pk=self.session.pk if self.session else None)
        course = data.get("course")
        for name, value in self.session_fields().items():
            setattr(session, name, value)
        if isinstance(course, TreatmentCourse):
            session.course = course
        try:
            session.full_clean(
                exclude=["signed_by", "signed_at"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data

    @property
    def condition(self) -> Condition | None:
        """The condition the session treats, for the wrong-side warning."""
        course = self.cleaned_data.get("course") if hasattr(self, "cleaned_data") else None
        if isinstance(course, TreatmentCourse):
            return course.condition
        if course == NEW_COURSE:
            return cast(Condition | None, self.cleaned_data.get("new_condition"))
        return None

    def session_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "patient": self.patient,
            "clinician": data["clinician"],
            "performed_at": data["performed_at"],
            "status": data["status"],
            "guidance": data["guidance"],
            "consent_obtained": data["consent_obtained"],
            "pre_pain_score": data.get("pre_pain_score"),
            "notes": data.get("notes", "").strip(),
        }

    def stub(self) -> InjectionSession:
        """An unsaved session with the date typed, against which rows check dates (expiry,
        onset)."""
        data = getattr(self, "cleaned_data", {})
        performed_at = data.get("performed_at") if isinstance(data, dict) else None
        return InjectionSession(patient=self.patient, performed_at=performed_at)  # type: ignore[misc]


def initial_performed_at() -> str:
    return timezone.localtime().strftime(DATETIME_LOCAL)


class RowForm(forms.Form):
    """A numbered row whose model checks it (``full_clean``) once its fields are valid."""

    default_renderer = RENDERER
    model: type[models.Model]
    excluded: tuple[str, ...] = ("session",)
    line = forms.IntegerField(min_value=1, max_value=50, widget=forms.HiddenInput)

    def __init__(self, *args: Any, session: InjectionSession | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.session = session if session is not None else InjectionSession()

    def values(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in {f.name for f in self.model._meta.fields} or name == "line"
        }

    def build(self) -> models.Model:
        return self.model(session=self.session, **self.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # As a ModelForm does: fields already refused are left out of the model's checks, the
        # others checked all the same (an expired batch is said even while a volume is missing).
        refused = [
            name for name in self.errors if name in {f.name for f in self.model._meta.fields}
        ]
        if "line" in self.errors:
            return data
        try:
            self.build().full_clean(
                exclude=[*self.excluded, *refused],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in refused:
                    self.add_error(field if field in self.fields else None, messages)
        return data


INJECTATE_FIELDS = [
    "kind",
    "volume_ml",
    "product_name",
    "manufacturer",
    "lot_number",
    "expiry_date",
    "whole_blood_ml",
    "prp_system",
    "spins",
    "anticoagulant",
    "leukocytes",
    "red_cells",
    "activation",
    "platelet_count",
    "baseline_platelet_count",
    "dextrose_pct",
    "anaesthetic",
    "anaesthetic_pct",
    "diluent",
    "exosome_source",
    "particles_per_ml",
]


class InjectateForm(RowForm):
    model = Injectate
    # Only a help to fill the row in (the injectate keeps the values, not the preset), offered
    # from the presets the screen read once.
    product = forms.ChoiceField(required=False, label="Product preset")

    def __init__(self, *args: Any, products: list[Product] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product_field = cast(forms.ChoiceField, self.fields["product"])
        product_field.choices = [("", "—")] + [(str(p.pk), str(p)) for p in products or []]

    def clean(self) -> dict[str, Any]:
        # Values of another kind's fields are hidden on the screen once the kind changes; they
        # are not part of what is recorded.
        kind = self.cleaned_data.get("kind")
        for other, names in KIND_FIELDS.items():
            if kind != other:
                for name in names:
                    if name in self.cleaned_data:
                        self.cleaned_data[name] = "" if name in TEXT_FIELDS else None
        return super().clean()


TEXT_FIELDS = frozenset(
    name
    for name in INJECTATE_FIELDS
    if isinstance(Injectate._meta.get_field(name), models.CharField)
)


class SiteForm(RowForm):
    model = InjectionSite
    excluded = ("session", "injectate")
    injectate_line = forms.IntegerField(min_value=1, max_value=20, label="Injectate")
    structure_other = forms.CharField(required=False, max_length=200, label="Other structure")

    def clean(self) -> dict[str, Any]:
        if self.cleaned_data.get("structure") in ("", OTHER_STRUCTURE):
            self.cleaned_data["structure"] = self.cleaned_data.get("structure_other", "").strip()
        return super().clean()

    def values(self) -> dict[str, Any]:
        return super().values() | {"injectate_line": self.cleaned_data["injectate_line"]}

    def build(self) -> models.Model:
        fields = {k: v for k, v in self.values().items() if k != "injectate_line"}
        return InjectionSite(session=self.session, **fields)


SITE_FIELDS = [
    "body_region",
    "laterality",
    "structure",
    "snomed_code",
    "tissue",
    "volume_ml",
    "needle_gauge",
    "approach",
]


class SideEffectForm(RowForm):
    model = SideEffect
    excluded = ("session", "site")
    line = forms.IntegerField(min_value=1, max_value=50, widget=forms.HiddenInput)
    site_line = forms.IntegerField(min_value=1, max_value=50, required=False, label="Site")

    def values(self) -> dict[str, Any]:
        values = super().values()
        values.pop("line", None)
        return values


SIDE_EFFECT_FIELDS = [
    "kind",
    "grade",
    "serious",
    "onset_date",
    "resolved_date",
    "relatedness",
    "outcome",
    "reported_by",
    "description",
    "action_taken",
]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
for form_class, model, names, widgets in (
    (InjectateForm, Injectate, INJECTATE_FIELDS, {"expiry_date": DATE}),
    (SiteForm, InjectionSite, SITE_FIELDS, {}),
    (
        SideEffectForm,
        SideEffect,
        SIDE_EFFECT_FIELDS,
        {
            "onset_date": DATE,
            "resolved_date": DATE,
            "description": forms.TextInput(),
            "action_taken": forms.TextInput(),
        },
    ),
):
    form_class.base_fields.update(
        forms.fields_for_model(
            model, fields=names, widgets={name: widget for name, widget in widgets.items()}
        )
    )
SideEffectForm.base_fields["reported_by"].initial = Reporter.PATIENT
SideEffectForm.base_fields["onset_date"].initial = timezone.localdate
SideEffectForm.base_fields["grade"].initial = 1


class RowsFormSet(forms.BaseFormSet):
    """Rows added and removed on the screen: each is new to the form (none is "initial"), so a
    row removed there leaves nothing behind here; rows filled from a stored or repeated
    session are only starting values."""

    def initial_form_count(self) -> int:
        return 0

    def total_form_count(self) -> int:
        if self.is_bound:
            return super().total_form_count()
        return len(self.initial or [])

    def filled(self) -> list[Any]:
        """The rows sent with something in them."""
        return [row for row in self.forms if getattr(row, "cleaned_data", None)]


def rows_formset(form: type[forms.Form], most: int) -> Any:
    return forms.formset_factory(
        form, formset=RowsFormSet, extra=0, max_num=most, absolute_max=most, renderer=RENDERER
    )


InjectateFormSet = rows_formset(InjectateForm, 20)
SiteFormSet = rows_formset(SiteForm, 50)
SideEffectFormSet = rows_formset(SideEffectForm, 20)


def injectate_initial(injectate: Injectate, *, repeat: bool = False) -> dict[str, Any]:
    """A stored injectate as a row of the form; a repeat leaves out the batch (lot and expiry)
    and what was measured on the day (platelet counts): they are typed anew."""
    values = {name: getattr(injectate, name) for name in INJECTATE_FIELDS}
    values["line"] = injectate.line
    if repeat:
        for name in ("lot_number", "expiry_date", "platelet_count", "baseline_platelet_count"):
            values[name] = None if name != "lot_number" else ""
    return values


def site_initial(site: InjectionSite, injectate_line: int) -> dict[str, Any]:
    values = {name: getattr(site, name) for name in SITE_FIELDS}
    values["line"] = site.line
    values["injectate_line"] = injectate_line
    return values


def renumbered(
    injectates: list[dict[str, Any]], sites: list[dict[str, Any]], effects: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows numbered 1, 2, ... in the order shown, references following: rows removed on the
    screen leave no gaps in the record."""
    injectate_lines = {row["line"]: n for n, row in enumerate(injectates, start=1)}
    site_lines = {row["line"]: n for n, row in enumerate(sites, start=1)}
    injectates = [row | {"line": injectate_lines[row["line"]]} for row in injectates]
    sites = [
        row
        | {
            "line": site_lines[row["line"]],
            "injectate_line": injectate_lines.get(row["injectate_line"], row["injectate_line"]),
        }
        for row in sites
    ]
    effects = [
        row | {"site_line": site_lines.get(row["site_line"])} if row.get("site_line") else row
        for row in effects
    ]
    return injectates, sites, effects


def default_onset(session_day: datetime.date | None) -> datetime.date:
    return session_day or timezone.localdate()
