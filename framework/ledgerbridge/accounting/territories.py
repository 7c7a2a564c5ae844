"""Where an address is for VAT: Sweden, another EU member state, or outside the EU VAT area.

Some parts of member states are outside the EU VAT area (the Canary Islands, Åland,
Heligoland...): goods sent there are exports. WooCommerce gives some of them a country code of
their own (``AX`` Åland, ``GP``/``RE``... French overseas departments), which are not EU codes
anyway; the others are recognised here by state or postcode.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.accounting.rates import VAT_PREFIX_TO_COUNTRY, is_eu_country
from ledgerbridge.model.order import Address


@dataclass(frozen=True, slots=True)
class SpecialTerritory:
    """A part of an EU member state outside the EU VAT area, found by state or postcode."""

    name: str
    country: str
    states: frozenset[str] = frozenset()
    postcode_prefixes: tuple[str, ...] = ()


SPECIAL_TERRITORIES: tuple[SpecialTerritory, ...] = (
    SpecialTerritory("the Canary Islands", "ES", frozenset({"GC", "TF"}), ("35", "38")),
    SpecialTerritory("Ceuta", "ES", frozenset({"CE"}), ("51",)),
    SpecialTerritory("Melilla", "ES", frozenset({"ML"}), ("52",)),
    SpecialTerritory("Åland", "FI", frozenset(), ("22",)),
    SpecialTerritory("Heligoland", "DE", frozenset(), ("27498",)),
    SpecialTerritory("Büsingen am Hochrhein", "DE", frozenset(), ("78266",)),
    SpecialTerritory("Livigno", "IT", frozenset(), ("23041",)),
    SpecialTerritory("Campione d'Italia", "IT", frozenset(), ("22061",)),
    SpecialTerritory("Mount Athos", "GR", frozenset(), ("63086",)),
    SpecialTerritory(
        "the French overseas departments", "FR", frozenset(), ("971", "972", "973", "974", "976")
    ),
)


def normalize_country(country: str) -> str:
    """An upper-case ISO alpha-2 code (``EL`` becomes ``GR``)."""
    code = country.strip().upper()
    return VAT_PREFIX_TO_COUNTRY.get(code, code)


def special_territory(address: Address) -> SpecialTerritory | None:
    """The special territory ``address`` lies in, or None."""
    country = normalize_country(address.country)
    postcode = "".join(address.postcode.split())
    state = address.state.strip().upper()
    for territory in SPECIAL_TERRITORIES:
        if territory.country != country:
            continue
        if state and state in territory.states:
            return territory
        if postcode and postcode.startswith(territory.postcode_prefixes):
            return territory
    return None


def in_eu_vat_area(address: Address) -> bool:
    """Whether goods delivered to ``address`` stay inside the EU VAT area."""
    return is_eu_country(normalize_country(address.country)) and special_territory(address) is None
