"""Bank references that write an invoice number differently still find it.

Bank exports change case, spacing and punctuation, and drop or keep
accents: ``inv 10248``, ``INV-10248`` and ``Inv.10248`` all name invoice
INV-10248. Each test imports real files: a CAMT.053 statement whose
booked credit of 363.60 USD has no payer and one such reference, or a CSV
of payments with an empty customer, and a CSV of invoices. The payment
must be placed on the invoice whichever file comes first, and by the
whole-company pass. When INV-1-0248 is imported too, the two numbers share
a key, and only a reference that is one of the numbers as text places the
payment. Named people: fiona (finance clerk).
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from imports.services import commit_file, stage_upload
from imports.tests.conftest import FILES, PAYMENT_MAPPING, make_source
from reconciliation.matching import run_matching
from reconciliation.models import Allocation, Discrepancy, Invoice, Payment
from reconciliation.reference_keys import reference_key

pytestmark = pytest.mark.django_db

# How bank exports write the reference of invoice INV-10248.
BANK_REFERENCES = [
    "inv 10248",
    "INV-10248",
    "Inv.10248",
    "INV/10248",
    "  inv - 10248 ",
    "INV_10248",
    "Inv\u00a010248",  # no-break space
    "INV\u201310248",  # en dash
    "\uff29\uff2e\uff36\uff0d\uff11\uff10\uff12\uff14\uff18",  # full-width
]
INVOICE_MAPPING = {
    "number": "Invoice",
    "customer": "Customer",
    "invoice_date": "Date",
    "due_date": "Due",
    "amount_total": "Total",
}
INVOICE_CSV = (
    "Invoice,Customer,Date,Due,Total\nINV-10248,ALFKI,2024-03-20,2024-04-20,363.60\n"
)


def commit(source, data: str, actor, file_name: str = "upload.csv"):
    sha256 = stage_upload(data=data.encode(), file_name=file_name)
    batch = commit_file(source=source, sha256=sha256, actor=actor)
    assert batch.status == batch.Status.COMMITTED
    return batch


def statement_with(reference: str) -> str:
    """Return the CAMT.053 test statement with ``reference`` as its credit's."""
    data = (FILES / "camt053_v02.xml").read_text()
    assert data.count("<Ustrd>INV-1001</Ustrd>") == 1
    return data.replace("<Ustrd>INV-1001</Ustrd>", f"<Ustrd>{reference}</Ustrd>")


def payments_csv_with(reference: str) -> str:
    """Return a CSV of one payment of 363.60 USD with no customer."""
    return (
        "Payment,Customer,Date,Currency,Amount,Reference\n"
        f'P-77,,2024-03-29,USD,363.60,"{reference}"\n'
    )


def placed_on(invoice: Invoice) -> list[tuple[str, Decimal]]:
    rows = Allocation.objects.filter(invoice=invoice).select_related("payment")
    return [(row.payment.reference, row.amount) for row in rows]


@pytest.fixture
def invoices(company, clerk, parties):
    return make_source(company, clerk, "invoices", mapping=INVOICE_MAPPING)


@pytest.fixture
def bank(company, clerk):
    return make_source(company, clerk, "payments", file_format="camt053")


@pytest.fixture
def payments(company, clerk, parties):
    return make_source(company, clerk, "payments", mapping=PAYMENT_MAPPING)


@pytest.mark.parametrize("reference", BANK_REFERENCES)
def test_reference_key_folds_bank_forms(reference):
    assert reference_key(reference) == "inv10248"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Rechnung Nr. Ä-17", "rechnungnra17"),
        ("FAÇADE 9", "facade9"),
        ("Straße 4", "strasse4"),
        ("--- / ---", ""),
        ("", ""),
    ],
)
def test_reference_key_drops_accents_and_marks(text, key):
    assert reference_key(text) == key


@pytest.mark.parametrize("reference", BANK_REFERENCES)
def test_statement_then_invoices_places_payment(
    invoices,
    bank,
    clerk,
    reference,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, statement_with(reference), clerk, "statement.xml")
    waiting = Payment.objects.get()
    assert waiting.party is None
    assert waiting.amount_unallocated == Decimal("363.60")

    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, INVOICE_CSV, clerk)

    invoice = Invoice.objects.get(number="INV-10248")
    assert placed_on(invoice) == [(reference.strip(), Decimal("363.60"))]
    invoice.refresh_from_db()
    assert invoice.amount_residual == Decimal("0.00")


@pytest.mark.parametrize("reference", BANK_REFERENCES)
def test_invoices_then_statement_places_payment(
    invoices,
    bank,
    clerk,
    reference,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, INVOICE_CSV, clerk)

    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, statement_with(reference), clerk, "statement.xml")

    invoice = Invoice.objects.get(number="INV-10248")
    assert placed_on(invoice) == [(reference.strip(), Decimal("363.60"))]


@pytest.mark.parametrize("reference", ["inv 10248", "Inv.10248", "INV/10248"])
def test_csv_payments_then_invoices_places_payment(
    invoices,
    payments,
    clerk,
    reference,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(payments, payments_csv_with(reference), clerk)
    waiting = Payment.objects.get(number="P-77")
    assert waiting.party is None

    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, INVOICE_CSV, clerk)

    invoice = Invoice.objects.get(number="INV-10248")
    assert placed_on(invoice) == [(reference, Decimal("363.60"))]


