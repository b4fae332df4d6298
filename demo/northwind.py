"""Load Company X, the demo company, from the Northwind sample orders.

Customers, employees, products, suppliers and the 830 orders come from the
CSV files in ``demo/northwind/``. Northwind has no shipment lines, invoices,
payments or purchases, so they are derived from the orders and suppliers,
and a small documented mix of discrepancies is injected with
``random.Random(seed)``. ``docs/demo-data.md`` lists every
rule and number.

Every Northwind date is moved by one offset, so that the demo's last day,
``NORTHWIND_AS_OF``, falls on the day the demo is loaded (``as_of``) and
what a person does in the demo today follows on from the data. The same seed
and the same load day always give the same company, because the loader
reads no unseeded random source, and the clock only when no day is given.
"""

import csv
import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import LearnerGroup, Role, User
from core.audit import record_event
from core.models import AuditEvent
from demo.northwind_cash import create_waiting_payments
from demo.northwind_mix import (
    Mix,
    choose_mix,
    choose_waiting_payments,
    payment_amount,
)
from demo.northwind_purchases import create_purchases
from demo.people import demo_password_hash
from reconciliation.matching import run_matching
from reconciliation.models import (
    Allocation,
    Company,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Product,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
)
from reconciliation.money import line_subtotal
from reconciliation.services import refresh_orders, update_planner_statistics

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "northwind"
CURRENCY = "USD"
# The last Northwind order and shipment are dated 1998-05-06 and the last
# required date is 1998-06-11, so on this day every promise and due date of
# the data set has passed. The loader moves it to the load day, and every
# other date by the same number of days.
NORTHWIND_AS_OF = date(1998, 6, 30)
PAYMENT_TERMS = timedelta(days=30)
SALES_REP_TITLES = frozenset({"Sales Representative", "Inside Sales Coordinator"})
MANAGER_TITLES = frozenset({"Sales Manager", "Vice President, Sales"})
# Lower-case words that belong to the family name: "Isabel de Castro".
NAME_PARTICLES = frozenset({"da", "de", "del", "der", "di", "van", "von"})


