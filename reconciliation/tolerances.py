"""Tolerance profiles: which one applies to a document, and what it allows.

A company may keep several ``ToleranceProfile`` rows, each narrowed to a
customer, a product group, both or neither. ``ToleranceBook.for_scope``
returns the most specific active one, in this order:

1. the customer (its commercial partner) and the product group,
2. the customer, any product group,
3. the product group, any customer,
4. the company, any customer and product group,
5. the built-in default below, when the company has no profile at all.

The built-in default takes ``RECONCILIATION_LATE_DAYS`` and
``RECONCILIATION_PAYMENT_TOLERANCE`` from the settings, so a company without
profiles behaves as before profiles existed.
"""

import hashlib
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings

from reconciliation.models import Company, ToleranceProfile
from reconciliation.money import HUNDRED, payment_tolerance, quantum, within_tolerance

ZERO = Decimal(0)


@dataclass(frozen=True)
class Tolerance:
    """The values of one profile, as the checks and allocations read them."""

    name: str = "built-in default"
    qty_under_pct: Decimal = ZERO
    qty_over_pct: Decimal = ZERO
    over_billing_pct: Decimal = ZERO
    price_pct: Decimal = ZERO
    price_abs: Decimal = Decimal("0.01")
    abs_amount: Decimal = ZERO
    rounding_units_per_line: int = 1
    payment_tolerance_type: str = ToleranceProfile.PaymentToleranceType.FIXED
    payment_tolerance_value: Decimal = Decimal("0.01")
    fx_tolerance_pct: Decimal = Decimal(3)
    late_days: int = 0
    uninvoiced_days: int = 7
    return_credit_days: int = 14
    refund_days: int = 14

    @classmethod
    def from_profile(cls, profile: ToleranceProfile) -> "Tolerance":
        return cls(
            name=profile.name,
            qty_under_pct=profile.qty_under_pct,
            qty_over_pct=profile.qty_over_pct,
            over_billing_pct=profile.over_billing_pct,
            price_pct=profile.price_pct,
            price_abs=profile.price_abs,
            abs_amount=profile.abs_amount,
            rounding_units_per_line=profile.rounding_units_per_line,
            payment_tolerance_type=profile.payment_tolerance_type,
            payment_tolerance_value=profile.payment_tolerance_value,
            fx_tolerance_pct=profile.fx_tolerance_pct,
            late_days=profile.late_days,
            uninvoiced_days=profile.uninvoiced_days,
            return_credit_days=profile.return_credit_days,
            refund_days=profile.refund_days,
        )

    @cached_property
    def version(self) -> str:
        """Return a short hash of every value, stored on the matches it made."""
        # Decimals are normalized, so 0.0100 from the database and 0.01 from
        # code give one version.
        values = {
            key: value.normalize() if isinstance(value, Decimal) else value
            for key, value in asdict(self).items()
        }
        text = repr(sorted((key, str(value)) for key, value in values.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    # Prices

    def price_allowance(self, expected: Decimal) -> Decimal:
        """Return the larger of the absolute and the percentage allowance."""
        return max(self.price_abs, abs(expected) * self.price_pct / HUNDRED)

    def price_matches(self, *, expected: Decimal, actual: Decimal) -> bool:
        return within_tolerance(actual - expected, self.price_allowance(expected))

    # Quantities

    def is_over(self, *, ordered: Decimal, actual: Decimal) -> bool:
        return actual > ordered + ordered * self.qty_over_pct / HUNDRED

    def is_under(self, *, ordered: Decimal, actual: Decimal) -> bool:
        return actual < ordered - ordered * self.qty_under_pct / HUNDRED

    def is_over_billed(self, *, expected: Decimal, actual: Decimal) -> bool:
        return actual > expected + expected * self.over_billing_pct / HUNDRED

    # Money

    def rounding_allowance(self, *, lines: int, minor_units: int) -> Decimal:
        """Return the rounding allowed on a document: units per line times lines."""
        return self.rounding_units_per_line * max(lines, 1) * quantum(minor_units)

    def payment_allowance(self, total: Decimal) -> Decimal:
        """Return the payment residual that may be written off on ``total``."""
        if self.payment_tolerance_type == ToleranceProfile.PaymentToleranceType.PERCENT:
            return abs(total) * self.payment_tolerance_value / HUNDRED
        return self.payment_tolerance_value


def default_tolerance() -> Tolerance:
    """Return the built-in default, with the two values the settings give."""
    return Tolerance(
        late_days=settings.RECONCILIATION_LATE_DAYS,
        payment_tolerance_value=payment_tolerance(),
    )


class ToleranceBook:
    """The active profiles of one company, loaded once per matching pass."""

    def __init__(self, profiles: list[Tolerance | tuple[int | None, str, Tolerance]]):
        self._by_scope: dict[tuple[int | None, str], Tolerance] = {}
        # The profile ``for_scope`` found for each scope, since the book does
        # not change. A pass looks one up about 20 times per order.
        self._found: dict[tuple[int | None, str], Tolerance] = {}
        self._fallback = default_tolerance()
        for item in profiles:
            if isinstance(item, Tolerance):
                self._fallback = item
                continue
            customer_id, group, tolerance = item
            self._by_scope[(customer_id, group)] = tolerance
        self._fallback = self._by_scope.get((None, ""), self._fallback)

    @classmethod
    def for_company(cls, company: Company) -> "ToleranceBook":
        rows = ToleranceProfile.objects.filter(company=company, is_active=True)
        return cls(
            [
                (row.customer_id, row.product_group, Tolerance.from_profile(row))
                for row in rows.order_by("pk")
            ]
        )

    @classmethod
    def single(cls, tolerance: Tolerance) -> "ToleranceBook":
        """Return a book that applies ``tolerance`` to everything."""
        return cls([tolerance])

    def for_scope(self, *, customer_id: int | None, group: str = "") -> Tolerance:
        """Return the most specific profile for a customer and a product group."""
        found = self._found.get((customer_id, group))
        if found is None:
            found = self._find(customer_id, group)
            self._found[(customer_id, group)] = found
        return found

    def _find(self, customer_id: int | None, group: str) -> Tolerance:
        for key in (
            (customer_id, group),
            (customer_id, ""),
            (None, group),
        ):
            if key[0] is None and key[1] == "":
                continue
            found = self._by_scope.get(key)
            if found is not None:
                return found
        return self._fallback
