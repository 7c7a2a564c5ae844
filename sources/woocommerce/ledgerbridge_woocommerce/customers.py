"""The buyer of a WooCommerce order: private or company, VAT number and organisation number.

WooCommerce core has no VAT-number field; the EU VAT plugins keep it in order meta (or add it to
the billing object). The keys read, in this order, are :data:`VAT_NUMBER_META_KEYS` and the
billing fields :data:`VAT_NUMBER_BILLING_FIELDS`. A Swedish organisation number comes from
:data:`ORG_NUMBER_META_KEYS` (validated with python-stdnum ``se.orgnr``) or, failing that, from a
Swedish VAT number (``SE`` + organisation number + ``01``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from stdnum.eu import vat as eu_vat
from stdnum.se import orgnr

from ledgerbridge.model import Address, Customer, CustomerKind

#: Order meta keys of common EU VAT plugins, first match wins.
VAT_NUMBER_META_KEYS: tuple[str, ...] = (
    "_billing_vat_number",  # WooCommerce EU VAT Number (current)
    "billing_vat_number",
    "_vat_number",  # WooCommerce EU VAT Number (older)
    "vat_number",  # Aelia EU VAT Assistant
    "_billing_eu_vat_number",  # EU VAT for WooCommerce (WPFactory)
    "billing_eu_vat_number",
    "_billing_vat_id",  # Germanized
    "billing_vat_id",
    "_vat_id",
    "vat_id",
    "_billing_vat",  # checkout field editors
    "billing_vat",
    "VAT Number",  # WooCommerce EU VAT Compliance
    "vat-number",
)

#: Fields some plugins add to the order's ``billing`` object itself.
VAT_NUMBER_BILLING_FIELDS: tuple[str, ...] = ("vat_number", "vat_id", "eu_vat_number", "vat")

#: Order meta keys for a Swedish organisation number, first match wins.
ORG_NUMBER_META_KEYS: tuple[str, ...] = (
    "_billing_org_nr",
    "billing_org_nr",
    "_billing_orgnr",
    "billing_orgnr",
    "_billing_organisationsnummer",
    "billing_organisationsnummer",
    "_organisationsnummer",
    "organisationsnummer",
    "_billing_organization_number",
    "_org_nr",
    "org_nr",
    "orgnr",
)

_ADDRESS_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "street": "address_1",
    "street2": "address_2",
    "postcode": "postcode",
    "city": "city",
    "state": "state",
    "country": "country",
    "email": "email",
    "phone": "phone",
}


def meta_values(meta_data: list[Mapping[str, Any]]) -> dict[str, Any]:
    """``meta_data`` as a dict (the last entry wins for a repeated key)."""
    return {entry["key"]: entry.get("value") for entry in meta_data}


def address(fields: Mapping[str, Any]) -> Address:
    """A canonical address from a WooCommerce billing or shipping object."""
    values = {
        ours: html.unescape(str(fields.get(theirs) or "")).strip()
        for ours, theirs in _ADDRESS_FIELDS.items()
    }
    values["country"] = values["country"].upper()
    return Address(**values)


def _first_text(candidates: list[Any]) -> str:
    for value in candidates:
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


def normalize_vat_number(value: str, country: str) -> str:
    """``value`` compacted and upper-cased, with the EU country prefix added when it is missing.

    Not validated here: the accounting rules decide whether a number is good enough for
    reverse charge (format check, or VIES through a plugin).
    """
    text = "".join(ch for ch in value.upper() if ch.isalnum())
    if not text:
        return ""
    prefix = "EL" if country == "GR" else country
    if text[:2].isalpha():
        return text
    if country.lower() in eu_vat.MEMBER_STATES or country == "GR":
        return prefix + text
    return text


def organisation_number(meta: Mapping[str, Any], vat_number: str) -> tuple[str, str]:
    """The Swedish organisation number (``556036-0793``) and any invalid value that was found."""
    raw = _first_text([meta.get(key) for key in ORG_NUMBER_META_KEYS])
    if raw:
        if orgnr.is_valid(raw):
            return orgnr.format(raw), ""
        return "", raw
    if vat_number.startswith("SE") and len(vat_number) == 14 and vat_number.endswith("01"):
        candidate = vat_number[2:12]
        if orgnr.is_valid(candidate):
            return orgnr.format(candidate), ""
    return "", ""


def customer(
    billing_raw: Mapping[str, Any],
    shipping_raw: Mapping[str, Any],
    meta: Mapping[str, Any],
    customer_id: int,
) -> tuple[Customer, dict[str, str]]:
    """The canonical customer and notes for the order meta (e.g. an invalid org number)."""
    billing = address(billing_raw)
    shipping = address(shipping_raw)
    shipping_used = any(
        getattr(shipping, name) for name in ("street", "city", "postcode", "country", "company")
    )
    vat_raw = _first_text(
        [meta.get(key) for key in VAT_NUMBER_META_KEYS]
        + [billing_raw.get(key) for key in VAT_NUMBER_BILLING_FIELDS]
    )
    vat_number = normalize_vat_number(vat_raw, billing.country)
    org_number, invalid_org = organisation_number(meta, vat_number)
    notes: dict[str, str] = {}
    if invalid_org:
        notes["ledgerbridge_invalid_organisation_number"] = invalid_org
    company = billing.company
    kind = CustomerKind.COMPANY if company or vat_number or org_number else CustomerKind.PRIVATE
    name = company or billing.person_name or shipping.company or shipping.person_name
    return (
        Customer(
            kind=kind,
            name=name or billing.email,
            email=billing.email,
            billing=billing,
            shipping=shipping if shipping_used else None,
            vat_number=vat_number,
            organisation_number=org_number,
            source_id=str(customer_id) if customer_id else "",
        ),
        notes,
    )
