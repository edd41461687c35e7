"""A barcode scanned into the lot field: GS1 element strings as scanners type them (with and
without the FNC1 separator GS and a symbology identifier, or as printed), read into the lot,
the expiry and the product."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests.stock.factories import DEXTROSE_GTIN, PRP_GTIN, ProductFactory
from workspace.clinician.gs1 import NotReadable, Scan, scan_read

GS = "\x1d"


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # STANDARDS.md section 5's own example: DataMatrix, lot ended by GS, then a serial.
        (
            f"]d201{PRP_GTIN}1727020010LOT123{GS}21SN0042",
            Scan("LOT123", datetime.date(2027, 2, 28), PRP_GTIN),
        ),
        # GS1-128 with the lot last: no separator needed.
        (
            f"]C101{PRP_GTIN}17270630" + "10K20931",
            Scan("K20931", datetime.date(2027, 6, 30), PRP_GTIN),
        ),
        # No symbology identifier (the scanner set not to send it).
        (
            f"01{DEXTROSE_GTIN}10D5521{GS}17270131",
            Scan("D5521", datetime.date(2027, 1, 31), DEXTROSE_GTIN),
        ),
        # GS1 QR, lot before expiry with GS.
        (
            f"]Q301{DEXTROSE_GTIN}10EX-001{GS}17281115",
            Scan("EX-001", datetime.date(2028, 11, 15), DEXTROSE_GTIN),
        ),
        # The printed form, copied from the label.
        (
            f"(01){PRP_GTIN}(17)270630(10)K20931",
            Scan("K20931", datetime.date(2027, 6, 30), PRP_GTIN),
        ),
    ],
)
def test_a_scanned_gs1_string_gives_lot_expiry_and_gtin(typed, read):
    assert scan_read(typed) == read


@pytest.mark.parametrize("typed", ["K20931", "D5521", "10ABC", "17-2209", "LOT 1234"])
def test_a_lot_typed_by_hand_is_left_as_it_is(typed):
    assert scan_read(typed) is None


def test_a_barcode_with_a_wrong_check_digit_is_not_read():
    with pytest.raises(NotReadable, match="check digit"):
        scan_read("]C101095060001343531727063010K20931")


def test_a_barcode_without_a_lot_asks_for_it_to_be_typed():
    with pytest.raises(NotReadable, match="no lot number"):
        scan_read(f"]C101{PRP_GTIN}17270630")


@pytest.mark.django_db
def test_the_scan_answers_the_lot_expiry_and_the_preset_of_its_gtin(clinician_client):
    dextrose = ProductFactory(gtin=DEXTROSE_GTIN)
    answer = clinician_client.get(
        reverse("workspace:gs1"), {"code": f"]d201{DEXTROSE_GTIN}10D5521{GS}17270131"}
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "scanned": True,
        "lot": "D5521",
        "expiry": "2027-01-31",
        "gtin": DEXTROSE_GTIN,
        "product": str(dextrose.pk),
    }
    typed = clinician_client.get(reverse("workspace:gs1"), {"code": "K20931"})
    assert typed.json() == {"scanned": False}
    wrong = clinician_client.get(reverse("workspace:gs1"), {"code": "]C1017"})
    assert wrong.status_code == 400 and "could not be read" in wrong.json()["error"]
