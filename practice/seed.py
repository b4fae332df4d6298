"""Write a scenario into a sandbox company, wipe it, and fingerprint it.

The seed goes through the same models and services as real documents:
``refresh_orders`` derives the running quantities and statuses, and the
real matching pass allocates the payments and opens the cases. Every case
the pass leaves open is then handed to the learner, who plays every role in
the sandbox.

Every date of the scenario moves by the days between ``AS_OF`` and the
session's day, so the orders, promises and due dates keep their distance to
the day the learner works in the sandbox. Work on the real screens is dated
by the real clock, so a shipment recorded on the session's day is as late as
the scenario means it to be, whatever the calendar year.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection, models

from core.models import AuditEvent
from practice.scenarios import AS_OF, Scenario
from reconciliation.matching import run_matching
from reconciliation.models import (
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
from reconciliation.services import refresh_orders

SANDBOX_CURRENCY = "EUR"
SANDBOX_TIMEZONE = "Europe/Berlin"
# Columns a re-seed writes afresh every time: row ids, clock times, the due
# time, which is counted from the detection time, and the matching pass's
# fingerprint of an order, which hashes row ids.
VOLATILE_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "due_at", "match_fingerprint"}
)
# Match keys and case fingerprints name documents by id ("C:order:41",
# "SHORT_PAYMENT:invoice:7"); the fingerprint names them by position instead.
ID_IN_KEY = re.compile(
    r"\b(line|invoice_line|invoice|order|payment|shipment_line|shipment):(\d+)"
)
KEY_MODELS = {
    "line": "reconciliation.SalesOrderLine",
    "invoice_line": "reconciliation.InvoiceLine",
    "invoice": "reconciliation.Invoice",
    "order": "reconciliation.SalesOrder",
    "payment": "reconciliation.Payment",
    "shipment_line": "reconciliation.ShipmentLine",
    "shipment": "reconciliation.Shipment",
}
KEY_FIELDS = frozenset({"key", "fingerprint"})


def build_scenario(*, company: Company, scenario: Scenario, today: date) -> None:
    """Write ``scenario`` into the empty sandbox ``company`` as of ``today``.

    Every date moves by ``today - AS_OF``, and the matching pass checks the
    documents as of ``today``. Runs inside the caller's transaction.
    """
    shift = today - AS_OF
    currency = company.base_currency
    parties = {
        spec.code: Party.objects.create(
            company=company,
            code=spec.code,
            name=spec.name,
            city=spec.city,
            currency=currency,
        )
        for spec in scenario.parties
    }
    products = {
        spec.sku: Product.objects.create(
            company=company,
            sku=spec.sku,
            name=spec.name,
            uom=spec.uom,
            list_price=Decimal(spec.price),
        )
        for spec in scenario.products
    }
    for spec in scenario.orders:
        order = SalesOrder.objects.create(
            company=company,
            number=spec.number,
            customer=parties[spec.customer],
            customer_po_ref=spec.customer_po_ref,
            currency=currency,
            order_date=spec.order_date + shift,
            promised_date=spec.promised_date + shift,
        )
        lines: dict[int, SalesOrderLine] = {}
        for line_no, (sku, qty, price) in enumerate(spec.lines, start=1):
            lines[line_no] = SalesOrderLine.objects.create(
                order=order,
                line_no=line_no,
                product=products[sku],
                description=products[sku].name,
                qty_ordered=Decimal(qty),
                unit_price=Decimal(price),
                subtotal=_subtotal(qty, price, currency.minor_units),
                promised_date=spec.promised_date + shift,
            )
        for shipment_spec in spec.shipments:
            shipment = Shipment.objects.create(
                company=company,
                number=shipment_spec.number,
                order=order,
                shipped_at=shipment_spec.shipped_at + shift,
            )
            for line_no, qty in shipment_spec.quantities.items():
                ShipmentLine.objects.create(
                    shipment=shipment,
                    order_line=lines[line_no],
                    qty_shipped=Decimal(qty),
                    # As the customer's report of damaged units writes it.
                    qty_damaged=Decimal(shipment_spec.damaged.get(line_no, "0")),
                )
        for invoice_spec in spec.invoices:
            invoice = Invoice.objects.create(
                company=company,
                number=invoice_spec.number,
                reference=invoice_spec.reference,
                customer=order.customer,
                order=order,
                currency=currency,
                invoice_date=invoice_spec.invoice_date + shift,
                due_date=invoice_spec.due_date + shift,
            )
            for line_no, qty in invoice_spec.quantities.items():
                line = lines[line_no]
                InvoiceLine.objects.create(
                    invoice=invoice,
                    order_line=line,
                    product=line.product,
                    qty=Decimal(qty),
                    unit_price=line.unit_price,
                    subtotal=_subtotal(qty, str(line.unit_price), currency.minor_units),
                )
    for payment_spec in scenario.payments:
        amount = Decimal(payment_spec.amount)
        Payment.objects.create(
            company=company,
            number=payment_spec.number,
            party=parties.get(payment_spec.customer),
            amount=amount,
            amount_unallocated=amount,
            currency=currency,
            value_date=payment_spec.value_date + shift,
            reference=payment_spec.reference,
        )
    refresh_orders(company_id=company.pk, source=AuditEvent.Source.SYSTEM)
    run_matching(company=company, as_of=today)


def _subtotal(qty: str, price: str, minor_units: int) -> Decimal:
    return line_subtotal(
        qty=Decimal(qty),
        unit_price=Decimal(price),
        discount_pct=Decimal(0),
        minor_units=minor_units,
    )


# The apps whose rows belong to a company's documents: the documents and
# cases, and the customer's reports and the offers made to them.
SCOPED_APPS = ("reconciliation", "portal")
# Rows of these apps and models are part of the fingerprint only when the
# sandbox has some, so the digest of a seed, which has none, stays what it
# was before a reset wiped them.
ROWS_WHEN_PRESENT_APPS = frozenset({"portal"})
ROWS_WHEN_PRESENT_MODELS = frozenset({"reconciliation.ReplacementOffer"})


def company_scoped_models() -> list[tuple[type[models.Model], str]]:
    """Return every model with rows of a company's documents, and the lookup.

    A model with a ``company`` key is scoped directly. A child row (an order
    line, an allocation, a case comment, an offer to the customer) is scoped
    through the first of its required parents that is scoped, so a
    replacement offer is scoped through its proposal and that proposal's
    case. Children come before their parents, so deleting in this order
    never leaves a row that points at a deleted one.
    """
    candidates = [
        model
        for label in SCOPED_APPS
        for model in apps.get_app_config(label).get_models()
        if model is not Company
    ]
    lookups: dict[type[models.Model], str] = {
        model: "company" for model in candidates if _has_company_key(model)
    }
    depth: dict[type[models.Model], int] = dict.fromkeys(lookups, 0)
    # Each round scopes the models one key further from a company.
    for level in range(1, 4):
        found = {
            model: lookup
            for model in candidates
            if model not in lookups and (lookup := _parent_lookup(model, lookups))
        }
        for model, lookup in found.items():
            lookups[model] = lookup
            depth[model] = level
    ordered = sorted(lookups, key=lambda model: (-depth[model], _label(model)))
    return [(model, lookups[model]) for model in ordered]


def _has_company_key(model: type[models.Model]) -> bool:
    # Concrete fields only: Currency has a reverse "company" relation too.
    return any(
        isinstance(field, models.ForeignKey)
        and field.name == "company"
        and field.related_model is Company
        for field in model._meta.concrete_fields
    )


def _parent_lookup(
    model: type[models.Model], scoped: dict[type[models.Model], str]
) -> str:
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.null:
            continue
        parent = field.related_model
        if isinstance(parent, type) and parent in scoped:
            return f"{field.name}__{scoped[parent]}"
    return ""


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def wipe_company(company: Company) -> int:
    """Delete every document row of the sandbox ``company``; keep the company row.

    The rows are deleted with plain SQL, children first: the documents point
    at each other with protected keys (an allocation at its payment, a credit
    note at its invoice), which the ORM's delete rejects even when every row
    goes. Foreign keys are checked at commit on SQLite and PostgreSQL.
    """
    if not company.is_sandbox:
        raise ValueError(
            f"Company {company.pk} ({company.name}) is not a sandbox: "
            "only a practice company may be wiped."
        )
    deleted = 0
    with connection.cursor() as cursor:
        for model, lookup in company_scoped_models():
            ids = list(
                model._default_manager.filter(**{lookup: company})
                .order_by()
                .values_list("pk", flat=True)
            )
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                table = connection.ops.quote_name(model._meta.db_table)
                column = connection.ops.quote_name(str(model._meta.pk.column))
                # Table and column names come from the models, never from input.
                sql = f"DELETE FROM {table} WHERE {column} IN ({marks})"  # noqa: S608
                cursor.execute(sql, chunk)
                deleted += cursor.rowcount
    return deleted


def fingerprint(company: Company) -> dict[str, list[dict[str, Any]]]:
    """Return every row of the sandbox company, independent of ids and clock times.

    A key to another row is replaced by that row's model and its position
    among the company's rows of that model (rows in id order), so two seeds
    of the same scenario compare equal although their ids differ.
    """
    scoped = company_scoped_models()
    positions: dict[str, dict[Any, int]] = {}
    rows_by_model: dict[str, list[dict[str, Any]]] = {}
    for model, lookup in scoped:
        rows = list(
            model._default_manager.filter(**{lookup: company}).order_by("pk").values()
        )
        pk_name = model._meta.pk.attname
        positions[model._meta.label] = {
            row[pk_name]: index for index, row in enumerate(rows)
        }
        rows_by_model[model._meta.label] = rows
    result: dict[str, list[dict[str, Any]]] = {}
    for model, _lookup in scoped:
        label = model._meta.label
        if not rows_by_model[label] and (
            model._meta.app_label in ROWS_WHEN_PRESENT_APPS
            or label in ROWS_WHEN_PRESENT_MODELS
        ):
            continue
        keys = {
            field.attname: field.related_model._meta.label
            for field in model._meta.concrete_fields
            if field.is_relation
            and isinstance(field.related_model, type)
            and field.related_model._meta.label in positions
        }
        cleaned = []
        for row in rows_by_model[model._meta.label]:
            item: dict[str, Any] = {}
            for name, value in row.items():
                if name in VOLATILE_FIELDS or name == model._meta.pk.attname:
                    continue
                if name in keys and value is not None:
                    value = (keys[name], positions[keys[name]][value])
                elif name == "company_id":
                    value = "sandbox"
                elif name in KEY_FIELDS and isinstance(value, str):
                    value = _key_by_position(value, positions)
                elif isinstance(value, datetime):
                    # A clock time: only whether it is set is part of the seed.
                    value = "set"
                elif isinstance(value, dict | list):
                    value = _json_by_position(value, positions)
                item[name] = _comparable(value)
            cleaned.append(item)
        result[model._meta.label] = cleaned
    return result


def _key_by_position(key: str, positions: dict[str, dict[Any, int]]) -> str:
    def replace(match: re.Match[str]) -> str:
        known = positions.get(KEY_MODELS[match[1]], {})
        pk = int(match[2])
        return f"{match[1]}#{known[pk]}" if pk in known else match[0]

    return ID_IN_KEY.sub(replace, key)


def _json_by_position(value: Any, positions: dict[str, dict[Any, int]]) -> Any:
    """Replace allocation ids inside stored compared values by their position."""
    allocations = positions.get("reconciliation.Allocation", {})
    if isinstance(value, list):
        return [_json_by_position(item, positions) for item in value]
    if isinstance(value, dict):
        return {
            key: (
                f"allocation#{allocations[item]}"
                if key == "id" and item in allocations
                else _json_by_position(item, positions)
            )
            for key, item in value.items()
        }
    return value


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    return value
