"""Imports never write into a learner's practice sandbox.

``lena`` runs the scenario "short-payment-write-off", whose company is her
private sandbox copy. ``fiona`` (finance clerk) imports.
"""

import pytest
from django.urls import reverse

from accounts.models import Role
from conftest import make_person
from imports.models import ImportBatch, ImportSource
from imports.tests.conftest import PAYMENT_MAPPING, make_source
from imports.tests.test_tables import PAYMENTS_HEADER, commit, preview
from practice import services
from reconciliation.models import Payment


@pytest.fixture
def sandbox(company):
    learner = make_person("lena", Role.FINANCE_CLERK, group="operations")
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    return session.company


def test_source_form_leaves_out_sandboxes(client, clerk, company, sandbox):
    client.force_login(clerk)

    response = client.get(reverse("imports:source_create"))

    choices = list(response.context["form"].fields["company"].queryset)
    assert choices == [company]
    assert f'value="{sandbox.pk}"' not in response.content.decode()


def test_source_form_rejects_posted_sandbox(client, clerk, sandbox):
    client.force_login(clerk)

    response = client.post(
        reverse("imports:source_create"),
        {
            "name": "into sandbox",
            "company": sandbox.pk,
            "kind": "payments",
            "file_format": "csv",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["company"] == [
        f"Company {sandbox.pk} cannot receive imports: it is a practice sandbox or "
        "does not exist. Choose a company from the list."
    ]
    assert not ImportSource.objects.filter(company=sandbox).exists()


def test_sandbox_source_pages_are_hidden(client, clerk, sandbox):
    # A source made before sandboxes were left out of the form.
    source = make_source(sandbox, clerk, "payments", mapping=PAYMENT_MAPPING)
    client.force_login(clerk)

    for url in (
        reverse("imports:source_edit", args=[source.pk]),
        reverse("imports:upload", args=[source.pk]),
        reverse("imports:preview", args=[source.pk, "0" * 64]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.get(reverse("imports:batch_list"))
    assert list(response.context["sources"]) == []


def test_sandbox_source_commits_nothing(clerk, sandbox):
    source = make_source(sandbox, clerk, "payments", mapping=PAYMENT_MAPPING)
    data = f"{PAYMENTS_HEADER}P-1,ALFKI,2024-03-01,USD,10.00,x\n".encode()
    payments_before = Payment.objects.filter(company=sandbox).count()
    message = (
        f'The source "payments csv" imports into {sandbox.name}, a practice '
        "sandbox, which takes no imports. Create a source for a real company."
    )

    assert preview(source, data).errors == [message]
    batch = commit(source, data, clerk)

    assert (batch.status, batch.error) == (ImportBatch.Status.FAILED, message)
    assert Payment.objects.filter(company=sandbox).count() == payments_before
