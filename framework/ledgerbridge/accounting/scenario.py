"""Which VAT treatment an order gets, and whether the shop's taxes allow it.

The default comes from the destination, the buyer's VAT number and the tax the shop charged:

=====================================================  ==========================================
situation                                              scenario
=====================================================  ==========================================
delivered in Sweden (or no country)                    ``domestic``
outside the EU VAT area, no Swedish VAT charged        ``export`` (foreign sales tax booked apart)
outside the EU VAT area, Swedish VAT charged           ``domestic`` (the VAT charged is owed)
EU, valid EU VAT number (not SE), no VAT charged       ``eu_reverse_charge``
EU, consumer (or VAT charged), site OSS registered     ``oss`` (destination-country VAT)
EU, consumer (or VAT charged), not OSS registered      ``eu_consumer`` (Swedish VAT)
=====================================================  ==========================================

The ``ledgerbridge_choose_vat_scenario`` hook may override it; :func:`check_scenario` then
refuses any scenario the shop's taxes contradict (e.g. foreign VAT without OSS) with a
``DataError`` — never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stdnum.eu import vat as eu_vat

from ledgerbridge.accounting.rates import eu_standard_rate, is_eu_country, is_swedish_rate
from ledgerbridge.accounting.territories import (
    in_eu_vat_area,
    normalize_country,
    special_territory,
)
from ledgerbridge.accounting.vat import ChargedTax
from ledgerbridge.contexts import RouteContext
from ledgerbridge.errors import DataError
from ledgerbridge.model.document import VatScenario
from ledgerbridge.model.order import Address, ItemKind, Order
from ledgerbridge.money import format_amount
from ledgerbridge.plugins.facade import Hooks

#: Scenarios in which the document carries Swedish VAT.
SWEDISH_VAT = frozenset({VatScenario.DOMESTIC, VatScenario.EU_CONSUMER})
#: Scenarios in which the document carries no VAT at all.
NO_VAT = frozenset({VatScenario.EU_REVERSE_CHARGE, VatScenario.EXPORT})


@dataclass(frozen=True, slots=True)
class VatNumberCheck:
    """The buyer's VAT number: normalized, and whether it qualifies for reverse charge."""

    number: str
    country: str
    valid: bool
    reason: str = ""
    checked_online: bool = False


@dataclass(frozen=True, slots=True)
class ScenarioDecision:
    """The scenario chosen for an order, the destination and what the document must say."""

    scenario: VatScenario
    country: str
    vat_number: VatNumberCheck | None
    texts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def destination_address(order: Order) -> Address:
    """Where the goods go: the shipping address when it has a country, else the billing one."""
    shipping = order.customer.shipping
    if shipping is not None and shipping.country:
        return shipping
    return order.customer.billing


def check_vat_number(order: Order, hooks: Hooks) -> VatNumberCheck | None:
    """The buyer's VAT number checked in format (python-stdnum) and online (plugins), or None.

    Online validation is the ``ledgerbridge_validate_vat_number`` hook (e.g. VIES); nothing
    implements it by default, and then the format decides.
    """
    raw = order.customer.vat_number.strip()
    if not raw:
        return None
    number = re.sub(r"[\s.\-/]", "", raw).upper()
    if number[:2].isdigit() or len(number) < 3:
        prefix = normalize_country(order.customer.country)
        number = ("EL" if prefix == "GR" else prefix) + number
    country = normalize_country(number[:2])
    if not is_eu_country(country):
        return VatNumberCheck(number, country, False, f"{raw} is not an EU VAT number")
    if country == "SE":
        return VatNumberCheck(number, country, False, f"{raw} is a Swedish VAT number")
    if not eu_vat.is_valid(number):
        return VatNumberCheck(number, country, False, f"{raw} is not a valid VAT number")
    online = hooks.validate_vat_number(number, country)
    if online is False:
        return VatNumberCheck(number, country, False, f"{raw} is not valid according to VIES")
    return VatNumberCheck(number, country, True, checked_online=online is True)


def _is_swedish(tax: ChargedTax, buyer_country: str = "") -> bool:
    # A shop below the distance-sale threshold lists each EU country at the Swedish rates
    # (a "*" row would also tax exports), so a Swedish rate labelled with the buyer's own
    # country is Swedish VAT; any other foreign label or rate is the other country's VAT.
    if tax.country == "SE":
        return True
    return tax.country in ("", buyer_country) and is_swedish_rate(tax.rate)