def read_table(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def split_name(full_name: str) -> tuple[str, str]:
    """Split a contact name into first and family name at the family name."""
    words = full_name.split()
    start = len(words) - 1
    while start > 1 and words[start - 1] in NAME_PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


@dataclass
class Loaded:
    """The rows written so far, by Northwind id."""

    company: Company
    # The load day, and how far each Northwind date moves to keep its
    # distance from it.
    as_of: date
    shift: timedelta
    staff: dict[str, User] = field(default_factory=dict)
    parties: dict[str, Party] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[int, SalesOrder] = field(default_factory=dict)
    lines: dict[int, list[SalesOrderLine]] = field(default_factory=dict)
    shipment_lines: dict[int, list[ShipmentLine]] = field(default_factory=dict)
    invoices: dict[int, Invoice] = field(default_factory=dict)

    def day(self, text: str) -> date:
        """Return the Northwind date ``text`` (YYYY-MM-DD) moved to the load day."""
        return date.fromisoformat(text) + self.shift


def load_company_x(*, seed: int = 1996, as_of: date | None = None) -> Company:
    """Create Company X from the Northwind data, or return it if it exists.

    ``as_of`` is the load day (today in ``TIME_ZONE`` when not given): every
    Northwind date moves by the days from ``NORTHWIND_AS_OF`` to it, and the
    matching pass runs as of that day. The company is named by
    ``COMMONPLACE_COMPANY_NAME`` ("Company X" unless the ``COMPANY_NAME``
    environment variable sets another name).
    """
    as_of = as_of or timezone.localdate()
    name = settings.COMMONPLACE_COMPANY_NAME
    existing = Company.objects.filter(name=name).first()
    if existing is not None:
        logger.info("Demo company %s exists; left unchanged", existing.pk)
        return existing

    logger.info("Loading demo company %r with seed %d as of %s", name, seed, as_of)
    rng = random.Random(seed)  # noqa: S311 (demo data, not a secret)
    orders = sorted(read_table("orders"), key=lambda row: int(row["order_id"]))
    with transaction.atomic():
        company = Company.objects.create(name=name, base_currency_id=CURRENCY)
        loaded = Loaded(company=company, as_of=as_of, shift=as_of - NORTHWIND_AS_OF)
        _create_staff(loaded)
        _create_parties(loaded, orders)
        _create_products(loaded)
        _create_orders(loaded, orders, rng)
        quoting = {pk for pk, order in loaded.orders.items() if order.customer_po_ref}
        mix = choose_mix(orders=orders, lines=loaded.lines, quoting=quoting, rng=rng)
        _create_shipments(loaded, orders, mix, rng)
        _create_invoices(loaded, mix)
        _create_payments(loaded, mix, rng)
        create_waiting_payments(
            company=company,
            invoices=loaded.invoices,
            waiting=choose_waiting_payments(orders=orders, mix=mix, rng=rng),
            # PAY-11078, the number after the last order, would read as the
            # payment of the duplicate invoice INV-11078, so start one later.
            next_number=max(loaded.orders) + 2,
            as_of=as_of,
            rng=rng,
        )
        # After every draw for the sales side, so that side stays as it was.
        create_purchases(
            company=company,
            products=loaded.products,
            read_table=read_table,
            shift=loaded.shift,
            as_of=as_of,
            rng=rng,
        )
        update_planner_statistics()
        refresh_orders(company_id=company.pk, source=AuditEvent.Source.COMMAND)
        summary = run_matching(company=company, as_of=as_of)
        record_event(
            actor=None,
            action="demo.company_loaded",
            target=company,
            source=AuditEvent.Source.COMMAND,
            after={
                "seed": seed,
                "as_of": as_of.isoformat(),
                "days_moved": loaded.shift.days,
                **summary.open_by_code,
            },
        )
    logger.info("Loaded demo company %s: %s", company.pk, summary.open_by_code)
    return company


def _bulk_people(people: list[User]) -> dict[str, User]:
    """Insert the accounts whose username is free; return all by username.

    Every demo account shares one password hash (``demo_password_hash``):
    hashing it for each of the hundred accounts would take most of a minute.
    """
    names = [person.username for person in people]
    existing = {
        user.username.lower(): user for user in User.objects.filter(username__in=names)
    }
    password = demo_password_hash()
    new = [person for person in people if person.username not in existing]
    for person in new:
        person.password = password
        person.email = f"{person.username}@companyx.example"
    User.objects.bulk_create(new)
    return {**existing, **{person.username: person for person in new}}


def _create_staff(loaded: Loaded) -> None:
    groups = {group.slug: group for group in LearnerGroup.objects.all()}
    employees = read_table("employees")
    people = []
    for row in employees:
        is_rep = row["title"] in SALES_REP_TITLES
        if not is_rep and row["title"] not in MANAGER_TITLES:
            raise ValueError(
                f"Employee {row['employee_id']} has the title {row['title']!r}, "
                "which maps to no role: add it to SALES_REP_TITLES or MANAGER_TITLES."
            )
        people.append(
            User(
                username=row["first_name"].lower(),
                first_name=row["first_name"],
                last_name=row["last_name"],
                title=row["title"],
                role=Role.SALES_REP if is_rep else Role.MANAGER,
                learner_group=groups["sales"] if is_rep else None,
                employee_number=row["employee_id"],
            )
        )
    by_username = _bulk_people(people)
    for row in employees:
        loaded.staff[row["employee_id"]] = by_username[row["first_name"].lower()]
    for row in employees:
        if row["reports_to"]:
            loaded.staff[row["employee_id"]].manager = loaded.staff[row["reports_to"]]
    User.objects.bulk_update(list(loaded.staff.values()), ["manager"])


def _create_parties(loaded: Loaded, orders: list[dict[str, str]]) -> None:
    """Create one party per customer, its sales rep the employee of most orders."""
    orders_taken: dict[str, Counter[str]] = defaultdict(Counter)
    for row in orders:
        orders_taken[row["customer_id"]][row["employee_id"]] += 1

    customers = read_table("customers")
    for row in customers:
        counts = orders_taken[row["customer_id"]]
        # Ties go to the lower employee id, so the choice does not depend on
        # the order of rows in the file.
        rep = (
            min(counts.items(), key=lambda item: (-item[1], int(item[0])))[0]
            if counts
            else None
        )
        loaded.parties[row["customer_id"]] = Party(
            company=loaded.company,
            code=row["customer_id"],
            name=row["company_name"],
            country=row["country"],
            city=row["city"],
            sales_rep=loaded.staff[rep] if rep else None,
            currency_id=CURRENCY,
        )
    Party.objects.bulk_create(list(loaded.parties.values()))

    customers_group = LearnerGroup.objects.get(slug="customers")
    contacts = []
    for row in customers:
        first_name, last_name = split_name(row["contact_name"])
        contacts.append(
            User(
                username=row["customer_id"].lower(),
                first_name=first_name,
                last_name=last_name,
                title=row["contact_title"],
                role=Role.CUSTOMER,
                learner_group=customers_group,
                customer=loaded.parties[row["customer_id"]],
            )
        )
    _bulk_people(contacts)


def _create_products(loaded: Loaded) -> None:
    for row in read_table("products"):
        loaded.products[row["product_id"]] = Product(
            company=loaded.company,
            sku=f"NW-{int(row['product_id']):03d}",
            name=row["product_name"],
            list_price=Decimal(row["unit_price"]),
        )
    Product.objects.bulk_create(list(loaded.products.values()))


def _purchase_order_refs(
    loaded: Loaded, orders: list[dict[str, str]], rng: random.Random
) -> dict[int, str]:
    """Give about half of the customers their own purchase order numbers.

    The year is that of the moved order date, because a customer numbers
    its purchase orders in the year it places them.
    """
    customers = sorted({row["customer_id"] for row in orders})
    quoting = {code for code in customers if rng.random() < 0.5}
    sequence: Counter[tuple[str, str]] = Counter()
    refs = {}
    for row in orders:
        if row["customer_id"] in quoting:
            year = str(loaded.day(row["order_date"]).year)
            sequence[(row["customer_id"], year)] += 1
            count = sequence[(row["customer_id"], year)]
            refs[int(row["order_id"])] = f"PO-{year}-{count:03d}"
    return refs


def _ship_to(row: dict[str, str]) -> str:
    city = " ".join(
        part for part in (row["ship_postal_code"], row["ship_city"]) if part
    )
    parts = (row["ship_name"], row["ship_address"], city, row["ship_region"])
    return "\n".join(part for part in (*parts, row["ship_country"]) if part)


def _create_orders(
    loaded: Loaded, orders: list[dict[str, str]], rng: random.Random
) -> None:
    refs = _purchase_order_refs(loaded, orders, rng)
    shippers = {
        row["shipper_id"]: row["company_name"] for row in read_table("shippers")
    }
    for row in orders:
        order_id = int(row["order_id"])
        loaded.orders[order_id] = SalesOrder(
            company=loaded.company,
            number=f"SO-{order_id}",
            customer=loaded.parties[row["customer_id"]],
            customer_po_ref=refs.get(order_id, ""),
            sales_rep=loaded.staff[row["employee_id"]],
            currency_id=CURRENCY,
            order_date=loaded.day(row["order_date"]),
            promised_date=loaded.day(row["required_date"]),
            ship_via=shippers[row["ship_via"]],
            freight=Decimal(row["freight"]),
            ship_to=_ship_to(row),
        )
    SalesOrder.objects.bulk_create(list(loaded.orders.values()))

    for detail in read_table("order_details"):
        order_id = int(detail["order_id"])
        order = loaded.orders[order_id]
        lines = loaded.lines.setdefault(order_id, [])
        product = loaded.products[detail["product_id"]]
        qty = Decimal(detail["quantity"])
        price = Decimal(detail["unit_price"])
        # Northwind stores the discount as a fraction (0.15); lines store percent.
        discount = Decimal(detail["discount"]) * 100
        lines.append(
            SalesOrderLine(
                order=order,
                line_no=len(lines) + 1,
                product=product,
                description=product.name,
                qty_ordered=qty,
                unit_price=price,
                discount_pct=discount,
                subtotal=line_subtotal(
                    qty=qty, unit_price=price, discount_pct=discount, minor_units=2
                ),
                promised_date=order.promised_date,
            )
        )
    SalesOrderLine.objects.bulk_create(
        [line for lines in loaded.lines.values() for line in lines]
    )


def _create_shipments(
    loaded: Loaded, orders: list[dict[str, str]], mix: Mix, rng: random.Random
) -> None:
    shipments = {}
    for row in orders:
        if not row["shipped_date"]:
            continue
        order = loaded.orders[int(row["order_id"])]
        prefix = "".join(word[0] for word in order.ship_via.split()).upper()
        shipments[int(row["order_id"])] = Shipment(
            company=loaded.company,
            # Numbered as the pick and ship screen numbers an order's shipments.
            number=f"{order.number}-S1",
            order=order,
            carrier=order.ship_via,
            tracking_no=f"{prefix}{rng.randrange(10**9, 10**10)}",
            state=Shipment.State.SHIPPED,
            shipped_at=loaded.day(row["shipped_date"]),
        )
    Shipment.objects.bulk_create(list(shipments.values()))

    short_order, short_line_no, short_qty = mix.short_ship
    for order_id, shipment in shipments.items():
        loaded.shipment_lines[order_id] = [
            ShipmentLine(
                shipment=shipment,
                order_line=line,
                qty_shipped=short_qty
                if (order_id, line.line_no) == (short_order, short_line_no)
                else line.qty_ordered,
            )
            for line in loaded.lines[order_id]
        ]
    ShipmentLine.objects.bulk_create(
        [line for lines in loaded.shipment_lines.values() for line in lines]
    )


def _invoice_lines(
    invoice: Invoice, shipment_lines: list[ShipmentLine], *, undiscounted_line: int
) -> list[InvoiceLine]:
    """Bill the shipped quantities at the order prices, one line per shipment line."""
    lines = []
    for shipment_line in shipment_lines:
        order_line = shipment_line.order_line
        discount = order_line.discount_pct
        if order_line.line_no == undiscounted_line:
            discount = Decimal(0)
        lines.append(
            InvoiceLine(
                invoice=invoice,
                order_line=order_line,
                shipment_line=shipment_line,
                product=order_line.product,
                qty=shipment_line.qty_shipped,
                unit_price=order_line.unit_price,
                discount_pct=discount,
                subtotal=line_subtotal(
                    qty=shipment_line.qty_shipped,
                    unit_price=order_line.unit_price,
                    discount_pct=discount,
                    minor_units=2,
                ),
            )
        )
    invoice.amount_total = sum((line.subtotal for line in lines), Decimal(0))
    return lines


def _new_invoice(
    loaded: Loaded, order: SalesOrder, number: str, shipped_at: date
) -> Invoice:
    return Invoice(
        company=loaded.company,
        number=number,
        reference=order.customer_po_ref or number,
        customer=order.customer,
        order=order,
        currency_id=CURRENCY,
        invoice_date=shipped_at,
        due_date=shipped_at + PAYMENT_TERMS,
    )


def _create_invoices(loaded: Loaded, mix: Mix) -> None:
    """Invoice each shipment on its ship date, then enter one invoice twice."""
    price_order, price_line = mix.price_mismatch
    lines: list[InvoiceLine] = []
    for order_id, shipment_lines in loaded.shipment_lines.items():
        order = loaded.orders[order_id]
        shipped_at = shipment_lines[0].shipment.shipped_at or loaded.as_of
        invoice = _new_invoice(loaded, order, f"INV-{order_id}", shipped_at)
        undiscounted = price_line if order_id == price_order else 0
        lines.extend(
            _invoice_lines(invoice, shipment_lines, undiscounted_line=undiscounted)
        )
        loaded.invoices[order_id] = invoice
    Invoice.objects.bulk_create(list(loaded.invoices.values()))

    # The copy gets the next free number and the reference retyped in lower case
    # with a trailing space. It is inserted last, so it is the later of the two.
    original = loaded.invoices[mix.duplicate]
    copy = _new_invoice(
        loaded,
        loaded.orders[mix.duplicate],
        f"INV-{max(loaded.orders) + 1}",
        original.invoice_date,
    )
    copy.reference = f"{original.reference.lower()} "
    copy_lines = _invoice_lines(
        copy, loaded.shipment_lines[mix.duplicate], undiscounted_line=0
    )
    copy.save()
    lines.extend(copy_lines)
    InvoiceLine.objects.bulk_create(lines)


def _create_payments(loaded: Loaded, mix: Mix, rng: random.Random) -> None:
    """Pay each invoice once, 5 to 40 days after it, unless it is left unpaid."""
    payments = []
    for order_id, invoice in loaded.invoices.items():
        if order_id in mix.missing:
            continue
        value_date = invoice.invoice_date + timedelta(days=rng.randint(5, 40))
        payments.append(
            Payment(
                company=loaded.company,
                number=f"PAY-{order_id}",
                party=invoice.customer,
                amount=payment_amount(order_id, invoice.amount_total, mix),
                currency_id=CURRENCY,
                value_date=min(value_date, loaded.as_of),
                reference=invoice.reference,
            )
        )
    Payment.objects.bulk_create(payments)
    invoices = {invoice.number: invoice for invoice in loaded.invoices.values()}
    Allocation.objects.bulk_create(
        Allocation(
            payment=payment,
            invoice=invoices[payment.number.replace("PAY-", "INV-")],
            amount=payment.amount,
        )
        for payment in payments
    )


def company_load_day(company: Company) -> date | None:
    """Return the day ``company`` was loaded as of, from its load's audit event."""
    event = (
        AuditEvent.objects.filter(
            action="demo.company_loaded",
            object_type=company._meta.label_lower,
            object_id=str(company.pk),
        )
        .order_by("-pk")
        .first()
    )
    if event is None or "as_of" not in event.after:
        return None
    return date.fromisoformat(event.after["as_of"])
