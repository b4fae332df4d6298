"""Who finds an FAQ entry held for its owners, with named people.

``petra`` is a super-user of payments and owns its FAQ. ``fran`` is a
learning facilitator and so owns every FAQ. ``wendy`` is a super-user of
invoicing only. ``sally`` is another employee, ``otto`` an employee in
nothing and ``carla`` a customer account.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounts.models import CrmFunction, Role, SuperUserAssignment
from answers.models import FaqEntry
from answers.selectors import (
    held_faq_entries_hidden_from,
    held_faq_ids_hidden_from,
    published_faq_entries,
    visible_faq_entries,
)
from conftest import make_person
from search.indexing import reindex_all
from search.models import SearchEntry
from search.selectors import search, visible_entries
from search.tests.conftest import found

HELD_WORD = "pelicanrefund"
OPEN_WORD = "heronrefund"
HELD_NO_FUNCTION_WORD = "ibisrefund"


@pytest.fixture
def invoicing_owner(db):
    person = make_person("wendy", Role.FINANCE_CLERK, group="operations")
    SuperUserAssignment.objects.create(
        person=person, crm_function=CrmFunction.objects.get(slug="invoicing")
    )
    return person


def _entry(question, *, crm_function=None, owners_only=False):
    return FaqEntry.objects.create(
        question=question,
        answer="Ask the payments desk.",
        answer_html="<p>Ask the payments desk.</p>",
        crm_function=crm_function,
        owners_only=owners_only,
    )


@pytest.fixture
def entries(payments):
    made = {
        "held": _entry(
            f"When is a {HELD_WORD} due?", crm_function=payments, owners_only=True
        ),
        "open": _entry(f"When is a {OPEN_WORD} due?", crm_function=payments),
        "held_no_function": _entry(
            f"When is an {HELD_NO_FUNCTION_WORD} due?", owners_only=True
        ),
    }
    reindex_all()
    return made


# Who finds the held entry of payments, the open one, and the held one
# without a CRM function (only stand-ins own that).
FINDS = {
    "super_user": {"held", "open"},
    "facilitator": {"held", "open", "held_no_function"},
    "invoicing_owner": {"open"},
    "sales_rep": {"open"},
    "outsider": {"open"},
    "customer": set(),
}
QUERY = f"{HELD_WORD} OR {OPEN_WORD} OR {HELD_NO_FUNCTION_WORD}"


@pytest.mark.parametrize("person_name", sorted(FINDS))
def test_held_entry_found_by_owners_only(request, entries, person_name):
    person = request.getfixturevalue(person_name)
    expected = sorted(("faq", entries[name].pk) for name in FINDS[person_name])
    assert found(person, QUERY) == expected


@pytest.mark.parametrize("person_name", sorted(FINDS))
def test_held_entry_counted_for_owners_only(request, entries, person_name):
    person = request.getfixturevalue(person_name)
    results = search(person, QUERY)
    expected_count = len(FINDS[person_name])
    assert results.total == expected_count
    assert results.facets == ({"faq": expected_count} if expected_count else {})


@pytest.mark.parametrize("person_name", sorted(FINDS))
def test_faq_search_follows_faq_pages(request, entries, person_name):
    # Search finds exactly the entries the FAQ pages let the person read.
    person = request.getfixturevalue(person_name)
    by_search = set(
        visible_entries(person).filter(kind="faq").values_list("object_id", flat=True)
    )
    by_pages = set(visible_faq_entries(person).values_list("pk", flat=True))
    assert by_search == by_pages


@pytest.mark.parametrize("person_name", [*sorted(FINDS), "signed_out"])
def test_published_entries_are_visible_unheld(request, entries, person_name):
    # The help panel's rule, written on its own, is the FAQ pages' rule
    # without held entries, for customers too.
    for name in ("held", "open"):
        entries[name].customer_visible = True
        entries[name].save()
    person = (
        AnonymousUser()
        if person_name == "signed_out"
        else request.getfixturevalue(person_name)
    )
    visible = set(visible_faq_entries(person).values_list("pk", flat=True))
    held = set(FaqEntry.objects.filter(owners_only=True).values_list("pk", flat=True))

    published = set(published_faq_entries(person).values_list("pk", flat=True))

    assert published == visible - held


def test_signed_out_finds_no_held_entry(entries):
    results = search(AnonymousUser(), QUERY)
    assert results.total == 0
    assert results.hits == []


def test_new_owner_finds_held_entry_at_once(entries, sales_rep, payments):
    assert found(sales_rep, HELD_WORD) == []
    SuperUserAssignment.objects.create(person=sales_rep, crm_function=payments)
    assert found(sales_rep, HELD_WORD) == [("faq", entries["held"].pk)]


def test_entry_held_on_commit_hides_from_others(
    transactional_db, entries, super_user, sales_rep
):
    entry = entries["open"]
    entry.owners_only = True
    entry.save()
    assert found(sales_rep, OPEN_WORD) == []
    assert found(super_user, OPEN_WORD) == [("faq", entry.pk)]


def test_released_entry_found_by_everyone(
    transactional_db, entries, super_user, sales_rep
):
    entry = entries["held"]
    entry.owners_only = False
    entry.save()
    assert found(sales_rep, HELD_WORD) == [("faq", entry.pk)]
    assert found(super_user, HELD_WORD) == [("faq", entry.pk)]


def test_migration_indexes_entries_held_before(entries, super_user):
    # Before held entries were indexed, a held entry had no search entry.
    SearchEntry.objects.filter(kind="faq", object_id=entries["held"].pk).delete()
    assert found(super_user, HELD_WORD) == []
    migration = importlib.import_module("search.migrations.0006_index_held_faq_entries")

    with transaction.atomic():
        migration.index_held_entries(django_apps, None)

    assert found(super_user, HELD_WORD) == [("faq", entries["held"].pk)]


@pytest.mark.parametrize("person_name", sorted(FINDS))
def test_kept_held_ids_match_queryset(request, entries, person_name):
    person = request.getfixturevalue(person_name)
    expected = tuple(
        held_faq_entries_hidden_from(person).order_by("pk").values_list("pk", flat=True)
    )

    # Twice: the second run reads the kept statement.
    assert held_faq_ids_hidden_from(person) == expected
    assert held_faq_ids_hidden_from(person) == expected
