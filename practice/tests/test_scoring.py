"""Check my work: the score counts the learner's work, feedback hints, reset clears."""

import re
from decimal import Decimal

import pytest

from practice import services
from practice.scenarios import SCENARIOS, get_scenario
from practice.tests.conftest import only_case, signed_in, work
from reconciliation.models import Allocation, Discrepancy, ResolutionCode

pytestmark = pytest.mark.django_db


def check_results_html(page: str) -> str:
    """Return the check results list of the session page, or ''."""
    found = re.search(r'<ul data-testid="check-results">.*?</ul>', page, re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fresh_session_scores_zero(learner, key):
    session = services.start_session(learner=learner, scenario_key=key)

    results = services.check_results(session, get_scenario(key))

    assert services.score_results(results) == 0


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_check_before_any_work_counts_nothing(learner, key):
    session = services.start_session(learner=learner, scenario_key=key)

    with pytest.raises(services.NothingToCheck) as nothing:
        services.check_session(session_id=session.pk, learner=learner)

    assert str(nothing.value) == (
        "There is nothing to check yet: the sandbox is still as the scenario "
        "started. Work the cases first, then check your work. This did not "
        "count as an attempt."
    )
    session.refresh_from_db()
    assert session.attempts == 0
    assert session.score is None
    assert session.last_check == []


def test_check_after_reset_counts_nothing(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is", note="Fine.")
    services.check_session(session_id=session.pk, learner=learner)
    services.reset_session(session_id=session.pk, learner=learner)

    with pytest.raises(services.NothingToCheck):
        services.check_session(session_id=session.pk, learner=learner)

    session.refresh_from_db()
    assert session.attempts == 1
    assert session.score is None


def test_changed_seed_allocation_fails_and_counts(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    work(session, learner, "SHORT_PAYMENT", "write_off", note="Bank charge.")
    Allocation.objects.filter(payment__company=session.company).update(
        amount=Decimal("300.00")
    )

    results = services.check_session(session_id=session.pk, learner=learner)

    assert [(r.passed, r.scored) for r in results] == [(True, True), (False, True)]
    assert results[1].feedback == (
        "The allocation the scenario started with was changed. The payment "
        "names the invoice it pays: check its allocation."
    )
    session.refresh_from_db()
    assert (session.score, session.status) == (50, "active")


def test_wrong_code_feedback_hides_answer(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-dispute"
    )
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is", note="Fine.")

    results = services.check_session(session_id=session.pk, learner=learner)
    page = signed_in(learner).get(f"/practice/sessions/{session.pk}/")
    shown = check_results_html(page.content.decode())

    assert results[0].feedback == (
        "Accepted as is does not settle this case. Is the deduction inside your "
        "write-off limit? If not, which document lowers what the customer owes "
        "for the broken goods? Reopen the case on its case page to settle it "
        "again. If your step changed the documents, reset the sandbox to start "
        "from the beginning."
    )
    assert "resolved with Accepted as is" in shown
    assert "Credit note" not in shown


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_hints_never_name_expected_code(learner, key):
    scenario = SCENARIOS[key]
    for item in scenario.resolutions:
        for code in item.codes:
            label = str(ResolutionCode(code).label).lower()
            assert label not in item.hint.lower(), (key, item.code)
            assert code not in item.hint, (key, item.code)


def test_wrong_code_feedback_hides_amount(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    work(session, learner, "SHORT_PAYMENT", "accepted_as_is")

    results = services.check_session(session_id=session.pk, learner=learner)

    assert results[0].found == "resolved with Accepted as is"
    assert "12.50" not in results[0].feedback
    assert results[0].feedback.startswith("Accepted as is does not settle this case.")


def test_reset_clears_results_and_keeps_case_numbers(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    client = signed_in(learner)
    url = f"/practice/sessions/{session.pk}/"
    work(session, learner, "SHORT_PAYMENT", "credit_note")
    client.post(f"{url}check/")
    before = client.get(url).content.decode()

    response = client.post(f"{url}reset/", {"confirm": "yes"})
    after = client.get(url).content.decode()

    assert response.status_code == 302
    assert "Found: resolved with Credit note." in check_results_html(before)
    assert check_results_html(after) == ""
    assert "Credit note." not in after
    assert re.findall(r'data-testid="case-number">(\d+)<', before) == ["1"]
    assert re.findall(r'data-testid="case-number">(\d+)<', after) == ["1"]
    assert only_case(session, "SHORT_PAYMENT").state == Discrepancy.State.OPEN
    assert 'data-testid="score">—' in after
    # The page's wording matches what reset does: the attempts stay.
    assert 'data-testid="attempts">1<' in after
    assert "The number of attempts stays, as your history." in after


def test_check_page_before_any_work(learner):
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    client = signed_in(learner)
    url = f"/practice/sessions/{session.pk}/"

    response = client.post(f"{url}check/", follow=True)

    page = response.content.decode()
    assert "There is nothing to check yet" in page
    assert 'data-testid="attempts">0<' in page
    assert 'data-testid="score">—' in page
    assert check_results_html(page) == ""


def test_result_resolved_by_pass_reads_plainly(learner):
    session = services.start_session(learner=learner, scenario_key="unapplied-payment")
    services.allocate(
        session=session,
        learner=learner,
        payment_number="PR-PAY-5001",
        invoice_number="PR-INV-5001",
        amount=None,
    )
    services.check_session(session_id=session.pk, learner=learner)

    page = signed_in(learner).get(f"/practice/sessions/{session.pk}/")

    shown = check_results_html(page.content.decode())
    assert "resolved, because the documents now agree" in shown
    assert "no code" not in shown
