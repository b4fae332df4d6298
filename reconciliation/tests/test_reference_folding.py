"""Invoice references that look the same on screen compare equal.

Imported and typed references can carry invisible characters (zero-width
spaces, byte order marks, soft hyphens) and Unicode dashes in place of
``-``. ``normalize_reference`` folds both kinds as a whole, so a duplicate
invoice is flagged whichever of them it carries.
"""

import sys
import unicodedata
from decimal import Decimal

import pytest
from django.db.models import F

from reconciliation.duplicates import find_duplicate_invoices, normalize_reference
from reconciliation.models import Invoice, Payment
from reconciliation.reference_keys import reference_key
from reconciliation.tests.factories import (
    PartyFactory,
    PaymentFactory,
    create_invoice,
    create_order,
)

BASE = "INV-2024-001"


def characters_in(category: str) -> list[str]:
    return [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == category
    ]


@pytest.mark.parametrize(
    "variant",
    [
        "INV-2024-001\u200b",  # zero-width space
        "\ufeffINV-2024-001",  # byte order mark
        "INV-2024\u00ad-001",  # soft hyphen
        "INV-\u200d2024-001",  # zero-width joiner
        "INV\u20102024\u2010001",  # hyphen
        "INV\u20112024\u2011001",  # non-breaking hyphen
        "INV\u20122024\u2012001",  # figure dash
        "INV\u20132024\u2013001",  # en dash
        "INV\u20142024\u2014001",  # em dash
        "INV\u22122024\u2212001",  # minus sign
        "INV\ufe632024\uff0d001",  # small and full-width hyphen-minus
        " inv-2024-001\u00a0",  # no-break space
        "INV-2024-001\t",
    ],
)
def test_variant_folds_to_base(variant):
    assert normalize_reference(variant) == "inv-2024-001"


def test_every_format_character_is_removed():
    format_characters = characters_in("Cf")

    not_removed = [
        f"U+{ord(char):04X}"
        for char in format_characters
        if normalize_reference(f"INV-20{char}24-001") != "inv-2024-001"
    ]

    assert len(format_characters) > 150
    assert not_removed == []


def test_every_dash_folds_to_hyphen_minus():
    dashes = characters_in("Pd")

    unfolded = [
        f"U+{ord(char):04X}"
        for char in dashes
        if normalize_reference(f"INV{char}2024{char}001") != "inv-2024-001"
    ]

    assert len(dashes) > 20
    assert unfolded == []


@pytest.mark.parametrize(
    "other",
    ["INV-2024-002", "INV2024001", "INV 2024 001", "INV_2024_001", "INV.2024.001"],
)
def test_different_reference_stays_different(other):
    assert normalize_reference(other) != normalize_reference(BASE)


def test_inner_whitespace_folds_to_one_space():
    assert normalize_reference("INV 2024\u2003 001") == "inv 2024 001"


@pytest.mark.django_db
def test_duplicate_with_invisible_characters_is_flagged(customer_party):
    order = create_order(company=customer_party.company, customer=customer_party)
    original = create_invoice(order=order, reference=BASE)
    copy = create_invoice(order=order, reference="\ufeffINV\u20112024\u2013001\u200b")

    duplicates = find_duplicate_invoices(company=customer_party.company)

    assert list(duplicates) == [copy.pk]
    assert duplicates[copy.pk].number == original.number


def test_duplicates_of_some_partners_match_the_whole_company(customer_party):
    company = customer_party.company
    contact = PartyFactory.create(company=company, parent=customer_party)
    other = PartyFactory.create(company=company)
    first = create_invoice(order=create_order(customer=customer_party), reference=BASE)
    # A child contact bills for its parent, the same commercial partner.
    copy = create_invoice(order=create_order(customer=contact), reference=BASE)
    create_invoice(order=create_order(customer=other), reference="OTHER-1")
    other_copy = create_invoice(order=create_order(customer=other), reference="OTHER-1")

    whole = find_duplicate_invoices(company=company)
    limited = find_duplicate_invoices(company=company, partners={customer_party.pk})

    assert set(whole) == {copy.pk, other_copy.pk}
    assert limited == {copy.pk: whole[copy.pk]}
    assert limited[copy.pk].number == first.number


# Stored reference keys follow every way a number or reference is written.


@pytest.mark.django_db
def test_keys_written_on_save_and_update():
    invoice = create_invoice(order=create_order(), reference="PO 4471/A")
    assert (invoice.number_key, invoice.reference_key) == (
        reference_key(invoice.number),
        "po4471a",
    )

    Invoice.objects.filter(pk=invoice.pk).update(reference="Ref. 9-9")
    invoice.refresh_from_db()
    assert invoice.reference_key == "ref99"

    invoice.reference = "ÄB 1"
    invoice.save(update_fields=["reference"])
    invoice.refresh_from_db()
    assert invoice.reference_key == "ab1"


@pytest.mark.django_db
def test_keys_written_in_bulk():
    first = PaymentFactory.create(reference="x")
    template = {
        "company": first.company,
        "currency": first.currency,
        "amount": Decimal("1.00"),
        "value_date": first.value_date,
    }
    created = Payment.objects.bulk_create(
        [Payment(number="B-1", reference="Inv.10248", **template)]
    )
    assert Payment.objects.get(pk=created[0].pk).reference_key == "inv10248"

    first.reference = "INV 7"
    Payment.objects.bulk_update([first], ["reference"])
    first.refresh_from_db()
    assert first.reference_key == "inv7"


@pytest.mark.django_db
def test_update_with_expression_rejected():
    invoice = create_invoice(order=create_order(), reference="PO-1")

    with pytest.raises(TypeError) as error:
        Invoice.objects.filter(pk=invoice.pk).update(reference=F("number"))

    assert "Invoice.reference was updated with F(number)" in str(error.value)
    invoice.refresh_from_db()
    assert invoice.reference_key == "po1"
