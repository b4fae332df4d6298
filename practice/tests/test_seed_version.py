"""A missing seed digest is rebuilt only by the code that seeded the sandbox.

Each session stores the version of the seeding code (a SHA-256 of its
source, ``practice.seed_version``). While the code has that version, a
missing digest is rebuilt and an untouched sandbox is "nothing to check".
When the code changed, or a session from before the version was stored
has none, no digest is rebuilt. "Check my work" then asks lena to reset
the sandbox instead of taking it for untouched or scoring it, and counts
no attempt. A reset seeds it with this code and checking works again.
"""

import io

import pytest
from django.core.management import call_command

from practice import services
from practice.models import SandboxSession
from practice.seed_version import seed_code_version
from practice.tests.conftest import signed_in, work

pytestmark = pytest.mark.django_db

KEY = "short-payment-dispute"
# The version an earlier seeding code had.
OLDER = "0" * 64


def start_legacy(learner, *, version: str) -> SandboxSession:
    """Start a session, then drop its digest and give it ``version``."""
    session = services.start_session(learner=learner, scenario_key=KEY)
    SandboxSession.objects.filter(pk=session.pk).update(
        seed_digest="", seed_version=version
    )
    return SandboxSession.objects.get(pk=session.pk)


def fill_command() -> str:
    stdout = io.StringIO()
    call_command("fill_seed_digests", stdout=stdout)
    return stdout.getvalue()


def test_start_and_reset_store_code_version(learner):
    session = services.start_session(learner=learner, scenario_key=KEY)
    assert session.seed_version == seed_code_version()
    assert len(session.seed_version) == 64

    SandboxSession.objects.filter(pk=session.pk).update(seed_version=OLDER)
    reset = services.reset_session(session_id=session.pk, learner=learner)

    assert reset.seed_version == seed_code_version()


def test_same_version_rebuilds_digest(learner):
    session = services.start_session(learner=learner, scenario_key=KEY)
    stored = session.seed_digest
    SandboxSession.objects.filter(pk=session.pk).update(seed_digest="")

    with pytest.raises(services.NothingToCheck):
        services.check_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.seed_digest == stored
    assert session.attempts == 0


@pytest.mark.parametrize("version", [OLDER, ""], ids=["older", "unknown"])
def test_changed_version_asks_to_reset(learner, version):
    session = start_legacy(learner, version=version)

    assert services.rebuild_seed_digest(session) == ""
    with pytest.raises(services.SeedChanged) as error:
        services.check_session(session_id=session.pk, learner=learner)

    assert str(error.value) == (
        f"Session {session.pk} was seeded by an earlier version of the practice "
        "sandbox, so Check my work can no longer tell your work from the "
        "scenario's start, and a score could be wrong. Reset the sandbox to "
        "start the scenario again from the current seed (the work in this "
        "sandbox is undone), then work the cases and check again. This check "
        "did not count as an attempt."
    )
    session.refresh_from_db()
    assert session.seed_digest == ""
    assert session.attempts == 0
    assert session.score is None


def test_changed_version_with_work_gets_no_score(learner):
    session = services.start_session(learner=learner, scenario_key=KEY)
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is", note="Fine.")
    SandboxSession.objects.filter(pk=session.pk).update(
        seed_digest="", seed_version=OLDER
    )

    with pytest.raises(services.SeedChanged):
        services.check_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.attempts == 0
    assert session.score is None


def test_reset_makes_changed_session_checkable(learner):
    session = start_legacy(learner, version=OLDER)

    services.reset_session(session_id=session.pk, learner=learner)

    with pytest.raises(services.NothingToCheck):
        services.check_session(session_id=session.pk, learner=learner)
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is", note="Fine.")
    services.check_session(session_id=session.pk, learner=learner)
    session.refresh_from_db()
    assert session.attempts == 1


def test_command_lists_changed_version(learner):
    older = start_legacy(learner, version=OLDER)

    output = fill_command()

    older.refresh_from_db()
    assert older.seed_digest == ""
    assert output == (
        f"Session {older.pk}: left without a seed digest, because it was seeded "
        "by version 000000000000 of the seeding code, and this code may seed "
        "scenario 'short-payment-dispute' differently. The session cannot be "
        "checked until its learner resets the sandbox, which the session page "
        "asks.\n"
        "Filled the seed digest of 0 sessions, and left 1 without one.\n"
    )


def test_session_page_says_to_reset(learner):
    session = start_legacy(learner, version="")
    client = signed_in(learner)

    page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    response = client.post(f"/practice/sessions/{session.pk}/check/", follow=True)

    assert 'data-testid="seed-changed"' in page
    assert "Reset the sandbox to start the scenario again" in page
    assert "did not count as an attempt" not in page
    messages = [str(message) for message in response.context["messages"]]
    assert any("This check did not count as an attempt." in text for text in messages)
    fresh = services.start_session(learner=learner, scenario_key=KEY)
    assert 'data-testid="seed-changed"' not in (
        client.get(f"/practice/sessions/{fresh.pk}/").content.decode()
    )
