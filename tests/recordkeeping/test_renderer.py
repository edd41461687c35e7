"""The API's JSON renderer (orjson) writes the same bytes as DRF's."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from recordkeeping.api.renderers import FastJSONRenderer

AWARE = datetime.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=datetime.UTC)
SAMPLES = {
    "nested": {"results": [{"id": 1, "tags": ["a", "b"], "ok": True, "none": None}], "n": 1.5},
    "text": {"name": "Zoë 🧪 שלום\u200f", "separators": "a\u2028b\u2029c", "quote": 'x"\\y'},
    "times": {
        "aware": AWARE,
        "naive": AWARE.replace(tzinfo=None),
        "offset": AWARE.astimezone(datetime.timezone(datetime.timedelta(hours=-5))),
        "date": AWARE.date(),
        "time": AWARE.time(),
        "span": datetime.timedelta(days=1, seconds=3),
    },
    "others": {
        "decimal": Decimal("12.50"),
        "uuid": uuid.UUID(int=7),
        "lazy": gettext_lazy("Not found."),
        "tuple": (1, 2),
        "set": {3, 4},
        "bytes": b"raw",
    },
    "big integer": {"n": 10**30, "negative": -(2**70)},
    "list": [1, "two", {"three": 3}],
    "empty": {},
}


@pytest.mark.parametrize("data", SAMPLES.values(), ids=SAMPLES.keys())
@pytest.mark.parametrize("media_type", ["application/json", "application/json; indent=2", None])
def test_it_writes_what_drfs_renderer_writes(data, media_type):
    assert FastJSONRenderer().render(data, media_type, {}) == JSONRenderer().render(
        data, media_type, {}
    )


def test_nothing_is_written_for_no_data():
    assert FastJSONRenderer().render(None) == b""


def test_a_value_neither_can_write_is_refused():
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"thing": object()})
