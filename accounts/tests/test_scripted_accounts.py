"""The practice sandbox's scripted manager appears in no list of people.

Ines Walch is the scenario's scripted manager: an inactive account with no
usable password that decides a learner's approval requests. Every list of
people starts from ``User.objects.listed()``, which leaves her out whether
or not the list shows inactive people. Most tests reactivate her account,
as an administrator might by mistake, so they check the rule itself and
not only the active-people filter that most lists also apply.
"""

import importlib

import pytest
from django.apps import apps

from accounts.models import Role, SuperUserAssignment, User
from answers.selectors import faq_owners
from assist.selectors import build_help_panel
from communities.selectors import recruit_candidates
from core.testing import signed_in
from practice.manager import scripted_manager_account
from practice.scenarios import MANAGER
from reconciliation.models import Discrepancy
from reconciliation.selectors import list_assignable_people
from search.indexing import index_object
from search.models import SearchEntry
from social.services.mentions import resolve_mentions

pytestmark = pytest.mark.django_db

USERNAME = "practice-manager-ines-walch"


@pytest.fixture
def ines() -> User:
    return scripted_manager_account(MANAGER)


@pytest.fixture
def ines_reactivated(ines: User) -> User:
    User.objects.filter(pk=ines.pk).update(is_active=True)
    ines.refresh_from_db()
    return ines


def test_scripted_manager_is_marked(ines):
    assert ines.username == USERNAME
    assert ines.is_scripted
    assert not ines.is_active
    assert not ines.has_usable_password()


def test_listed_leaves_out_ines(ines, sales_rep):
    assert list(User.objects.listed()) == [sales_rep]
    assert list(User.objects.filter(is_active=False)) == [ines]


def test_directory_leaves_out_ines(ines_reactivated, sales_rep):
    client = signed_in(sales_rep)

    for query in ("Ines", "practice-manager", ""):
        html = client.get("/people/", {"q": query}).content.decode()
        assert "Walch" not in html, query
        assert USERNAME not in html, query


def test_profile_of_ines_is_404(ines_reactivated, sales_rep):
    response = signed_in(sales_rep).get(f"/people/{USERNAME}/")

    assert response.status_code == 404


def test_search_has_no_entry_for_ines(ines_reactivated):
    index_object("person", ines_reactivated.pk)

    assert not SearchEntry.objects.filter(object_id=ines_reactivated.pk).exists()


def test_mention_of_ines_notifies_nobody(ines_reactivated, sales_rep):
    assert resolve_mentions([USERNAME, "sally"]) == [sales_rep]


def test_recruit_candidates_leave_out_ines(
    ines_reactivated, sales_rep, payments_community
):
    candidates = recruit_candidates(
        payments_community, learner_group=None, crm_function=None
    )

    assert ines_reactivated not in candidates
    assert sales_rep in candidates


def test_case_assignees_leave_out_ines(ines_reactivated, sales_rep):
    case = Discrepancy(owner_role=Role.SALES_REP)

    assert list(list_assignable_people(case)) == [sales_rep]


def test_super_user_lists_leave_out_ines(
    ines_reactivated, super_user, payments, sales_rep
):
    SuperUserAssignment.objects.create(person=ines_reactivated, crm_function=payments)
    panel = build_help_panel(viewer=sales_rep, key="reconciliation.order.short_payment")

    assert list(faq_owners(payments)) == [super_user]
    assert [person.username for person in panel.super_users] == ["petra"]


def test_migration_marks_existing_account(ines):
    User.objects.filter(pk=ines.pk).update(is_scripted=False)
    migration = importlib.import_module("accounts.migrations.0006_user_is_scripted")

    migration.mark_scripted(apps, None)

    ines.refresh_from_db()
    assert ines.is_scripted


def test_older_account_is_marked_on_use(ines):
    User.objects.filter(pk=ines.pk).update(is_scripted=False)

    again = scripted_manager_account(MANAGER)

    assert again.pk == ines.pk
    assert User.objects.get(pk=ines.pk).is_scripted
