"""The demo's super-users start each `make run` available, as on a working day."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import User
from assist.models import Availability
from assist.services import set_availability
from demo.tests.test_load_demo import run_load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Write the sample bank export under the test's folder, not var/."""
    settings.VAR_DIR = tmp_path


def super_users_in_panel(person: User, context: str) -> list[str]:
    """Return the super-user lines of the help panel shown to ``person``, as text."""
    client = Client()
    client.force_login(person)
    panel = client.get("/assist/panel/", {"context": context}).content.decode()
    items = re.findall(r'<li data-testid="super-user">(.*?)</li>', panel, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


@override_settings(DEBUG=True)
def test_super_users_available_on_fresh_demo():
    output = run_load_demo()

    assert (
        "Super-users available for the working day: "
        "fiona, janet, margaret, paula, walter"
    ) in output
    margaret = User.objects.get(username="margaret")
    assert super_users_in_panel(margaret, "reconciliation.order.short_payment") == [
        "Paula Reyes · Cash application lead available now"
    ]
    assert super_users_in_panel(margaret, "reconciliation.order.short_ship") == [
        "Walter Ng · Warehouse lead available now"
    ]
    until = Availability.objects.get(person__username="paula").until
    assert until is not None
    hours = (until - timezone.now()) / timedelta(hours=1)
    assert (
        settings.HELP_AVAILABILITY_HOURS - 1
        < hours
        <= (settings.HELP_AVAILABILITY_HOURS)
    )


@override_settings(DEBUG=True)
def test_availability_keeps_a_status_set():
    run_load_demo()
    set_availability(person=User.objects.get(username="paula"), status="away")
    Availability.objects.filter(person__username="walter").update(
        until=timezone.now() - timedelta(minutes=1)
    )

    output = run_load_demo()

    assert "Super-users available for the working day: walter" in output
    assert Availability.objects.get(person__username="paula").status == "away"
    walter_until = Availability.objects.get(person__username="walter").until
    assert walter_until is not None
    assert walter_until > timezone.now()
