"""The sandbox shop's fixed data: tax rates, products, shipping methods, coupons, customers.

A Swedish coffee-and-kitchen shop, "Kaffekompaniet", that enters prices including VAT
(reference §2.5 setup). Tax classes: standard 25 %, ``food`` (12 % until 2026-03-31, 6 % from
2026-04-01: the shop owner switched the rate on that day), ``books`` 6 %, ``zero-rate`` 0 %.
The rates exist for Sweden and every other EU country at the Swedish rate (distance sales under
the 10 000 EUR threshold are taxed in Sweden); Norway and the US match no rate, so their orders
carry no VAT, as WooCommerce does it. EU companies with a VAT number get VAT-exempt orders, as
the EU VAT plugins arrange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

FOOD_CUT = date(2026, 4, 1)

EU_COUNTRIES = tuple(
    [
        "SE",
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SI",
        "SK",
    ]
)


@dataclass(frozen=True, slots=True)
class TaxRateRow:
    """One row of WooCommerce's tax table (``GET /taxes``)."""

    id: int
    country: str
    rate: Decimal
    name: str
    tax_class: str  # "" is the standard class
    shipping: bool = True
    valid_from: date | None = None
    valid_to: date | None = None

    @property
    def rest_class(self) -> str:
        """The class as ``/taxes`` names it (``standard`` for "")."""
        return self.tax_class or "standard"

    def applies(self, country: str, tax_class: str, on: date) -> bool:
        """Whether this row taxes a line of ``tax_class`` to ``country`` on ``on``."""
        if self.country != country or self.tax_class != tax_class:
            return False
        if self.valid_from is not None and on < self.valid_from:
            return False
        return not (self.valid_to is not None and on > self.valid_to)


_RATE_KINDS = (
    # (class, rate, name, valid_from, valid_to)
    ("", Decimal("25"), "Moms 25%", None, None),
    ("food", Decimal("12"), "Moms 12%", None, date(2026, 3, 31)),
    ("food", Decimal("6"), "Moms 6%", FOOD_CUT, None),
    ("books", Decimal("6"), "Moms 6%", None, None),
    ("zero-rate", Decimal("0"), "Momsfri", None, None),
)


def tax_rate_rows() -> list[TaxRateRow]:
    """Rows for Sweden (ids 1-5) then every other EU country at the same rates."""
    rows: list[TaxRateRow] = []
    next_id = 1
    for country in EU_COUNTRIES:
        for tax_class, rate, name, valid_from, valid_to in _RATE_KINDS:
            rows.append(
                TaxRateRow(next_id, country, rate, name, tax_class, True, valid_from, valid_to)
            )
            next_id += 1
    return rows


@dataclass
class ProductRecord:
    """A product or variation in the sandbox catalogue. ``price`` includes VAT, in SEK."""

    id: int
    name: str
    sku: str
    price: Decimal
    tax_class: str = ""
    type: str = "simple"
    parent_id: int = 0
    virtual: bool = False
    downloadable: bool = False
    manage_stock: bool = True
    stock_quantity: int | None = 50
    weight: str = ""
    attributes: list[dict[str, str]] = field(default_factory=list)
    variations: list[int] = field(default_factory=list)
    status: str = "publish"


def products() -> list[ProductRecord]:
    """The catalogue: goods at every rate, variable products, services and e-books."""
    items = [
        ProductRecord(
            311, "Kaffebryggare Classic", "KB-CLASSIC-BLK", Decimal("1249.00"), weight="2.4"
        ),
        ProductRecord(312, "Kaffekvarn Manuell", "KVARN-MAN", Decimal("899.00"), weight="0.9"),
        ProductRecord(313, "Termos 1 l", "TERMOS-1L", Decimal("349.00"), weight="0.6"),
        ProductRecord(
            412,
            "Ekologiskt kaffe",
            "KAFFE-EKO-500",
            Decimal("89.00"),
            "food",
            type="variable",
            variations=[415, 416],
            manage_stock=False,
            stock_quantity=None,
        ),
        ProductRecord(
            415,
            "Ekologiskt kaffe - Mörkrost",
            "KAFFE-EKO-500-MORK",
            Decimal("89.00"),
            "food",
            type="variation",
            parent_id=412,
            stock_quantity=120,
            attributes=[{"name": "Rostning", "option": "Mörkrost"}],
        ),
        ProductRecord(
            416,
            "Ekologiskt kaffe - Mellanrost",
            "KAFFE-EKO-500-MELL",
            Decimal("89.00"),
            "food",
            type="variation",
            parent_id=412,
            stock_quantity=80,
            attributes=[{"name": "Rostning", "option": "Mellanrost"}],
        ),
        ProductRecord(420, "Te-sortiment", "TE-SORT", Decimal("129.00"), "food"),
        ProductRecord(421, "Mörk choklad 70 %", "CHOKLAD-70", Decimal("45.00"), "food"),
        ProductRecord(
            430, "Kokbok Svensk fika", "BOK-FIKA", Decimal("299.00"), "books", weight="0.8"
        ),
        ProductRecord(
            431,
            "E-bok Bryggguiden",
            "EBOK-BRYGG",
            Decimal("149.00"),
            "books",
            virtual=True,
            downloadable=True,
            manage_stock=False,
            stock_quantity=None,
        ),
        ProductRecord(
            440,
            "Baristakurs (online)",
            "KURS-BARISTA",
            Decimal("1495.00"),
            virtual=True,
            manage_stock=False,
            stock_quantity=None,
        ),
        ProductRecord(
            441,
            "Konsultation kaffemaskin",
            "KONSULT-1H",
            Decimal("995.00"),
            virtual=True,
            manage_stock=False,
            stock_quantity=None,
        ),
        ProductRecord(
            450,
            "T-shirt Kaffekompaniet",
            "TSHIRT",
            Decimal("249.00"),
            type="variable",
            variations=[451, 452],
            manage_stock=False,
            stock_quantity=None,
        ),
        ProductRecord(
            451,
            "T-shirt Kaffekompaniet - M",
            "TSHIRT-M",
            Decimal("249.00"),
            type="variation",
            parent_id=450,
            stock_quantity=30,
            attributes=[{"name": "Storlek", "option": "M"}],
        ),
        ProductRecord(
            452,
            "T-shirt Kaffekompaniet - L",
            "TSHIRT-L",
            Decimal("249.00"),
            type="variation",
            parent_id=450,
            stock_quantity=25,
            attributes=[{"name": "Storlek", "option": "L"}],
        ),
        ProductRecord(460, "Utgående espressokopp", "KOPP-UTG", Decimal("59.00")),
    ]
    return items


