"""The front desk's forms: each checks the shape of what was sent and names the field; the
rules (clinic hours, overlaps, who may hold a booking) are the services'."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from patients.models import Patient
from recordkeeping.permissions import clinicians
from treatments.models import FollowUpKind, FollowUpStatus
from treatments.models.follow_ups import MAX_RULE_MINUTES
from treatments.models.waitlist import MIN_VISIT_MINUTES

LENGTHS = [(15, "15 minutes"), (20, "20 minutes"), (30, "30 minutes"), (45, "45 minutes")]
LENGTHS += [(60, "1 hour"), (90, "1 hour 30 minutes")]
EARLIEST, LATEST = datetime.date(2000, 1, 1), datetime.date(2999, 12, 31)


class ClinicianField(forms.ModelChoiceField):
    """An active clinician, by name."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=clinicians().order_by("last_name", "first_name", "id"), **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class LocalDateTimeField(forms.DateTimeField):
    """A time on the grid, ``2026-12-10T10:15``, read in the clinic's time zone."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> datetime.datetime | None:
        moment = super().to_python(value)
        if moment is not None and not EARLIEST <= moment.date() <= LATEST:
            raise forms.ValidationError("Choose a time between the years 2000 and 2999.")
        return moment


class IdsField(forms.MultipleChoiceField):
    """Record ids (``?clinician=3&clinician=8``); which of them exist is the view's concern."""

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit() and len(str(value)) < 19

    def clean(self, value: Any) -> list[int]:
        return [int(item) for item in super().clean(value)]


class DayForm(forms.Form):
    """Which day (or week) the grid shows, and whose."""

    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    clinician = IdsField(required=False)
    cancelled = forms.BooleanField(required=False)

    def clean_date(self) -> datetime.date:
        day = self.cleaned_data.get("date") or timezone.localdate()
        if not EARLIEST <= day <= LATEST:
            raise forms.ValidationError("Choose a day between the years 2000 and 2999.")
        return day


class BookForm(forms.Form):
    """A new booking in a free slot of the grid."""

    clinician = ClinicianField()
    starts_at = LocalDateTimeField()
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.active(),
        error_messages={"required": "Choose the patient: search by MRN, name or date of birth."},
    )
    kind = forms.ChoiceField(label="Visit", choices=FollowUpKind.choices)
    minutes = forms.TypedChoiceField(label="Length", coerce=int, choices=LENGTHS, initial=30)
    confirmed = forms.BooleanField(label="The patient confirmed this time", required=False)

    def booking(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "patient": data["patient"],
            "clinician": data["clinician"],
            "kind": data["kind"],
            "starts_at": data["starts_at"],
            "ends_at": data["starts_at"] + datetime.timedelta(minutes=data["minutes"]),
            "status": FollowUpStatus.CONFIRMED if data["confirmed"] else FollowUpStatus.SCHEDULED,
        }


class MoveForm(forms.Form):
    """Where a booking is dragged (or moved with the keys) to."""

    starts_at = LocalDateTimeField()
    clinician = ClinicianField()


class StatusForm(forms.Form):
    """Confirm, check in, mark a no-show, book a proposal, or cancel (with a reason)."""

    to = forms.ChoiceField(
        choices=[
            (FollowUpStatus.SCHEDULED, "Book"),
            (FollowUpStatus.CONFIRMED, "Confirm"),
            (FollowUpStatus.CHECKED_IN, "Check in"),
            (FollowUpStatus.NO_SHOW, "No-show"),
            (FollowUpStatus.CANCELLED, "Cancel"),
        ]
    )
    reason = forms.CharField(label="Reason for cancelling", required=False, max_length=500)


class WaitlistForm(forms.Form):
    """A patient waiting for an earlier visit."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.active(),
        error_messages={"required": "Choose the patient: search by MRN, name or date of birth."},
    )
    clinician = ClinicianField(required=False, empty_label="Any clinician")
    kind = forms.ChoiceField(label="Visit", choices=FollowUpKind.choices)
    minutes = forms.TypedChoiceField(label="Length", coerce=int, choices=LENGTHS, initial=30)
    earliest = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    latest = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(label="Notes for the desk", required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in ("earliest", "latest"):
            day = data.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(name, "Choose a day between the years 2000 and 2999.")
        minutes = data.get("minutes")
        if minutes is not None and not MIN_VISIT_MINUTES <= minutes <= MAX_RULE_MINUTES:
            self.add_error("minutes", "Choose one of the lengths offered.")
        return data


class WaitlistBookForm(forms.Form):
    """The freed slot a waiting patient is booked into."""

    clinician = ClinicianField()
    starts_at = LocalDateTimeField()


class RegisterForm(forms.ModelForm):
    """A new patient: the demographics, contact and reminder consent the front desk keeps."""

    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = [
            "given_name",
            "family_name",
            "birth_date",
            "sex",
            "phone",
            "email",
            "reminder_channel",
            "reminder_consent",
            "reminder_consent_on",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "reminder_consent_on": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in ("birth_date", "reminder_consent_on"):
            day = data.get(name)
            if day is not None and not datetime.date(1800, 1, 1) <= day <= LATEST:
                self.add_error(name, "Enter a real date.")
        return data

    def fields_to_save(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
