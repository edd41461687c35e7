from __future__ import annotations

import functools
import operator
from decimal import Decimal
from typing import Any

import pgtrigger
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from recordkeeping.db import choices_constraint
from recordkeeping.history import track
from recordkeeping.models import TimeStamped
from stock.choices import (
    Activation,
    Anaesthetic,
    Anticoagulant,
    ExosomeSource,
    InjectateKind,
    RichOrPoor,
)

# The ranges of DOMAIN.md, as an injectate is held to them: a preset can only suggest a value
# an injectate may take.
MAX_VOLUME_ML = Decimal(60)
MAX_WHOLE_BLOOD_ML = Decimal(240)
MAX_DEXTROSE_PCT = Decimal(50)
MAX_ANAESTHETIC_PCT = Decimal(2)
GTIN_REGEX = r"^[0-9]{14}$"

# The values a preset fills in, named as the injectate's fields are.
PRP_PRESETS = ("whole_blood_ml", "spins", "anticoagulant", "activation", "leukocytes", "red_cells")
DEXTROSE_PRESETS = ("dextrose_pct", "diluent")
EXOSOME_PRESETS = ("exosome_source", "particles_per_ml")
ANAESTHETIC_PRESETS = ("anaesthetic", "anaesthetic_pct")
PRESET_FIELDS = (
    "volume_ml",
    *PRP_PRESETS,
    *DEXTROSE_PRESETS,
    *ANAESTHETIC_PRESETS,
    *EXOSOME_PRESETS,
)
TEXT_PRESETS = frozenset(
    {"anticoagulant", "activation", "leukocytes", "red_cells", "diluent", "exosome_source"}
    | {"anaesthetic"}
)


def _empty(field: str) -> models.Q:
    return (
        models.Q(**{field: ""}) if field in TEXT_PRESETS else models.Q(**{f"{field}__isnull": True})
    )


def _all_empty(fields: tuple[str, ...]) -> models.Q:
    return functools.reduce(operator.and_, (_empty(field) for field in fields))


def gtin_check_digit_ok(gtin: str) -> bool:
    """GS1's mod-10 check: weights 3 and 1 from the right, the last digit excluded."""
    digits = [int(c) for c in gtin]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


class ProductQuerySet(models.QuerySet["Product"]):
    def offered(self) -> ProductQuerySet:
        """The presets a clinician picks from: those the clinic still uses."""
        return self.filter(active=True)


