"""People and helpers for the practice tests.

``learner`` is a finance clerk who practises; ``other_learner`` a second
one, whose sessions the first must never reach.
"""

import pytest
from django.test import Client

from accounts.models import Role
from conftest import make_person
from practice import services
from practice.models import SandboxSession
from practice.selectors import session_case_number
from reconciliation.models import Discrepancy


@pytest.fixture
def learner(db):
    return make_person("lena", Role.FINANCE_CLERK, group="operations")


@pytest.fixture
def other_learner(db):
    return make_person("oskar", Role.FINANCE_CLERK, group="operations")


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def case_number(session: SandboxSession, case: Discrepancy) -> int:
    """Return the number that the session's URLs and pages give ``case``."""
    return session_case_number(session, case)


def only_case(session: SandboxSession, code: str) -> Discrepancy:
    return Discrepancy.objects.get(company=session.company, code=code)


def work(session, learner, code, resolution_code, note="Done."):
    """Start and resolve the session's case of ``code`` through the services."""
    case = only_case(session, code)
    services.start_case(session=session, case_id=case.pk, learner=learner)
    return services.resolve_case(
        session=session,
        case_id=case.pk,
        learner=learner,
        resolution_code=resolution_code,
        note=note,
    )
