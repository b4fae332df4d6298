"""Reference data every installation has: CRM functions and learner groups.

They are kept in code and written after each migrate (``sync_reference_data``)
rather than by a data migration, because test runs that flush the database
re-run post-migrate handlers but not migrations.
"""

from typing import Any

from django.db import transaction

CRM_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("order_entry", "Order entry"),
    ("fulfilment", "Fulfilment"),
    ("invoicing", "Invoicing"),
    ("payments", "Payments"),
    ("disputes", "Disputes"),
)

# (slug, name, is_external)
LEARNER_GROUPS: tuple[tuple[str, str, bool], ...] = (
    ("sales", "Sales", False),
    ("operations", "Operations", False),
    ("warehouse", "Warehouse", False),
    ("customer_service", "Customer service", False),
    ("customers", "Customers", True),
)


@transaction.atomic
def sync_reference_data() -> None:
    from accounts.models import CrmFunction, LearnerGroup

    for position, (slug, name) in enumerate(CRM_FUNCTIONS):
        CrmFunction.objects.update_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
    for slug, name, is_external in LEARNER_GROUPS:
        LearnerGroup.objects.update_or_create(
            slug=slug, defaults={"name": name, "is_external": is_external}
        )


def sync_reference_data_after_migrate(**kwargs: Any) -> None:
    sync_reference_data()
