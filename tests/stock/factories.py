"""Product presets as a clinic keeps them (GTINs from GS1's own example range, 950)."""

from __future__ import annotations

from decimal import Decimal

import factory

from stock.choices import Activation, Anaesthetic, Anticoagulant, InjectateKind, RichOrPoor
from stock.models import Product

PRP_GTIN = "09506000134352"
DEXTROSE_GTIN = "09506000134369"


class ProductFactory(factory.django.DjangoModelFactory):
    """A dextrose preset (15 % with lidocaine 0.5 %, 10 mL); ``prp=True`` for a PRP kit."""

    class Meta:
        model = Product
        django_get_or_create = ["manufacturer", "name"]

    manufacturer = "Hospira"
    name = factory.Sequence(lambda n: f"Dextrose 15% with lidocaine 0.5% ({n})")
    kind = InjectateKind.DEXTROSE
    volume_ml = Decimal("10")
    dextrose_pct = Decimal("15")
    diluent = "Sodium chloride 0.9%"
    anaesthetic = Anaesthetic.LIDOCAINE
    anaesthetic_pct = Decimal("0.5")

    class Params:
        prp = factory.Trait(
            manufacturer="Arthrex",
            name="Angel cPRP",
            kind=InjectateKind.PRP,
            volume_ml=Decimal("5"),
            whole_blood_ml=Decimal("30"),
            spins=2,
            anticoagulant=Anticoagulant.ACD_A,
            activation=Activation.NONE,
            leukocytes=RichOrPoor.POOR,
            dextrose_pct=None,
            diluent="",
            anaesthetic="",
            anaesthetic_pct=None,
        )
