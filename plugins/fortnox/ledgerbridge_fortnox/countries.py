"""Country names as Fortnox wants them on documents: "Sverige" for Sweden, English otherwise."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

#: Where Fortnox's list (ISO short names) differs from CLDR's English names.
_FORTNOX_NAMES = {
    "VA": "Holy See (Vatican City State)",
    "VI": "Virgin Islands, U.S.",
    "VG": "Virgin Islands, British",
    "KR": "Korea, Republic of",
    "KP": "Korea, Democratic People's Republic of",
    "RU": "Russian Federation",
    "IR": "Iran, Islamic Republic of",
    "MD": "Moldova, Republic of",
    "TZ": "Tanzania, United Republic of",
    "CZ": "Czech Republic",
}


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    return dict(Locale("en").territories)


def country_name(code: str) -> str:
    """The Fortnox country name for an ISO 3166-1 alpha-2 code ('' when unknown)."""
    code = (code or "").strip().upper()
    if not code:
        return ""
    if code == "SE":
        return "Sverige"
    return _FORTNOX_NAMES.get(code) or _english().get(code, "")