def _is_destination_vat(tax: ChargedTax, country: str, on: date) -> bool:
    standard = eu_standard_rate(country, on)
    if standard is None:
        return False
    if tax.country:
        return normalize_country(tax.country) == country and tax.rate <= standard
    return 0 < tax.rate <= standard


def _describe(tax: ChargedTax) -> str:
    where = f" ({tax.country})" if tax.country else ""
    return f"{format_amount(tax.amount)} at {tax.rate.normalize():f} %{where}"


def default_scenario(
    order: Order,
    route: RouteContext,
    taxes: tuple[ChargedTax, ...],
    vat_number: VatNumberCheck | None,
) -> tuple[VatScenario, list[str]]:
    """The scenario the rules choose by themselves, with warnings explaining a surprise."""
    address = destination_address(order)
    country = normalize_country(address.country)
    warnings: list[str] = []
    swedish_charged = [tax for tax in taxes if _is_swedish(tax)]
    if country in ("", "SE"):
        return VatScenario.DOMESTIC, warnings
    if not in_eu_vat_area(address):
        territory = special_territory(address)
        if territory is not None:
            warnings.append(
                f"The goods go to {territory.name}, outside the EU VAT area: treated as export."
            )
        if swedish_charged:
            warnings.append(
                f"Swedish VAT was charged on a sale to {country}, outside the EU VAT area; "
                "booked with the VAT charged, which must be reported. If the goods were "
                "exported, refund the VAT with a credit note and fix the shop's tax settings."
            )
            return VatScenario.DOMESTIC, warnings
        return VatScenario.EXPORT, warnings
    if vat_number is not None and not vat_number.valid:
        warnings.append(
            f"{vat_number.reason}: the buyer is treated as a consumer (no reverse charge)."
        )
    if vat_number is not None and vat_number.valid:
        if not taxes:
            return VatScenario.EU_REVERSE_CHARGE, warnings
        warnings.append(
            f"The buyer gave the VAT number {vat_number.number} but the shop charged VAT; "
            "booked with the VAT charged (no reverse charge)."
        )
    if route.site.oss_registered:
        return VatScenario.OSS, warnings
    return VatScenario.EU_CONSUMER, warnings


def check_scenario(
    scenario: VatScenario,
    order: Order,
    country: str,
    taxes: tuple[ChargedTax, ...],
    vat_number: VatNumberCheck | None,
    on: date,
) -> list[str]:
    """Refuse (``DataError``) a scenario the order's taxes contradict; return warnings."""
    warnings: list[str] = []
    reference = f"Order {order.number}"
    if scenario is VatScenario.EU_REVERSE_CHARGE:
        if vat_number is None or not vat_number.valid:
            reason = vat_number.reason if vat_number else "the buyer has no VAT number"
            raise DataError(
                f"{reference}: reverse charge needs the buyer's valid EU VAT number ({reason})."
            )
        if not is_eu_country(country) or country == "SE":
            raise DataError(
                f"{reference}: reverse charge applies to buyers in other EU countries, "
                f"not to {country or 'an address without country'}."
            )
    if scenario in NO_VAT:
        swedish = [tax for tax in taxes if _is_swedish(tax, country)]
        eu_foreign = [
            tax for tax in taxes if not _is_swedish(tax, country) and is_eu_country(tax.country)
        ]
        if scenario is VatScenario.EU_REVERSE_CHARGE and taxes:
            charged = ", ".join(_describe(tax) for tax in taxes)
            raise DataError(
                f"{reference}: the shop charged VAT ({charged}) on a reverse-charge sale. "
                "Either the buyer's VAT number is wrong or the shop must not charge VAT."
            )
        if swedish or eu_foreign:
            charged = ", ".join(_describe(tax) for tax in (*swedish, *eu_foreign))
            raise DataError(
                f"{reference}: the shop charged VAT ({charged}) on a sale booked as "
                f"{scenario.value}, which carries no VAT."
            )
        if scenario is VatScenario.EXPORT and country and in_eu_vat_area(Address(country=country)):
            warnings.append(
                f"Booked as export although the destination {country} is inside the EU VAT area."
            )
        return warnings
    if scenario in SWEDISH_VAT:
        foreign = [tax for tax in taxes if not _is_swedish(tax, country)]
        if foreign:
            charged = ", ".join(_describe(tax) for tax in foreign)
            raise DataError(
                f"{reference}: the shop charged foreign VAT ({charged}) but the site is not "
                "registered for OSS. Turn on 'OSS registered' for the site if the company "
                "reports OSS; otherwise fix the shop's tax rates for this country."
            )
        if scenario is VatScenario.EU_CONSUMER:
            _require_vat(reference, order, taxes, country)
        return warnings
    # OSS
    if not is_eu_country(country) or country == "SE":
        raise DataError(
            f"{reference}: OSS applies to consumers in other EU countries, "
            f"not to {country or 'an address without country'}."
        )
    _require_vat(reference, order, taxes, country)
    standard = eu_standard_rate(country, on) or Decimal(0)
    for tax in taxes:
        if not _is_destination_vat(tax, country, on):
            raise DataError(
                f"{reference}: the site is registered for OSS, so a consumer in {country} must "
                f"be charged {country} VAT (standard {standard.normalize():f} %), but the shop "
                f"charged {_describe(tax)}. Fix the shop's tax rates for {country}."
            )
        if tax.rate < standard:
            warnings.append(
                f"{tax.rate.normalize():f} % is below {country}'s standard rate "
                f"({standard.normalize():f} %): check that it is {country}'s reduced rate for "
                "these goods."
            )
    return warnings


