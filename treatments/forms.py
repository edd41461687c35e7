"""Admin formsets for logging a whole session in one save.

A session's injectates and sites are numbered (``line``); a site names its injectate, and a side
effect its site, by that number, so all of them can be entered before any is saved.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.functional import cached_property

from recordkeeping.admin import LoadedRowsFormSet
from treatments.models import Injectate, InjectionSite, SideEffect


class RegisteredFormSet(LoadedRowsFormSet):
    """An inline formset that can find the other formsets of the same page by prefix."""

    def __init__(self, *args: Any, registry: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry if registry is not None else {}
        self.registry[cast(str, self.prefix)] = self  # set by the formset's __init__

    def kept_forms(self) -> list[forms.ModelForm]:
        """The forms whose rows will exist after this save."""
        self.is_valid()
        return [
            form
            for form in self.forms
            # Django's own test for a deleted row; private, so the stubs leave it out.
            if not (self.can_delete and self._should_delete_form(form))  # type: ignore[attr-defined]
            and (form.instance.pk is not None or form.has_changed())
        ]


class NumberedFormSet(RegisteredFormSet):
    """Rows numbered 1, 2, ...; blank rows come pre-numbered after the saved ones."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        initial_count = self.initial_form_count()
        if index is not None and index >= initial_count:
            kwargs["initial"] = {"line": self.first_free_line + index - initial_count}
        return kwargs

    @cached_property
    def first_free_line(self) -> int:
        return max((row.line for row in self.get_queryset()), default=0) + 1

    def lines(self) -> set[int]:
        return {
            form.cleaned_data["line"] for form in self.kept_forms() if form.cleaned_data.get("line")
        }


class ReferencingFormSet(RegisteredFormSet):
    """Rows that point at a numbered row of another formset on the page."""

    target_prefix: str
    target_model: type[Injectate] | type[InjectionSite]
    link_field: str  # the model's foreign key, e.g. "injectate"
    number_field: str  # the form's field holding the target's number, e.g. "injectate_line"

    def __init__(self, *args: Any, queryset: Any = None, **kwargs: Any) -> None:
        # Every row shows its target's number: load the targets with the rows, in one query.
        model = cast("type[models.Model]", self.model)  # inlineformset_factory sets it
        rows = queryset if queryset is not None else model._default_manager.all()
        super().__init__(*args, queryset=rows.select_related(self.link_field), **kwargs)

    def clean(self) -> None:
        super().clean()
        target = self.registry.get(self.target_prefix)
        available = target.lines() if target is not None else set()
        for form in self.kept_forms():
            number = form.cleaned_data.get(self.number_field)
            if number and number not in available:
                form.add_error(
                    self.number_field,
                    f"There is no {self.link_field} no. {number} in this session.",
                )

    def _link(self, form: forms.ModelForm) -> None:
        number = form.cleaned_data.get(self.number_field)
        setattr(form.instance, self.link_field, self.targets[number] if number else None)

    @cached_property
    def targets(self) -> dict[int, models.Model]:
        """The session's rows this formset points at, by number (saved before this formset)."""
        return {row.line: row for row in self.target_model.objects.filter(session=self.instance)}

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> models.Model:
        self._link(form)
        return super().save_new(form, commit=commit)

    def save_existing(
        self, form: forms.ModelForm, obj: models.Model, commit: bool = True
    ) -> models.Model:
        self._link(form)
        return super().save_existing(form, obj, commit=commit)


class SiteFormSet(ReferencingFormSet, NumberedFormSet):
    target_prefix = "injectates"
    target_model = Injectate
    link_field = "injectate"
    number_field = "injectate_line"


class SideEffectFormSet(ReferencingFormSet):
    target_prefix = "sites"
    target_model = InjectionSite
    link_field = "site"
    number_field = "site_line"


class SiteForm(forms.ModelForm):
    injectate_line = forms.IntegerField(
        label="Injectate no.",
        min_value=1,
        max_value=20,
        help_text="Number of the injectate.",
        widget=forms.NumberInput(attrs={"style": "width: 3.5em"}),
    )

    class Meta:
        model = InjectionSite
        exclude = ["injectate"]  # noqa: DJ006 - set from injectate_line on save
        # Narrow inputs, so a row of the site table fits a laptop screen.
        widgets = {
            "line": forms.NumberInput(attrs={"style": "width: 3.5em"}),
            "volume_ml": forms.NumberInput(attrs={"style": "width: 5em"}),
            "needle_gauge": forms.NumberInput(attrs={"style": "width: 3.5em"}),
            "structure": forms.TextInput(attrs={"size": 22}),
            "snomed_code": forms.TextInput(attrs={"size": 11}),
            "approach": forms.TextInput(attrs={"size": 14}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.injectate_id:
            self.initial["injectate_line"] = self.instance.injectate.line


class SideEffectForm(forms.ModelForm):
    site_line = forms.IntegerField(
        label="Site no.", min_value=1, max_value=50, required=False, help_text="Optional."
    )

    class Meta:
        model = SideEffect
        exclude = ["site"]  # noqa: DJ006 - set from site_line on save

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.site_id:
            self.initial["site_line"] = self.instance.site.line
