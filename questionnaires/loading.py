"""Questionnaires loaded from their JSON description (questionnaires/data/*.json, or a file a
clinic writes for an instrument it holds a licence for):

```
{"code", "name", "title", "version", "introduction", "licence", "body_regions", "at_baseline",
 "position", "option_sets": {name: [[label, value], ...]},
 "items": [{"code", "section", "prompt", "text", "options": option set name}],
 "scales": [{"code", "name", "instrument", "rule", "reverse", "minimum", "maximum", "better",
             "min_answered_percent", "items": [item codes], "conversion": [[raw, value]]}]}
```

The migration that installs the shipped ones and the ``questionnaires_load`` command both call
``questionnaire_load``, the migration with its historical models.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps as installed_apps
from django.core.exceptions import ValidationError
from django.db import transaction

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED = ("nprs", "grc", "koos", "hoos")


def shipped_definitions() -> list[dict[str, Any]]:
    return [json.loads((DATA_DIR / f"{code}.json").read_text()) for code in SHIPPED]


def questionnaire_load(*, data: dict[str, Any], apps: Any = installed_apps) -> Any:
    """Create the questionnaire, or replace the text and scoring of one nobody has answered
    yet. One that has answers keeps them and its text: load it under a new code instead."""
    Questionnaire = apps.get_model("questionnaires", "Questionnaire")
    Item = apps.get_model("questionnaires", "Item")
    Option = apps.get_model("questionnaires", "Option")
    Scale = apps.get_model("questionnaires", "Scale")
    ConversionRow = apps.get_model("questionnaires", "ConversionRow")
    Response = apps.get_model("questionnaires", "Response")
    sets = data.get("option_sets", {})
    for item in data["items"]:
        if item["options"] not in sets:
            raise ValidationError({"items": f"{item['code']}: no option set {item['options']!r}."})
    with transaction.atomic():
        existing = Questionnaire.objects.filter(code=data["code"]).first()
        if existing is not None:
            if Response.objects.filter(questionnaire=existing).exists():
                raise ValidationError(
                    {"code": f"{data['code']} has answers already; load it under a new code."}
                )
            Scale.objects.filter(questionnaire=existing).delete()
            Item.objects.filter(questionnaire=existing).delete()
        fields = {
            "name": data["name"],
            "title": data["title"],
            "version": data["version"],
            "introduction": data.get("introduction", ""),
            "licence": data["licence"],
            "body_regions": data.get("body_regions", []),
            "at_baseline": data.get("at_baseline", True),
            "position": data.get("position", 0),
            "active": data.get("active", True),
        }
        questionnaire, _ = Questionnaire.objects.update_or_create(
            code=data["code"], defaults=fields
        )
        items = {}
        for position, entry in enumerate(data["items"], start=1):
            item = Item.objects.create(
                questionnaire=questionnaire,
                code=entry["code"],
                position=position,
                section=entry.get("section", ""),
                prompt=entry.get("prompt", ""),
                text=entry["text"],
            )
            Option.objects.bulk_create(
                Option(item=item, position=number, label=label, value=value)
                for number, (label, value) in enumerate(sets[entry["options"]], start=1)
            )
            items[item.code] = item
        for entry in data.get("scales", []):
            scale = Scale.objects.create(
                questionnaire=questionnaire,
                code=entry["code"],
                name=entry["name"],
                instrument=entry.get("instrument", ""),
                rule=entry["rule"],
                reverse=entry.get("reverse", False),
                minimum=Decimal(str(entry["minimum"])),
                maximum=Decimal(str(entry["maximum"])),
                better=entry["better"],
                min_answered_percent=entry.get("min_answered_percent", 100),
            )
            missing = [code for code in entry["items"] if code not in items]
            if missing:
                raise ValidationError({"scales": f"{entry['code']}: no items {missing}."})
            scale.items.set([items[code] for code in entry["items"]])
            ConversionRow.objects.bulk_create(
                ConversionRow(scale=scale, raw=raw, value=Decimal(str(value)))
                for raw, value in entry.get("conversion", [])
            )
    return questionnaire
