"""Names of the BAS accounts ledgerbridge books on by default, for the ``#KONTO`` records.

An importing program uses its own chart of accounts; the names only help a person reading the
file. An account not listed here is named after the first journal line booked on it.
"""

from __future__ import annotations

BAS_NAMES: dict[str, str] = {
    "1510": "Kundfordringar",
    "1580": "Fordringar för kontokort och kuponger",
    "1686": "Fordringar på betalningsförmedlare",
    "1930": "Företagskonto",
    "2611": "Utgående moms på försäljning inom Sverige, 25 %",
    "2621": "Utgående moms på försäljning inom Sverige, 12 %",
    "2631": "Utgående moms på försäljning inom Sverige, 6 %",
    "2670": "Utgående moms, OSS",
    "2890": "Övriga kortfristiga skulder",
    "3001": "Försäljning inom Sverige, 25 % moms",
    "3002": "Försäljning inom Sverige, 12 % moms",
    "3003": "Försäljning inom Sverige, 6 % moms",
    "3004": "Försäljning inom Sverige, momsfri",
    "3041": "Försäljning tjänster inom Sverige, 25 % moms",
    "3042": "Försäljning tjänster inom Sverige, 12 % moms",
    "3043": "Försäljning tjänster inom Sverige, 6 % moms",
    "3044": "Försäljning tjänster inom Sverige, momsfri",
    "3105": "Försäljning varor till land utanför EU",
    "3106": "Försäljning varor till annat EU-land, momspliktig",
    "3108": "Försäljning varor till annat EU-land, momsfri",
    "3305": "Försäljning tjänster till land utanför EU",
    "3308": "Försäljning tjänster till annat EU-land",
    "3520": "Fakturerade frakter",
    "3730": "Lämnade rabatter",
    "3740": "Öres- och kronutjämning",
    "3960": "Valutakursvinster",
    "7960": "Valutakursförluster",
}


def account_name(account: str, fallback: str = "") -> str:
    """The BAS name of ``account``, else ``fallback``, else ``Konto <number>``."""
    return BAS_NAMES.get(account) or fallback or f"Konto {account}"
