"""The practice pages: scoped to the learner's own session."""

import pytest

from practice import services
from practice.models import SandboxSession
from practice.tests.conftest import case_number, only_case, signed_in
from reconciliation.models import Payment

pytestmark = pytest.mark.django_db


def test_learner_works_a_scenario_through_the_pages(learner):
    client = signed_in(learner)
    catalogue = client.get("/practice/")
    assert catalogue.status_code == 200
    assert "A short payment inside the write-off limit" in catalogue.content.decode()

    started = client.post("/practice/start/", {"scenario": "short-payment-write-off"})
    session = SandboxSession.objects.get(learner=learner)
    assert started.url == f"/practice/sessions/{session.pk}/"
    case = only_case(session, "SHORT_PAYMENT")
    base = f"/practice/sessions/{session.pk}/"
    client.post(
        f"{base}cases/{case_number(session, case)}/move/", {"to": "in_progress"}
    )
    client.post(
        f"{base}cases/{case_number(session, case)}/move/",
        {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."},
    )
    client.post(f"{base}check/")

    page = client.get(base).content.decode()
    session.refresh_from_db()
    assert (session.score, session.status) == (100, "finished")
    assert 'data-testid="score">100 %' in page
    assert "This session is finished." in page


def test_case_actions_confirm_what_they_did(learner):
    client = signed_in(learner)
    session = services.start_session(
        learner=learner, scenario_key="short-payment-write-off"
    )
    case = only_case(session, "SHORT_PAYMENT")
    url = f"/practice/sessions/{session.pk}/cases/{case_number(session, case)}/"

    started = client.post(url + "move/", {"to": "in_progress"}, follow=True)
    resolved = client.post(
        url + "move/",
        {"to": "resolved", "resolution_code": "write_off", "note": "Bank fee."},
        follow=True,
    )

    assert started.redirect_chain[-1][0] == url
    assert "You started work on case 1." in started.content.decode()
    assert "Resolved case 1 with Write-off." in resolved.content.decode()


def test_bad_input_gets_a_message(learner):
    client = signed_in(learner)
    response = client.post("/practice/start/", {"scenario": "nope"}, follow=True)
    assert "There is no practice scenario &#x27;nope&#x27;" in response.content.decode()

    session = services.start_session(learner=learner, scenario_key="unapplied-payment")
    base = f"/practice/sessions/{session.pk}/"
    payment = Payment.objects.get(company=session.company, number="PR-PAY-5001")
    page = client.post(
        f"{base}work/cash/apply/",
        {"payment": payment.pk, "invoice": "1", "amount": "ten"},
        follow=True,
    ).content.decode()
    assert (
        "Amount in EUR &#x27;ten&#x27; is not a number: enter digits such as 12.5."
        in page
    )
    case = only_case(session, "UNAPPLIED_PAYMENT")
    page = client.post(
        f"{base}cases/{case_number(session, case)}/move/", {"to": "fly"}, follow=True
    ).content.decode()
    assert "Unknown state &#x27;fly&#x27;: pick one of the buttons." in page
    page = client.post(
        f"{base}cases/{case_number(session, case)}/move/",
        {"to": "resolved", "resolution_code": "refund", "note": "x"},
        follow=True,
    ).content.decode()
    assert (
        f"Cannot move case {case_number(session, case)} from open to resolved" in page
    )


def test_another_persons_session_is_404(learner, other_learner, customer):
    session = services.start_session(learner=learner, scenario_key="duplicate-invoice")
    case = only_case(session, "DUPLICATE_INVOICE")
    base = f"/practice/sessions/{session.pk}/"

    for person in (other_learner, customer):
        client = signed_in(person)
        assert client.get(base).status_code == 404
        for action in (
            "check/",
            "reset/",
            "work/cash/",
            f"cases/{case_number(session, case)}/move/",
        ):
            assert client.post(base + action, {"to": "in_progress"}).status_code == 404
        assert (
            client.get(f"{base}cases/{case_number(session, case)}/").status_code == 404
        )
    assert signed_in(customer).get("/practice/").status_code == 404
    case.refresh_from_db()
    session.refresh_from_db()
    assert (case.state, case.assignee_id, session.attempts) == ("open", None, 0)


def test_case_of_other_session_404(learner):
    mine = services.start_session(learner=learner, scenario_key="duplicate-invoice")
    other = services.start_session(learner=learner, scenario_key="unshipped-backorder")
    foreign = only_case(other, "NOT_SHIPPED")

    client = signed_in(learner)
    url = f"/practice/sessions/{mine.pk}/cases/{foreign.pk}/"
    response = client.post(url + "move/", {"to": "in_progress"})

    assert response.status_code == 404
    assert client.get(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "open"


def test_catalogue_names_sessions_and_roles(learner):
    client = signed_in(learner)
    session = services.start_session(
        learner=learner, scenario_key="unshipped-backorder"
    )

    page = client.get("/practice/").content.decode()

    assert (
        f"Session {session.pk}</a>: An unshipped line that needs a backorder "
        "decision, Active"
    ) in page
    assert "unshipped-backorder," not in page
    backorder_row = page.split("An unshipped line that needs a backorder decision")[1]
    assert "<td>Sales representative</td>" in backorder_row.split("</tr>")[0]
