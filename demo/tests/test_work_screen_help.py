"""The demo's help panels on the pick-and-ship, cash and approvals screens."""

import pytest

from accounts.models import Role
from assist.selectors import build_help_panel
from conftest import make_person
from demo.knowledge import seed_knowledge

pytestmark = pytest.mark.django_db

# Screen context -> (a viewer's role, the super-user the panel names).
SCREENS = {
    "reconciliation.work.fulfilment": (Role.WAREHOUSE, "walter"),
    "reconciliation.work.cash": (Role.FINANCE_CLERK, "paula"),
    "reconciliation.work.approvals": (Role.MANAGER, "paula"),
}


@pytest.mark.parametrize("key", list(SCREENS))
def test_work_screen_panel_has_help(key):
    # The Northwind sales reps that seed_knowledge names super-users.
    make_person("janet", Role.SALES_REP, group="sales")
    make_person("margaret", Role.SALES_REP, group="sales")
    seed_knowledge()
    role, super_user = SCREENS[key]
    viewer = make_person("viktor", role)

    panel = build_help_panel(viewer=viewer, key=key)

    assert len(panel.faq_entries) == 2
    assert {item.context_key for item in panel.documents} == {key}
    assert [person.username for person in panel.super_users] == [super_user]
