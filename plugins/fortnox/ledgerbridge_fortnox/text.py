"""Text Fortnox accepts: its allowed characters, its field lengths, its identifier rules.

Fortnox refuses any text field holding a character outside its documented class with error
2000359 ("Värdet innehåller ej tillåtna tecken"), emoji included. Everything the connector
sends passes through :func:`clean` first: look-alikes are mapped to allowed characters,
the rest is dropped, and the result is cut to the field's maximum length.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: Punctuation Fortnox accepts besides letters, digits and spaces (official formats page).
ALLOWED_PUNCTUATION = frozenset("’\\–:.´,;^¤#%§£$€¢¥©™°&/()=+-*_!?²³®½@`\u00a0\n\r")
_COMBINING = frozenset("\u0308\u030a")

#: Look-alikes replaced by an allowed character instead of being dropped.
_REPLACEMENTS = {
    '"': "’",
    "'": "’",
    "‘": "’",
    "“": "’",
    "”": "’",
    "„": "’",
    "«": "’",
    "»": "’",
    "—": "–",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "<": "(",
    ">": ")",
    "|": "/",
    "~": "-",
    "\t": " ",
    "…": "...",
    "×": "x",
    "•": "-",
    "\u2009": " ",
    "\u202f": " ",
}

#: Maximum lengths of the fields the connector writes (spec maxLength, or the safer
#: documented value where old and new documentation disagree).
MAX_LENGTH = {
    "Name": 1024,
    "Address1": 1024,
    "Address2": 1024,
    "City": 1024,
    "ZipCode": 10,
    "Phone1": 1024,
    "Email": 1024,
    "Comments": 1024,
    "Remarks": 1024,
    "RowDescription": 255,
    "YourOrderNumber": 30,
    "ExternalInvoiceReference1": 80,
    "ExternalInvoiceReference2": 80,
    "YourReference": 50,
    "OurReference": 50,
    "VoucherDescription": 200,
    "VoucherComments": 1000,
    "TransactionInformation": 100,
    "ArticleDescription": 200,
    "ArticleNumber": 50,
    "EmailSubject": 100,
    "DeliveryName": 1024,
    "VATNumber": 1024,
}

_SPACES = re.compile(r"[ \u00a0]{2,}")


@functools.lru_cache(maxsize=4096)
def allowed(char: str) -> bool:
    """Whether Fortnox accepts ``char`` in a text field."""
    if char in ALLOWED_PUNCTUATION or char in _COMBINING or char == " ":
        return True
    category = unicodedata.category(char)
    return category.startswith("L") or category == "Nd"


def clean(value: object, field: str | None = None, *, max_length: int | None = None) -> str:
    """``value`` as text Fortnox accepts, cut to the field's maximum length.

    >>> clean('Kaffe "Bönan" 😀 [1 kg]')
    'Kaffe ’Bönan’ (1 kg)'
    """
    limit = max_length if max_length is not None else MAX_LENGTH.get(field or "")
    return _clean_text("" if value is None else str(value), limit)


# Shops repeat the same product names and addresses: cleaning each distinct text once is
# most of the cost of a payload.
@functools.lru_cache(maxsize=16384)
def _clean_text(value: str, limit: int | None) -> str:
    text = unicodedata.normalize("NFC", value)
    out = []
    for char in text:
        char = _REPLACEMENTS.get(char, char)
        out.extend(c for c in char if allowed(c))
    result = _SPACES.sub(" ", "".join(out)).strip()
    if limit is not None and len(result) > limit:
        result = result[:limit].rstrip()
    return result


def invalid_characters(value: str) -> list[str]:
    """The characters of ``value`` Fortnox would refuse (the sandbox uses this to validate)."""
    return sorted({char for char in unicodedata.normalize("NFC", value) if not allowed(char)})


_ARTICLE_NUMBER_DROP = re.compile(r"[^\w+/.\-–]")


def article_number(sku: str) -> str:
    """A shop SKU as a Fortnox article number, or '' when nothing usable remains.

    Fortnox article numbers are letters (Swedish ones included), digits and ``- + / . _``,
    without spaces, at most 50 characters. Spaces become ``-``; other characters are dropped.
    A SKU that does not fit in 50 characters is not truncated (two SKUs could collide):
    the caller generates a number instead.
    """
    text = unicodedata.normalize("NFC", sku.strip())
    text = re.sub(r"\s+", "-", text)
    text = _ARTICLE_NUMBER_DROP.sub("", text)
    if not text or len(text) > MAX_LENGTH["ArticleNumber"]:
        return ""
    return text


def generated_article_number(product_id: str, parent_id: str = "") -> str:
    """The article number used for a product without a usable SKU (stable per product)."""
    if parent_id and parent_id not in ("0", product_id):
        return f"WC-{parent_id}-{product_id}"
    return f"WC-{product_id}"