def _require_vat(reference: str, order: Order, taxes: tuple[ChargedTax, ...], country: str) -> None:
    if not taxes and order.total > 0:
        raise DataError(
            f"{reference}: no VAT was charged to a consumer in {country}. A sale to an EU "
            "consumer carries VAT (Swedish, or the destination's under OSS); if the buyer is a "
            "business, add its valid VAT number to the order."
        )


def reverse_charge_texts(vat_number: VatNumberCheck, kinds: Iterable[ItemKind]) -> list[str]:
    """The invoice wording a reverse-charge sale must carry (goods and/or services)."""
    kinds = set(kinds)
    texts: list[str] = []
    if ItemKind.GOODS in kinds or not kinds:
        texts.append(
            "Undantagen från skatteplikt enligt 10 kap. 42 § mervärdesskattelagen / "
            "Intra-Community supply exempt under Article 138 of Directive 2006/112/EC."
        )
    if ItemKind.SERVICE in kinds:
        texts.append(
            "Omvänd betalningsskyldighet / Reverse charge (Article 196 of Directive 2006/112/EC)."
        )
    texts.append(f"Köparens momsregistreringsnummer / Buyer's VAT number: {vat_number.number}")
    return texts


EXPORT_TEXT = "Export utanför EU, ingen svensk moms / Export outside the EU, no Swedish VAT."


def decide_scenario(
    order: Order,
    route: RouteContext,
    hooks: Hooks,
    taxes: tuple[ChargedTax, ...],
    kinds: Iterable[ItemKind],
    on: date,
) -> ScenarioDecision:
    """The order's scenario: the rules' default, then the plugins' choice, then checked."""
    vat_number = check_vat_number(order, hooks)
    default, warnings = default_scenario(order, route, taxes, vat_number)
    scenario = hooks.choose_vat_scenario(order, route, default)
    country = normalize_country(destination_address(order).country)
    if scenario != default:
        warnings.append(
            f"A plugin chose the VAT scenario {scenario.value} (rules: {default.value})."
        )
    warnings.extend(check_scenario(scenario, order, country, taxes, vat_number, on))
    texts: list[str] = []
    if scenario is VatScenario.EU_REVERSE_CHARGE and vat_number is not None:
        texts.extend(reverse_charge_texts(vat_number, kinds))
        if not vat_number.checked_online:
            warnings.append(
                f"{vat_number.number} was checked in format only: reverse charge needs a "
                "VAT number that is valid in VIES; check it there (or install a plugin that "
                "implements ledgerbridge_validate_vat_number) and keep the answer."
            )
    elif scenario is VatScenario.EXPORT:
        texts.append(EXPORT_TEXT)
    return ScenarioDecision(scenario, country, vat_number, tuple(texts), tuple(warnings))