@pytest.mark.parametrize("reference", ["inv 10248", "Inv.10248", "INV/10248"])
def test_full_pass_places_payment(invoices, bank, clerk, company, reference):
    commit(invoices, INVOICE_CSV, clerk)
    commit(bank, statement_with(reference), clerk, "statement.xml")
    assert not Allocation.objects.exists()

    run_matching(company=company, as_of=timezone.localdate())

    invoice = Invoice.objects.get(number="INV-10248")
    assert placed_on(invoice) == [(reference, Decimal("363.60"))]


TWO_INVOICES_CSV = INVOICE_CSV + "INV-1-0248,ALFKI,2024-03-20,2024-04-20,363.60\n"
AMBIGUOUS = (
    "Its reference fits invoices INV-1-0248 and INV-10248 alike, so no rule "
    "chose one: allocate it by hand to the invoice the payer meant."
)


def unapplied_text() -> str:
    """Return the text of the case of the payment of 363.60 USD."""
    case = Discrepancy.objects.get(
        code="UNAPPLIED_PAYMENT", payment__amount=Decimal("363.60")
    )
    return case.explanation


def test_key_shared_by_two_invoices_places_nothing(
    invoices, bank, clerk, company, settings, django_capture_on_commit_callbacks
):
    # INV-1-0248 and INV-10248 differ only in a dash, so the reference
    # names neither of them for sure.
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, TWO_INVOICES_CSV, clerk)
        commit(bank, statement_with("inv 10248"), clerk, "statement.xml")
    assert not Allocation.objects.exists()
    assert unapplied_text().endswith(AMBIGUOUS)

    run_matching(company=company, as_of=timezone.localdate())

    assert not Allocation.objects.exists()
    assert unapplied_text().endswith(AMBIGUOUS)


EXACT_REFERENCES = [
    ("INV-10248", "INV-10248"),
    (" inv-10248 ", "INV-10248"),
    ("INV-1-0248", "INV-1-0248"),
    ("inv\u20131\u20130248", "INV-1-0248"),  # en dashes
]


@pytest.mark.parametrize(("reference", "number"), EXACT_REFERENCES)
def test_statement_then_invoices_exact_reference(
    invoices,
    bank,
    clerk,
    reference,
    number,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, statement_with(reference), clerk, "statement.xml")

    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, TWO_INVOICES_CSV, clerk)

    paid = Invoice.objects.get(number=number)
    assert placed_on(paid) == [(reference.strip(), Decimal("363.60"))]
    other = Invoice.objects.exclude(number=number).get()
    assert placed_on(other) == []


@pytest.mark.parametrize(("reference", "number"), EXACT_REFERENCES)
def test_invoices_then_statement_exact_reference(
    invoices,
    bank,
    clerk,
    reference,
    number,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, TWO_INVOICES_CSV, clerk)

    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, statement_with(reference), clerk, "statement.xml")

    paid = Invoice.objects.get(number=number)
    assert placed_on(paid) == [(reference.strip(), Decimal("363.60"))]
    assert placed_on(Invoice.objects.exclude(number=number).get()) == []


@pytest.mark.parametrize(("reference", "number"), EXACT_REFERENCES[:3])
def test_csv_payments_exact_reference(
    invoices,
    payments,
    clerk,
    company,
    reference,
    number,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(payments, payments_csv_with(reference), clerk)

    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, TWO_INVOICES_CSV, clerk)

    paid = Invoice.objects.get(number=number)
    assert placed_on(paid) == [(reference.strip(), Decimal("363.60"))]
    assert placed_on(Invoice.objects.exclude(number=number).get()) == []


def test_csv_payment_shared_key_explained(
    invoices, payments, clerk, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(payments, payments_csv_with("Inv.10248"), clerk)

    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, TWO_INVOICES_CSV, clerk)

    assert not Allocation.objects.exists()
    assert unapplied_text().endswith(AMBIGUOUS)


def test_new_invoice_of_paid_key_takes_no_payment(
    invoices, bank, clerk, settings, django_capture_on_commit_callbacks
):
    # INV-10248 is paid by the first statement. A second statement pays
    # INV-10248 again, and then INV-1-0248 is imported: the check after
    # that import must not place the second payment on INV-1-0248.
    settings.IMPORT_RUN_MATCHING = True
    with django_capture_on_commit_callbacks(execute=True):
        commit(invoices, INVOICE_CSV, clerk)
        commit(bank, statement_with("INV-10248"), clerk, "statement.xml")
    again = statement_with("INV-10248").replace("<Id>STMT-", "<Id>STMT-AGAIN-")
    assert again != statement_with("INV-10248")
    with django_capture_on_commit_callbacks(execute=True):
        commit(bank, again, clerk, "statement-2.xml")
    assert Payment.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        commit(
            invoices,
            "Invoice,Customer,Date,Due,Total\n"
            "INV-1-0248,ALFKI,2024-03-20,2024-04-20,363.60\n",
            clerk,
        )

    assert placed_on(Invoice.objects.get(number="INV-1-0248")) == []
    assert len(placed_on(Invoice.objects.get(number="INV-10248"))) == 1
