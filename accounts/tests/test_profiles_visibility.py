"""Who may see whom: the one rule in ``accounts.selectors.visible_people``."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts.models import User
from accounts.selectors import access_person, visible_people

pytestmark = pytest.mark.django_db


def usernames(people) -> list[str]:
    return sorted(person.username for person in people)


class TestVisiblePeople:
    def test_employee_sees_every_active_account(
        self, outsider, sales_rep, super_user, customer
    ):
        User.objects.filter(pk=sales_rep.pk).update(is_active=False)
        assert usernames(visible_people(outsider)) == ["carla", "otto", "petra"]

    def test_customer_sees_visible_staff_and_self(
        self, customer, outsider, sales_rep, super_user, other_party
    ):
        User.objects.filter(pk=sales_rep.pk).update(visible_to_customers=True)
        other = User.objects.create(
            username="olga", role="customer", customer=other_party
        )
        # A flag on a customer account does not show it to other customers.
        User.objects.filter(pk=other.pk).update(visible_to_customers=True)
        assert usernames(visible_people(customer)) == ["carla", "sally"]

    def test_customer_does_not_see_inactive_visible_staff(self, customer, sales_rep):
        User.objects.filter(pk=sales_rep.pk).update(
            visible_to_customers=True, is_active=False
        )
        assert usernames(visible_people(customer)) == ["carla"]

    def test_signed_out_sees_nobody(self, outsider):
        assert usernames(visible_people(AnonymousUser())) == []

    def test_access_person_is_case_insensitive(self, outsider, sales_rep):
        assert access_person(outsider, "SALLY") == sales_rep

    def test_access_person_raises_404_for_hidden(self, customer, sales_rep):
        with pytest.raises(Http404):
            access_person(customer, "sally")
        with pytest.raises(Http404):
            access_person(customer, "nobody")
