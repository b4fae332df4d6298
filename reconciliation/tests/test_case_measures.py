"""Detection-to-resolution time and reopens, aggregated per learner group."""

from datetime import timedelta

import pytest

from accounts.models import LearnerGroup, Role
from conftest import make_person
from reconciliation import cases
from reconciliation.models import Discrepancy
from reconciliation.selectors import case_measures_by_group
from reconciliation.tests.conftest import make_case

pytestmark = pytest.mark.django_db

State = Discrepancy.State


def resolve_after(case, person, *, hours):
    Discrepancy.objects.filter(pk=case.pk).update(
        state=State.IN_PROGRESS,
        assignee=person,
        created_at=case.created_at - timedelta(hours=hours),
    )
    return cases.resolve_case(
        case_id=case.pk, actor=person, resolution_code="refund", note="Refunded."
    )


def test_measures_per_group_without_people(shipped_order):
    clerks = [
        make_person(name, Role.FINANCE_CLERK, group="operations")
        for name in ("ada", "bea", "cy")
    ]
    for person, hours in zip(clerks, (2, 4, 6), strict=True):
        resolve_after(make_case(shipped_order), person, hours=hours)
    reopened = make_case(shipped_order)
    Discrepancy.objects.filter(pk=reopened.pk).update(reopen_count=1)
    resolve_after(reopened, clerks[0], hours=8)
    lone = make_person("dee", Role.WAREHOUSE, group="warehouse")
    resolve_after(make_case(shipped_order, owner_role=Role.WAREHOUSE), lone, hours=1)

    measures = case_measures_by_group()

    assert len(measures) == 1
    operations = measures[0]
    assert operations.group == LearnerGroup.objects.get(slug="operations").name
    assert operations.people == 3
    assert operations.cases_resolved == 4
    assert operations.mean_resolution_hours == pytest.approx(5.0, abs=0.01)
    assert operations.reopens == 1
    assert operations.reopen_rate == 0.25
    assert not hasattr(operations, "person")


def test_rule_resolutions_are_not_counted(shipped_order):
    make_case(
        shipped_order,
        state=State.RESOLVED,
        resolution_seconds=60,
    )

    assert case_measures_by_group() == []