@track()
class Product(TimeStamped):
    """Something the clinic buys and injects, with the usual values of its preparation: picking
    it on the session screen fills an injectate in, and the clinician changes what differs."""

    manufacturer = models.CharField(max_length=200)
    name = models.CharField("product", max_length=200)
    kind = models.CharField("injectate kind", max_length=20, choices=InjectateKind.choices)
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        blank=True,
        validators=[RegexValidator(GTIN_REGEX, "A GTIN is 14 digits (GS1 AI 01).")],
        help_text="The 14 digits after (01) on the box's barcode; a scan then picks this product.",
    )
    active = models.BooleanField(
        default=True, help_text="Offered on the session screen; untick when no longer used."
    )
    volume_ml = models.DecimalField(
        "usual volume (mL)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_VOLUME_ML)],
    )
    # PRP kits
    whole_blood_ml = models.DecimalField(
        "whole blood drawn (mL)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_WHOLE_BLOOD_ML)],
    )
    spins = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(2)]
    )
    anticoagulant = models.CharField(max_length=8, choices=Anticoagulant.choices, blank=True)
    activation = models.CharField(max_length=16, choices=Activation.choices, blank=True)
    leukocytes = models.CharField(
        "leukocyte content", max_length=4, choices=RichOrPoor.choices, blank=True
    )
    red_cells = models.CharField(max_length=4, choices=RichOrPoor.choices, blank=True)
    # Dextrose
    dextrose_pct = models.DecimalField(
        "dextrose (%)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_DEXTROSE_PCT)],
    )
    diluent = models.CharField(max_length=100, blank=True)
    # Mixed with a local anaesthetic (dextrose usually), or the anaesthetic itself
    anaesthetic = models.CharField(
        "local anaesthetic", max_length=12, choices=Anaesthetic.choices, blank=True
    )
    anaesthetic_pct = models.DecimalField(
        "anaesthetic (%)",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_ANAESTHETIC_PCT)],
    )
    # Exosomes
    exosome_source = models.CharField(max_length=20, choices=ExosomeSource.choices, blank=True)
    particles_per_ml = models.BigIntegerField(
        "particles per mL", null=True, blank=True, validators=[MinValueValidator(1)]
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "manufacturer", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "name"],
                name="stock_product_manufacturer_name_unique",
                violation_error_message="This manufacturer already has a product of that name.",
            ),
            models.UniqueConstraint(
                fields=["gtin"],
                condition=~models.Q(gtin=""),
                name="stock_product_gtin_unique",
                violation_error_message="Another product has this GTIN.",
            ),
            models.CheckConstraint(
                condition=models.Q(gtin="") | models.Q(gtin__regex=GTIN_REGEX),
                name="stock_product_gtin_format",
                violation_error_message="A GTIN is 14 digits.",
            ),
            models.CheckConstraint(
                condition=~models.Q(manufacturer="") & ~models.Q(name=""),
                name="stock_product_named",
                violation_error_message="A product needs its manufacturer and name.",
            ),
            models.CheckConstraint(
                condition=models.Q(volume_ml__isnull=True)
                | models.Q(volume_ml__gt=0, volume_ml__lte=MAX_VOLUME_ML),
                name="stock_product_volume_range",
                violation_error_message="Volume must be above 0 and at most 60 mL.",
            ),
            models.CheckConstraint(
                condition=models.Q(whole_blood_ml__isnull=True)
                | models.Q(whole_blood_ml__gt=0, whole_blood_ml__lte=MAX_WHOLE_BLOOD_ML),
                name="stock_product_whole_blood_range",
                violation_error_message="Whole blood drawn must be above 0 and at most 240 mL.",
            ),
            models.CheckConstraint(
                condition=models.Q(spins__isnull=True) | models.Q(spins__in=(1, 2)),
                name="stock_product_spins_one_or_two",
                violation_error_message="PRP is spun once or twice.",
            ),
            models.CheckConstraint(
                condition=models.Q(dextrose_pct__isnull=True)
                | models.Q(dextrose_pct__gt=0, dextrose_pct__lte=MAX_DEXTROSE_PCT),
                name="stock_product_dextrose_pct_range",
                violation_error_message="Dextrose concentration must be above 0 and at most 50 %.",
            ),
            models.CheckConstraint(
                condition=models.Q(anaesthetic_pct__isnull=True)
                | (
                    ~models.Q(anaesthetic="")
                    & models.Q(anaesthetic_pct__gte=0, anaesthetic_pct__lte=MAX_ANAESTHETIC_PCT)
                ),
                name="stock_product_anaesthetic_pct_range",
                violation_error_message="Anaesthetic concentration is 0 to 2 %, with its agent.",
            ),
            models.CheckConstraint(
                condition=models.Q(particles_per_ml__isnull=True)
                | models.Q(particles_per_ml__gt=0),
                name="stock_product_particles_positive",
                violation_error_message="Particle count must be above 0.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.PRP) | _all_empty(PRP_PRESETS),
                name="stock_product_prp_values_only_for_prp",
                violation_error_message="PRP preparation values belong to PRP kits only.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.DEXTROSE) | _all_empty(DEXTROSE_PRESETS),
                name="stock_product_dextrose_values_only_for_dextrose",
                violation_error_message="Dextrose values belong to dextrose only.",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=InjectateKind.EXOSOME) | _all_empty(EXOSOME_PRESETS),
                name="stock_product_exosome_values_only_for_exosome",
                violation_error_message="Exosome values belong to exosomes only.",
            ),
            choices_constraint(table="stock_product", field="kind", choices=InjectateKind),
            choices_constraint(
                table="stock_product", field="anticoagulant", choices=Anticoagulant, blank=True
            ),
            choices_constraint(
                table="stock_product", field="activation", choices=Activation, blank=True
            ),
            choices_constraint(
                table="stock_product", field="leukocytes", choices=RichOrPoor, blank=True
            ),
            choices_constraint(
                table="stock_product", field="red_cells", choices=RichOrPoor, blank=True
            ),
            choices_constraint(
                table="stock_product", field="anaesthetic", choices=Anaesthetic, blank=True
            ),
            choices_constraint(
                table="stock_product", field="exosome_source", choices=ExosomeSource, blank=True
            ),
        ]
        # Injectates copy a preset's values; none points at it, so a preset is retired
        # (active off), never removed, and its history stays readable.
        triggers = [pgtrigger.Protect(name="product_no_delete", operation=pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.name} ({self.manufacturer})" if self.name else "New product"

    @property
    def usual(self) -> str:
        """The preset's values in a few words: "15 % dextrose, lidocaine 0.5 %, 10 mL"."""
        parts: list[str] = []
        if self.kind == InjectateKind.PRP:
            if self.whole_blood_ml:
                parts.append(f"{self.whole_blood_ml.normalize():f} mL blood")
            if self.spins:
                parts.append(f"{self.spins} spin{'s' if self.spins > 1 else ''}")
            if self.leukocytes:
                parts.append(f"leukocyte-{self.leukocytes}")
        if self.dextrose_pct is not None:
            parts.append(f"{self.dextrose_pct.normalize():f} % dextrose")
        if self.anaesthetic:
            pct = (
                f" {self.anaesthetic_pct.normalize():f} %"
                if self.anaesthetic_pct is not None
                else ""
            )
            parts.append(f"{self.get_anaesthetic_display().lower()}{pct}")
        if self.exosome_source:
            parts.append(self.get_exosome_source_display())
        if self.volume_ml:
            parts.append(f"{self.volume_ml.normalize():f} mL")
        return ", ".join(parts)

    def preset(self) -> dict[str, Any]:
        """What picking this product fills in on an injectate, by the injectate's field names;
        values the preset leaves empty are left out, so they do not wipe what was typed."""
        values: dict[str, Any] = {
            "kind": self.kind,
            "product_name": self.name,
            "manufacturer": self.manufacturer,
        }
        if self.kind == InjectateKind.PRP:
            values["prp_system"] = self.name
        for field in PRESET_FIELDS:
            value = getattr(self, field)
            if value not in (None, ""):
                values[field] = str(value) if isinstance(value, Decimal) else value
        return values

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.gtin and len(self.gtin) == 14 and self.gtin.isdigit():
            if not gtin_check_digit_ok(self.gtin):
                errors["gtin"] = "The GTIN's last digit does not check; copy it again."
        for kind, fields in (
            (InjectateKind.PRP, PRP_PRESETS),
            (InjectateKind.DEXTROSE, DEXTROSE_PRESETS),
            (InjectateKind.EXOSOME, EXOSOME_PRESETS),
        ):
            if self.kind != kind:
                for field in fields:
                    if getattr(self, field) not in (None, ""):
                        errors[field] = f"Only for {kind.label}."
        if self.anaesthetic_pct is not None and not self.anaesthetic:
            errors["anaesthetic"] = "Name the anaesthetic whose concentration is given."
        if errors:
            raise ValidationError(errors)
