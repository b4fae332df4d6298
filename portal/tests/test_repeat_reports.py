"""A goods report on a shipment line with an open report asks about the units.

Carla (Alfreds Futterkiste) reported 2 damaged on a line that shipped 10.
When she or a colleague reports damage on that line again while the case
is open, the form shows the open report, and the customer answers whether
the new report is about the same units (files and description go to the
open report) or about more units (the case's quantity rises). Bruno of
another customer company, Bon app', never sees or changes Carla's reports.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of
from library.tests.conftest import PNG_BYTES
from portal.models import ProblemReport
from portal.services import ProblemInput, Repeat, report_problem
from reconciliation.models import Discrepancy, ShipmentLine
from reconciliation.tests.factories import create_order, create_shipment
from reconciliation.work import WorkError
from social.tests.test_duplicate_posts import run_together

Kind = ProblemReport.Kind


@pytest.fixture
def order(customer_party, sales_rep):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-REP-1")
    return order


@pytest.fixture
def bruno(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party, group="customers")


@pytest.fixture
def bruno_order(other_party, sales_rep):
    order = create_order(
        lines=[("4", "12.00")],
        company=other_party.company,
        customer=other_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order, number="SH-BON-1")
    return order


def line_of(order) -> ShipmentLine:
    return ShipmentLine.objects.get(shipment__order=order)


def report(
    customer,
    order,
    qty: str = "2",
    *,
    repeat: str = "",
    kind: str = Kind.DAMAGED,
    message: str = "Crushed boxes",
) -> ProblemReport:
    return report_problem(
        customer=customer,
        order=order,
        problem=ProblemInput(
            kind=kind,
            message=message,
            shipment_line=line_of(order),
            quantity=Decimal(qty),
            repeat=repeat,
        ),
        evidence=[],
    )


def damage_case(order) -> Discrepancy:
    return Discrepancy.objects.get(order=order, code="DAMAGED")


def form_url(order) -> str:
    return f"/reconciliation/portal/orders/{order.number}/problem/"


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def damage_form(order, qty: str = "2", repeat: str = "") -> dict[str, str]:
    return {
        "kind": Kind.DAMAGED,
        "line": str(line_of(order).pk),
        "quantity": qty,
        "message": "Crushed boxes",
        "repeat": repeat,
    }


@pytest.mark.django_db
def test_repeat_without_answer_names_open_report(customer, order):
    first = report(customer, order)

    with pytest.raises(WorkError) as error:
        report(customer, order, message="Two more boxes crushed")

    reported_on = f"{timezone.localtime(first.reported_at):%Y-%m-%d}"
    assert str(error.value) == (
        f"Shipment SH-REP-1, line 1 already has an open report of 2 damaged, sent "
        f"on {reported_on} (case {first.case_id}). Choose whether your report is "
        "about the same units, to add your files and description to that report, "
        "or about more units, to add your quantity to the case."
    )
    assert ProblemReport.objects.count() == 1
    assert damage_case(order).actual_value == Decimal(2)


@pytest.mark.django_db
def test_more_units_raise_case_quantity(customer, order):
    first = report(customer, order)

    # The same figures and text as the first report, minutes later. Only the
    # "more units" answer sets it apart from a repeated click.
    more = report(customer, order, repeat=Repeat.MORE)

    assert more.pk != first.pk
    assert more.case_id == first.case_id
    assert more.more_units
    assert not ProblemReport.objects.get(pk=first.pk).more_units
    assert damage_case(order).actual_value == Decimal(4)
    assert line_of(order).qty_damaged == Decimal(4)
    event = AuditEvent.objects.get(action="case.report_added")
    assert event.object_id == str(first.case_id)
    assert Decimal(event.before["actual_value"]) == Decimal(2)
    assert Decimal(event.after["actual_value"]) == Decimal(4)
    reported = AuditEvent.objects.get(action="problem.reported", object_id=str(more.pk))
    assert reported.after["more_units_than_report"] == first.pk


@pytest.mark.django_db
def test_more_missing_units_lower_received(customer, order):
    report(customer, order, "3", kind=Kind.MISSING)

    report(customer, order, "1", kind=Kind.MISSING, repeat=Repeat.MORE)

    assert line_of(order).qty_received == Decimal(6)
    case = Discrepancy.objects.get(order=order, code="NOT_RECEIVED")
    assert case.actual_value == Decimal(6)


@pytest.mark.django_db
def test_more_units_past_shipped_rejected(customer, order):
    report(customer, order, "8")

    with pytest.raises(WorkError) as error:
        report(customer, order, "3", repeat=Repeat.MORE)

    assert str(error.value) == (
        "You reported 3 damaged, but shipment SH-REP-1, line 1 shipped 10 with "
        "0 already reported missing and 8 damaged: at most 2 can still be "
        "reported. Enter a smaller quantity, or write to us if an earlier "
        "report was wrong."
    )
    assert ProblemReport.objects.count() == 1
    assert damage_case(order).actual_value == Decimal(8)
    assert not AuditEvent.objects.filter(action="case.report_added").exists()


@pytest.mark.django_db
def test_same_units_keep_case_quantity(customer, order):
    first = report(customer, order)

    same = report(customer, order, repeat=Repeat.SAME, message="Photo of the pallet")

    assert same.pk == first.pk
    assert ProblemReport.objects.count() == 1
    assert damage_case(order).actual_value == Decimal(2)
    assert same.message.endswith(": Photo of the pallet")


@pytest.mark.django_db
def test_same_units_over_reported_rejected(customer, order):
    report(customer, order)

    with pytest.raises(WorkError) as error:
        report(customer, order, "5", repeat=Repeat.SAME, message="Five crushed")

    assert str(error.value) == (
        "You chose the same units as the open report, but entered 5 and shipment "
        "SH-REP-1, line 1 has only 2 damaged reported. If 3 more are damaged, "
        "choose more units and enter 3. Otherwise enter at most 2."
    )
    assert ProblemReport.objects.get().message == "Crushed boxes"


@pytest.mark.django_db
def test_same_units_after_case_resolved_rejected(customer, order):
    first = report(customer, order)
    Discrepancy.objects.filter(pk=first.case_id).update(
        state=Discrepancy.State.RESOLVED
    )

    with pytest.raises(WorkError, match="has no open report of damaged goods"):
        report(customer, order, repeat=Repeat.SAME, message="Another photo")

    assert ProblemReport.objects.count() == 1


@pytest.mark.django_db
def test_unknown_answer_rejected(customer, order):
    report(customer, order)

    with pytest.raises(WorkError, match="Invalid answer 'both' about the open report"):
        report(customer, order, repeat="both")


@pytest.mark.django_db
def test_form_shows_open_report_and_answers(customer, order):
    client = client_for(customer)
    before = client.get(form_url(order))
    first = report(customer, order)

    page = client.get(form_url(order)).content.decode()

    assert b'data-testid="open-reports"' not in before.content
    reported_on = f"{timezone.localtime(first.reported_at):%Y-%m-%d}"
    assert (
        f"SH-REP-1, line 1: 2 damaged reported, latest report sent on "
        f"{reported_on} (case {first.case_id})."
    ) in page
    assert 'name="repeat" value="same"' in page
    assert 'name="repeat" value="more"' in page


@pytest.mark.django_db
def test_form_without_answer_keeps_input(customer, order):
    report(customer, order)

    response = client_for(customer).post(form_url(order), damage_form(order, "1"))

    assert response.status_code == 422
    assert messages_of(response)[0].startswith(
        "Shipment SH-REP-1, line 1 already has an open report of 2 damaged"
    )
    assert damage_case(order).actual_value == Decimal(2)


@pytest.mark.django_db
def test_form_more_sent_twice_counts_once(customer, order):
    report(customer, order)
    client = client_for(customer)
    form = damage_form(order, "2", repeat=Repeat.MORE)

    first = messages_of(client.post(form_url(order), form, follow=True))
    again = messages_of(client.post(form_url(order), form, follow=True))

    more = ProblemReport.objects.get(more_units=True)
    assert first == [
        f"Thank you: we added 2 more damaged to case {more.case_id}. Shipment "
        "SH-REP-1, line 1 now has 4 damaged reported, 2 before your report."
    ]
    assert again[0].startswith("We already have this report")
    assert ProblemReport.objects.count() == 2
    assert damage_case(order).actual_value == Decimal(4)


@pytest.mark.django_db(transaction=True)
def test_parallel_more_posts_count_once(customer, order):
    report(customer, order)
    form = damage_form(order, "1", repeat=Repeat.MORE)

    def submit() -> int:
        return client_for(customer).post(form_url(order), form).status_code

    statuses = run_together(4, submit)

    assert statuses == [302] * 4
    assert ProblemReport.objects.filter(more_units=True).count() == 1
    assert damage_case(order).actual_value == Decimal(3)
    assert line_of(order).qty_damaged == Decimal(3)


@pytest.mark.django_db
def test_colleague_sees_and_adds_to_open_report(customer, order, customer_party):
    oskar = make_person(
        "oskar", Role.CUSTOMER, customer=customer_party, group="customers"
    )
    first = report(customer, order)
    client = client_for(oskar)

    page = client.get(form_url(order)).content.decode()
    response = client.post(form_url(order), damage_form(order, "3", Repeat.MORE))

    assert f"(case {first.case_id})" in page
    assert response.status_code == 302
    assert damage_case(order).actual_value == Decimal(5)


@pytest.mark.django_db
def test_bruno_cannot_open_carlas_form(customer, order, bruno):
    report(customer, order)
    client = client_for(bruno)

    page = client.get(form_url(order))
    post = client.post(form_url(order), damage_form(order, "3", Repeat.MORE))

    assert page.status_code == 404
    assert post.status_code == 404
    assert ProblemReport.objects.count() == 1
    assert damage_case(order).actual_value == Decimal(2)


@pytest.mark.django_db
def test_bruno_form_hides_carlas_report(customer, order, bruno, bruno_order):
    first = report(customer, order)
    client = client_for(bruno)

    page = client.get(form_url(bruno_order)).content.decode()
    # Carla's shipment line, posted on Bruno's own order.
    form = {**damage_form(order, "3", Repeat.MORE)}
    response = client.post(form_url(bruno_order), form)

    assert 'data-testid="open-reports"' not in page
    assert f"(case {first.case_id})" not in page
    assert response.status_code == 422
    assert messages_of(response) == ["Pick the shipment line the problem is about."]
    assert damage_case(order).actual_value == Decimal(2)
    assert line_of(bruno_order).qty_damaged == Decimal(0)


@pytest.mark.django_db
def test_sales_rep_cannot_use_form(customer, order, sales_rep):
    report(customer, order)

    response = client_for(sales_rep).get(form_url(order))

    assert response.status_code == 403


@pytest.mark.django_db
def test_more_after_window_is_not_repeat(customer, order):
    first = report(customer, order)
    more = report(customer, order, repeat=Repeat.MORE)
    ProblemReport.objects.filter(pk__in=[first.pk, more.pk]).update(
        reported_at=timezone.now() - timedelta(hours=1)
    )

    report(customer, order, repeat=Repeat.MORE)

    assert ProblemReport.objects.filter(more_units=True).count() == 2
    assert damage_case(order).actual_value == Decimal(6)


@pytest.mark.django_db
def test_colleague_told_report_was_theirs(customer, order, customer_party):
    oskar = make_person(
        "oskar", Role.CUSTOMER, customer=customer_party, group="customers"
    )
    first = report(customer, order)
    form = {
        **damage_form(order, "1", Repeat.SAME),
        "evidence": SimpleUploadedFile("box.png", PNG_BYTES),
    }

    response = client_for(oskar).post(form_url(order), form, follow=True)

    reported_on = f"{timezone.localtime(first.reported_at):%Y-%m-%d}"
    assert messages_of(response) == [
        f"A colleague reported this problem on order {order.number} on "
        f"{reported_on}, and that report (case {first.case_id}) is still open, "
        "so we added your new file to it instead of opening a second case."
    ]
