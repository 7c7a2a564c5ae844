"""What a fresh sandbox company contains: a BAS chart of accounts, currencies, settings.

Mirrors a standard new Fortnox company (reference §4): financial years around today, voucher
series A (manual), B (customer invoices) and C (customer payments), price list A, units,
ways of delivery, terms of payment, modes of payment and predefined accounts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ledgerbridge_fortnox.sandbox.state import Tenant

ACCOUNTS: dict[int, tuple[str, str]] = {
    1510: ("Kundfordringar", ""),
    1580: ("Fordringar för kontokort och kuponger", ""),
    1680: ("Andra kortfristiga fordringar", ""),
    1686: ("Fordringar för kontokort och kuponger", ""),
    1910: ("Kassa", ""),
    1920: ("PlusGiro", ""),
    1930: ("Företagskonto", ""),
    1940: ("Övriga bankkonton", ""),
    2611: ("Utgående moms på försäljning inom Sverige, 25 %", "MP1"),
    2621: ("Utgående moms på försäljning inom Sverige, 12 %", "MP2"),
    2631: ("Utgående moms på försäljning inom Sverige, 6 %", "MP3"),
    2650: ("Redovisningskonto för moms", ""),
    2670: ("Utgående moms på försäljning inom EU, OSS", ""),
    3001: ("Försäljning inom Sverige, 25 % moms", "MP1"),
    3002: ("Försäljning inom Sverige, 12 % moms", "MP2"),
    3003: ("Försäljning inom Sverige, 6 % moms", "MP3"),
    3004: ("Försäljning inom Sverige, momsfri", "MF"),
    3041: ("Försäljning tjänster inom Sverige, 25 % moms", "MP1"),
    3042: ("Försäljning tjänster inom Sverige, 12 % moms", "MP2"),
    3043: ("Försäljning tjänster inom Sverige, 6 % moms", "MP3"),
    3044: ("Försäljning tjänster inom Sverige, momsfri", "MF"),
    3105: ("Försäljning varor till land utanför EU", ""),
    3106: ("Försäljning varor till annat EU-land, momspliktig", "MP1"),
    3108: ("Försäljning varor till annat EU-land, momsfri", ""),
    3305: ("Försäljning tjänster till land utanför EU", ""),
    3308: ("Försäljning tjänster till annat EU-land", ""),
    3520: ("Fakturerade frakter", "MP1"),
    3540: ("Faktureringsavgifter", "MP1"),
    3730: ("Lämnade rabatter", ""),
    3740: ("Öres- och kronutjämning", ""),
    3960: ("Valutakursvinster på fordringar och skulder av rörelsekaraktär", ""),
    4000: ("Inköp av varor från Sverige", ""),
    6040: ("Kontokortsavgifter", ""),
    6570: ("Bankkostnader", ""),
    7960: ("Valutakursförluster på fordringar och skulder av rörelsekaraktär", ""),
}

CURRENCIES = {
    "SEK": ("Svensk krona", "1", "1", 1),
    "EUR": ("Euro", "11.10", "10.90", 1),
    "USD": ("US Dollar", "10.20", "10.00", 1),
    "NOK": ("Norsk krona", "0.98", "0.96", 1),
    "DKK": ("Dansk krona", "1.49", "1.46", 1),
    "GBP": ("Brittiskt pund", "13.10", "12.90", 1),
}

WAYS_OF_DELIVERY = {
    "P": "Posten",
    "DHL": "DHL",
    "UPS": "UPS",
    "SCHE": "Schenker",
    "HAMT": "Hämtas av kunden",
}

TERMS_OF_PAYMENT = {
    "0": "0 dagar",
    "10": "10 dagar",
    "15": "15 dagar",
    "20": "20 dagar",
    "30": "30 dagar",
}

MODES_OF_PAYMENT = {
    "BG": ("Bankgiro", "1930"),
    "PG": ("PlusGiro", "1920"),
    "KORT": ("Kortbetalning", "1580"),
    "SWISH": ("Swish", "1930"),
    "KLARNA": ("Klarna", "1580"),
    "KONT": ("Kontant", "1910"),
}

PREDEFINED_ACCOUNTS = {
    "BG": 1930,
    "PG": 1920,
    "CASH": 1910,
    "CASHBYCARD": 1580,
    "CUSTCLAIM": 1510,
    "SALES_25_SE": 3001,
    "SALES_12_SE": 3002,
    "SALES_6_SE": 3003,
    "SALES_0_SE": 3004,
    "SALESEUREV": 3108,
    "SALESEUVAT": 3106,
    "SALESEXPORT": 3105,
    "ADMFEE": 3540,
    "FREIGHT": 3520,
    "ROUNDOFF": 3740,
    "OUTVAT_MP1": 2611,
    "OUTVAT_MP2": 2621,
    "OUTVAT_MP3": 2631,
    "CURRENCYWIN": 3960,
    "CURRENCYLOSS": 7960,
}

VOUCHER_SERIES = {
    "A": ("Redovisningsverifikationer", True),
    "B": ("Kundfakturor", False),
    "C": ("Kundinbetalningar", False),
    "D": ("Dagskassor", True),
}

UNITS = {"st": "Styck", "h": "Timme", "kg": "Kilogram", "m": "Meter"}


STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today() -> date:
    """Today in Sweden (Fortnox's dates are Swedish local dates)."""
    return datetime.now(UTC).astimezone(STOCKHOLM).date()


def seed_reference_data(tenant: Tenant, *, full: bool) -> None:
    """Fill a company with its reference data (``full=False`` keeps only the bare minimum:
    one financial year, series A, SEK and the accounts; enough for a company to exist)."""
    current = today()
    for index, year in enumerate((current.year - 1, current.year, current.year + 1), start=1):
        if not full and year != current.year:
            continue
        tenant.financial_years[index] = {
            "Id": index,
            "FromDate": f"{year}-01-01",
            "ToDate": f"{year}-12-31",
            "AccountChartType": "BAS 2026",
            "AccountingMethod": "ACCRUAL",
        }
    for number, (description, vat_code) in ACCOUNTS.items():
        tenant.accounts[number] = {
            "Number": number,
            "Description": description,
            "Active": True,
            "VATCode": vat_code,
            "SRU": 0,
        }
    for code, (description, sell, buy, unit) in CURRENCIES.items():
        if not full and code != "SEK":
            continue
        tenant.currencies[code] = {
            "Code": code,
            "Description": description,
            "SellRate": Decimal(sell),
            "BuyRate": Decimal(buy),
            "Unit": Decimal(unit),
            "Date": current.isoformat(),
            "IsAutomatic": code != "SEK",
        }
    for code, (description, manual) in VOUCHER_SERIES.items():
        if not full and code != "A":
            continue
        tenant.voucher_series[code] = {"Code": code, "Description": description, "Manual": manual}
    tenant.price_lists["A"] = {
        "Code": "A",
        "Description": "Standardprislista",
        "Comments": "",
        "PreSelected": True,
    }
    if not full:
        return
    for code, description in WAYS_OF_DELIVERY.items():
        tenant.ways_of_delivery[code] = {
            "Code": code,
            "Description": description,
            "DescriptionEnglish": description,
        }
    for code, description in TERMS_OF_PAYMENT.items():
        tenant.terms_of_payment[code] = {"Code": code, "Description": description}
    for code, (description, account) in MODES_OF_PAYMENT.items():
        tenant.modes_of_payment[code] = {
            "Code": code,
            "Description": description,
            "AccountNumber": account,
        }
    for name, account in PREDEFINED_ACCOUNTS.items():
        tenant.predefined_accounts[name] = {"Name": name, "Account": account}
    for code, description in UNITS.items():
        tenant.units[code] = {"Code": code, "Description": description, "CodeEnglish": code}
