from __future__ import annotations

from django.contrib import admin

from recordkeeping.admin import ClinicalModelAdmin
from stock.models import Product


@admin.register(Product)
class ProductAdmin(ClinicalModelAdmin):
    """The product presets clinicians pick on the session screen; the clinic admin keeps them."""

    list_display = ["name", "manufacturer", "kind", "usual", "gtin", "active"]
    list_filter = ["active", "kind"]
    search_fields = ["name", "manufacturer", "gtin"]
    fieldsets = [
        (None, {"fields": ["manufacturer", "name", "kind", "gtin", "active", "volume_ml"]}),
        (
            "PRP kit",
            {
                "fields": [
                    "whole_blood_ml",
                    "spins",
                    "anticoagulant",
                    "activation",
                    "leukocytes",
                    "red_cells",
                ]
            },
        ),
        ("Dextrose", {"fields": ["dextrose_pct", "diluent"]}),
        ("Local anaesthetic", {"fields": ["anaesthetic", "anaesthetic_pct"]}),
        ("Exosomes", {"fields": ["exosome_source", "particles_per_ml"]}),
    ]

    @admin.display(description="usual values")
    def usual(self, product: Product) -> str:
        return product.usual
