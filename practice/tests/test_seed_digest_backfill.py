"""Sessions started before the seed digest was stored get it rebuilt.

The digest of a seed depends on the scenario and the day it is seeded as
of, not on the sandbox's ids or the clock. Seeding the scenario again as
of the same day, in a discarded copy, gives the digest the session would
have stored. ``fill_seed_digests`` stores it, and "Check my work" fills it
too, so an untouched old session no longer counts an attempt.
"""

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import AuditEvent
from practice import services
from practice.models import SandboxSession
from practice.scenarios import AS_OF, SCENARIOS
from practice.tests.conftest import work
from reconciliation.models import Company, Party

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 2)


def make_legacy(session: SandboxSession) -> str:
    """Clear the session's digest as before it was stored; return the old one."""
    digest = session.seed_digest
    SandboxSession.objects.filter(pk=session.pk).update(seed_digest="")
    return digest


def fill_command() -> str:
    stdout = io.StringIO()
    call_command("fill_seed_digests", stdout=stdout)
    return stdout.getvalue()


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_two_sandboxes_share_digest(learner, other_learner, company, key):
    first = services.start_session(learner=learner, scenario_key=key, today=DAY)
    # Rows of another company in between, so the second seed's ids differ by
    # more than the first seed's row count.
    Party.objects.create(company=company, code="GAP", name="Gap", currency_id="USD")
    second = services.start_session(learner=other_learner, scenario_key=key, today=DAY)

    assert first.company_id != second.company_id
    assert first.seed_digest
    assert first.seed_digest == second.seed_digest


def test_digest_depends_on_seed_day(learner, other_learner):
    key = "short-payment-dispute"
    first = services.start_session(learner=learner, scenario_key=key, today=DAY)
    later = services.start_session(
        learner=other_learner, scenario_key=key, today=DAY + timedelta(days=1)
    )

    assert first.seed_digest != later.seed_digest


def test_digest_ignores_clock(learner, other_learner, monkeypatch):
    key = "unshipped-backorder"
    first = services.start_session(learner=learner, scenario_key=key, today=DAY)
    later_clock = timezone.now() + timedelta(days=40)
    monkeypatch.setattr(timezone, "now", lambda: later_clock)

    second = services.start_session(learner=other_learner, scenario_key=key, today=DAY)

    assert first.seed_digest == second.seed_digest


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_rebuilt_digest_equals_stored(learner, key):
    session = services.start_session(learner=learner, scenario_key=key, today=DAY)
    stored = make_legacy(session)
    companies = Company.objects.count()

    rebuilt = services.rebuild_seed_digest(SandboxSession.objects.get(pk=session.pk))

    assert rebuilt == stored
    assert Company.objects.count() == companies


def test_rebuild_uses_latest_reset_day(learner):
    session = services.start_session(
        learner=learner, scenario_key="duplicate-invoice", today=DAY
    )
    reset = services.reset_session(
        session_id=session.pk, learner=learner, today=DAY + timedelta(days=9)
    )
    stored = make_legacy(reset)

    rebuilt = services.rebuild_seed_digest(SandboxSession.objects.get(pk=session.pk))

    assert rebuilt == stored


def test_event_without_day_uses_fixed_dates(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off", today=AS_OF
    )
    stored = make_legacy(session)
    started = AuditEvent.objects.filter(
        action="practice.started", object_id=str(session.pk)
    )
    after = started.get().after
    del after["as_of"]
    started.update(after=after)

    rebuilt = services.rebuild_seed_digest(SandboxSession.objects.get(pk=session.pk))

    assert rebuilt == stored


def test_command_fills_legacy_session(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    stored = make_legacy(session)

    output = fill_command()

    session.refresh_from_db()
    assert session.seed_digest == stored
    assert output == "Filled the seed digest of 1 sessions, and left 0 without one.\n"
    with pytest.raises(services.NothingToCheck):
        services.check_session(session_id=session.pk, learner=learner)
    session.refresh_from_db()
    assert session.attempts == 0


def test_command_skips_changed_version(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    make_legacy(session)
    SandboxSession.objects.filter(pk=session.pk).update(scenario_version=99)

    output = fill_command()

    session.refresh_from_db()
    assert session.seed_digest == ""
    assert output == (
        f"Session {session.pk}: left without a seed digest, because the catalogue "
        "no longer has version 99 of scenario 'short-payment-dispute'. The "
        "session cannot be checked, and its learner is asked to start a new one.\n"
        "Filled the seed digest of 0 sessions, and left 1 without one.\n"
    )


def test_check_fills_legacy_digest(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    stored = make_legacy(session)

    with pytest.raises(services.NothingToCheck):
        services.check_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.seed_digest == stored
    assert session.attempts == 0


def test_legacy_session_with_work_counts(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is", note="Fine.")
    make_legacy(session)

    fill_command()
    services.check_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.attempts == 1
    assert session.score is not None
