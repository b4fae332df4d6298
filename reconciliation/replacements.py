"""The units of replacement shipments that the order does not count as shipped.

A replacement shipment (a reship) sends again the units a damaged or missing
goods case reported. Up to its ``Shipment.replacement_qty``, its units on
``Shipment.replacement_line`` replace units that were shipped and billed
already, so they are neither an over-shipment nor to be invoiced again.
Units beyond that count as shipped, as on any shipment. The matching pass
(``checks.shipped_by_line``), the order's running quantities
(``services.refresh_order``) and the warehouse's over-shipment check
(``warehouse_work``) all take these units off with ``covered_units``.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from reconciliation.models import Shipment, ShipmentLine

ZERO = Decimal(0)


def covered_units(
    shipments: Iterable[Shipment], shipped: Mapping[tuple[int, int], Decimal]
) -> dict[int, Decimal]:
    """Return the replacement units of each order line, by order line id.

    ``shipped`` maps (shipment id, order line id) to the units shipped on
    that shipment for that line. Only the shipments passed in count, so the
    caller passes the shipped and delivered ones.
    """
    units: dict[int, Decimal] = defaultdict(Decimal)
    for shipment in shipments:
        line_id = shipment.replacement_line_id
        allowed = shipment.replacement_qty
        if line_id is None or allowed is None:
            continue
        sent = shipped.get((shipment.pk, line_id), ZERO)
        units[line_id] += min(max(sent, ZERO), allowed)
    return dict(units)


def covered_units_of(
    shipments: Iterable[Shipment], *, extra: Mapping[int, Decimal] | None = None
) -> dict[int, Decimal]:
    """Query the shipped units of ``shipments`` and return ``covered_units``.

    ``extra`` adds units per shipment id that are about to ship on its
    replacement line, for a check made before they are written.
    """
    rows = [s for s in shipments if s.replacement_line_id is not None]
    if not rows:
        return {}
    shipped: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    lines = ShipmentLine.objects.filter(shipment__in=[s.pk for s in rows]).values_list(
        "shipment_id", "order_line_id", "qty_shipped"
    )
    for shipment_id, line_id, qty in lines:
        shipped[(shipment_id, line_id)] += qty
    for shipment in rows:
        added = (extra or {}).get(shipment.pk)
        if added is not None and shipment.replacement_line_id is not None:
            shipped[(shipment.pk, shipment.replacement_line_id)] += added
    return covered_units(rows, shipped)
