"""Splitting an amount of money into öre-exact parts.

Every split in the rules (shipping over VAT rates, an amount-only refund over the original
rates) goes through :func:`allocate`, so the parts always add up to the whole, to the öre.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from ledgerbridge.money import ORE, ZERO


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (öre) in proportion to ``weights`` (all >= 0), to the öre.

    Largest-remainder method: every part is its exact share rounded down to the öre, then the
    öre left over go one by one to the parts with the largest cut-off remainder (the later
    part wins a tie). Each part therefore lies within one öre of its exact share, and never
    above ``total``'s share of a weight. Zero weights get zero; all-zero weights give the
    whole amount to the last part.
    """
    if not weights:
        raise ValueError("allocate() needs at least one weight")
    if any(weight < 0 for weight in weights):
        raise ValueError("allocate() weights must not be negative")
    sign = Decimal(-1) if total < 0 else Decimal(1)
    amount = abs(total)
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        return [ZERO] * (len(weights) - 1) + [total]
    exact = [amount * weight / weight_sum for weight in weights]
    parts = [share.quantize(ORE, rounding=ROUND_FLOOR) for share in exact]
    left = int((amount - sum(parts, ZERO)) / ORE)
    order = sorted(range(len(weights)), key=lambda index: (exact[index] - parts[index], index))
    for index in order[len(order) - left :]:
        parts[index] += ORE
    return [sign * part for part in parts]
