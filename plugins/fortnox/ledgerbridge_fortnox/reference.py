"""Fortnox reference data for the mapping editors, cached for an hour per ledger.

Kinds: the ledgerbridge ones (``accounts``, ``payment_modes``, ``ways_of_delivery``,
``terms_of_payment``, ``currencies``, ``vat_codes``, ``bank_accounts``) plus Fortnox's own
``predefined_accounts``, ``price_lists``, ``units``, ``voucher_series``,
``financial_years`` and ``company``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledgerbridge.model import ReferenceItem
from ledgerbridge_fortnox.client import FortnoxClient

CACHE_SECONDS = 3600.0


def _accounts(client: FortnoxClient) -> list[dict[str, str]]:
    return [
        {
            "code": str(item["Number"]),
            "name": str(item.get("Description", "")),
            "vat_code": str(item.get("VATCode") or ""),
            "active": "yes" if item.get("Active", True) else "no",
        }
        for item in client.iterate("accounts", "Accounts", what="reading the chart of accounts")
    ]


def _simple(path: str, key: str, code: str, name: str, *extra: str) -> Callable[..., Any]:
    def fetch(client: FortnoxClient) -> list[dict[str, str]]:
        return [
            {
                "code": str(item.get(code, "")),
                "name": str(item.get(name, "") or ""),
                **{field: str(item.get(field, "") or "") for field in extra},
            }
            for item in client.iterate(path, key, what=f"reading {path}")
        ]

    return fetch


def _company(client: FortnoxClient) -> list[dict[str, str]]:
    info = client.get("companyinformation", what="reading the company information")
    company = info.get("CompanyInformation") or {}
    settings = client.get("settings/company", what="reading the company settings").get(
        "CompanySettings", {}
    )
    return [
        {
            "code": str(company.get("DatabaseNumber") or settings.get("DatabaseNumber") or ""),
            "name": str(company.get("CompanyName") or settings.get("Name") or ""),
            "OrganizationNumber": str(company.get("OrganizationNumber") or ""),
            "VATNumber": str(settings.get("VATNumber") or ""),
            "CountryCode": str(company.get("CountryCode") or ""),
        }
    ]


FETCHERS: dict[str, Callable[[FortnoxClient], list[dict[str, str]]]] = {
    "accounts": _accounts,
    "payment_modes": _simple(
        "modesofpayments", "ModesOfPayments", "Code", "Description", "AccountNumber"
    ),
    "ways_of_delivery": _simple("wayofdeliveries", "WayOfDeliveries", "Code", "Description"),
    "terms_of_payment": _simple("termsofpayments", "TermsOfPayments", "Code", "Description"),
    "currencies": _simple("currencies", "Currencies", "Code", "Description", "SellRate", "Unit"),
    "predefined_accounts": _simple("predefinedaccounts", "PreDefinedAccounts", "Name", "Account"),
    "price_lists": _simple("pricelists", "PriceLists", "Code", "Description"),
    "units": _simple("units", "Units", "Code", "Description"),
    "voucher_series": _simple(
        "voucherseries", "VoucherSeriesCollection", "Code", "Description", "Manual"
    ),
    "financial_years": _simple("financialyears", "FinancialYears", "Id", "FromDate", "ToDate"),
    "company": _company,
}

_VAT_CODES = {"MP1": "25", "MP2": "12", "MP3": "6", "MF": "0"}


def reference_data(client: FortnoxClient, kind: str) -> list[ReferenceItem]:
    """Reference data of ``kind`` (empty for kinds Fortnox does not have), cached 1 h."""
    if kind == "vat_codes":
        return [ReferenceItem(code=code, name=f"{rate} %") for code, rate in _VAT_CODES.items()]
    if kind == "bank_accounts":
        accounts = reference_data(client, "accounts")
        return [item for item in accounts if item.code.startswith("19")]
    fetch = FETCHERS.get(kind)
    if fetch is None:
        return []
    cache = client.ledger.services.cache
    key = f"fortnox:{client.ledger.id}:reference:{kind}"
    rows = cache.get(key)
    if rows is None:
        rows = fetch(client)
        cache.set(key, rows, CACHE_SECONDS)
    return [
        ReferenceItem(
            code=row["code"],
            name=row["name"],
            extra={k: v for k, v in row.items() if k not in ("code", "name")},
        )
        for row in rows
    ]


def forget(client: FortnoxClient, kind: str) -> None:
    """Drop a cached kind (after the user changed something in Fortnox)."""
    client.ledger.services.cache.delete(f"fortnox:{client.ledger.id}:reference:{kind}")
