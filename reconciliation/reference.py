"""Currencies and their minor units (ISO 4217), written after each migrate."""

from typing import Any

# (code, name, minor units)
CURRENCIES: tuple[tuple[str, str, int], ...] = (
    ("USD", "US dollar", 2),
    ("EUR", "Euro", 2),
    ("GBP", "Pound sterling", 2),
    ("CHF", "Swiss franc", 2),
    ("SEK", "Swedish krona", 2),
    ("JPY", "Japanese yen", 0),
    ("BHD", "Bahraini dinar", 3),
)


def sync_currencies() -> None:
    from reconciliation.models import Currency

    for code, name, minor_units in CURRENCIES:
        Currency.objects.update_or_create(
            code=code, defaults={"name": name, "minor_units": minor_units}
        )


def sync_currencies_after_migrate(**kwargs: Any) -> None:
    sync_currencies()
