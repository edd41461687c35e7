"""Reading a product's GS1 barcode as a scanner types it into the lot field: the lot (AI 10)
and expiry (AI 17), and the GTIN (AI 01) that names the product (STANDARDS.md section 5).

A scanner sends FNC1 as GS (ASCII 29) and may put a symbology identifier in front (``]C1``
GS1-128, ``]d2`` DataMatrix, ``]Q3`` QR, ``]e0`` DataBar); a person may copy the printed form
``(01)...(17)...(10)...``. Anything else is a lot number typed by hand and is left as it is.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import biip
from biip.gs1_messages import GS1Message

GS = "\x1d"
SYMBOLOGY = re.compile(r"^\](C1|d2|Q3|e0)")
# Typed lots can start with 10 or 17 too; only a leading GTIN (01 + 14 digits) makes a string
# without a prefix or a separator a barcode.
LEADING_GTIN = re.compile(r"^01\d{14}")
PRINTED = re.compile(r"^\(\d{2,4}\)")


@dataclass(frozen=True)
class Scan:
    lot: str
    expiry: datetime.date | None
    gtin: str


class NotReadable(ValueError):
    """A barcode whose content does not follow GS1's rules (e.g. a wrong check digit)."""


def looks_scanned(text: str) -> bool:
    return bool(SYMBOLOGY.match(text) or GS in text or LEADING_GTIN.match(text)) or bool(
        PRINTED.match(text)
    )


def scan_read(text: str) -> Scan | None:
    """The lot, expiry and GTIN of a scanned GS1 string; None for a lot typed by hand."""
    text = text.strip()
    if not looks_scanned(text):
        return None
    if PRINTED.match(text):
        try:
            message = GS1Message.parse_hri(text)
        except biip.ParseError as error:
            raise NotReadable(str(error)) from error
    else:
        result = biip.parse(text)
        if result.gs1_message is None:
            raise NotReadable(result.gs1_message_error or "Not a GS1 barcode.")
        message = result.gs1_message
    values: dict[str, str] = {}
    expiry = None
    for element in message.element_strings:
        if element.gtin_error:
            raise NotReadable(element.gtin_error)
        values[element.ai.ai] = element.value
        if element.ai.ai == "17":
            expiry = element.date
    if "10" not in values:
        raise NotReadable("The barcode holds no lot number (AI 10); type the lot.")
    return Scan(lot=values["10"], expiry=expiry, gtin=values.get("01", ""))