#: A product the seeder sells and then deletes, so some orders point at a deleted product.
DELETED_PRODUCT_ID = 460


@dataclass(frozen=True, slots=True)
class ShippingMethod:
    """A shipping rate; ``cost`` excludes VAT as WooCommerce stores it."""

    method_id: str
    instance_id: str
    title: str
    cost: Decimal


SHIPPING = (
    ShippingMethod("flat_rate", "3", "PostNord MyPack Home", Decimal("39.20")),
    ShippingMethod("flat_rate", "4", "DB Schenker Ombud", Decimal("63.20")),
    ShippingMethod("free_shipping", "5", "Fri frakt", Decimal("0.00")),
    ShippingMethod("local_pickup", "6", "Hämta i butik", Decimal("0.00")),
)


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon: ``percent`` off every line, or a ``fixed_cart`` amount (incl. VAT)."""

    id: int
    code: str
    discount_type: str
    amount: Decimal


COUPONS = (
    Coupon(877, "valkommen10", "percent", Decimal("10")),
    Coupon(878, "fika50", "fixed_cart", Decimal("50")),
    Coupon(879, "gratis", "percent", Decimal("100")),
)


@dataclass(frozen=True, slots=True)
class Buyer:
    """A customer profile the seeder draws from."""

    first_name: str
    last_name: str
    email: str
    address_1: str
    postcode: str
    city: str
    country: str
    phone: str = ""
    company: str = ""
    vat_number: str = ""
    org_number: str = ""
    registered: bool = True
    currency: str = "SEK"

    @property
    def vat_exempt(self) -> bool:
        """EU companies outside Sweden with a VAT number buy without VAT (reverse charge)."""
        return bool(self.vat_number) and self.country != "SE" and self.country in EU_COUNTRIES


BUYERS = (
    Buyer(
        "Anna",
        "Lindqvist",
        "anna.lindqvist@example.se",
        "Sveavägen 44",
        "111 34",
        "Stockholm",
        "SE",
        "+46701234567",
    ),
    Buyer(
        "Erik",
        "Johansson",
        "erik.j@example.se",
        "Kungsgatan 12",
        "411 19",
        "Göteborg",
        "SE",
        "+46709876543",
        registered=False,
    ),
    Buyer(
        "Maria",
        "Andersson",
        "maria.andersson@example.se",
        "Storgatan 3",
        "903 26",
        "Umeå",
        "SE",
        "+46731112233",
    ),
    Buyer(
        "Lars",
        "Nilsson",
        "lars@example.se",
        "Drottninggatan 8",
        "252 21",
        "Helsingborg",
        "SE",
        registered=False,
    ),
    Buyer(
        "Karin",
        "Berg",
        "ekonomi@bergsbageri.example.se",
        "Industrivägen 5",
        "723 48",
        "Västerås",
        "SE",
        "+4621123456",
        company="Bergs Bageri AB",
        vat_number="SE556677889901",
        org_number="556677-8899",
    ),
    Buyer(
        "Johan",
        "Ek",
        "johan@ekdesign.example.se",
        "Hamngatan 2",
        "211 22",
        "Malmö",
        "SE",
        company="Ek Design AB",
        org_number="5561234567",
    ),
    Buyer(
        "Jonas",
        "Weber",
        "einkauf@kaffeehaus.example.de",
        "Hauptstraße 17",
        "10115",
        "Berlin",
        "DE",
        "+49301234567",
        company="Kaffeehaus Weber GmbH",
        vat_number="DE136695976",
        currency="EUR",
    ),
    Buyer(
        "Aino",
        "Virtanen",
        "aino@kahvila.example.fi",
        "Mannerheimintie 5",
        "00100",
        "Helsinki",
        "FI",
        company="Kahvila Oy",
        vat_number="FI20774740",
        currency="EUR",
    ),
    Buyer(
        "Lukas",
        "Schmidt",
        "lukas.schmidt@example.de",
        "Lindenweg 4",
        "80331",
        "München",
        "DE",
        currency="EUR",
        registered=False,
    ),
    Buyer("Sofie", "Jensen", "sofie@example.dk", "Nørregade 9", "1165", "København", "DK"),
    Buyer(
        "Ola",
        "Nordmann",
        "ola@example.no",
        "Karl Johans gate 1",
        "0154",
        "Oslo",
        "NO",
        "+4722123456",
    ),
    Buyer(
        "Emily",
        "Carter",
        "emily.carter@example.com",
        "500 Market St",
        "94105",
        "San Francisco",
        "US",
        "+14155550100",
        registered=False,
    ),
)

#: Currency conversion the shop's multi-currency plugin applies to SEK catalogue prices.
SEK_PER_EUR = Decimal("11.50")
