"""The damaged goods scenario, settled with a replacement shipment.

Alpenblick Feinkost reported 3 tins of Assam tea damaged and wants them
again. Lena, the learner, offers a replacement on the sales decision
screen, and the scenario's scripted customer accepts it at once. Lena then
ships it on Pick and ship, and the case resolves with ``reship``. A
replacement of the right units earns full marks, a credit note half, a
write-off none. Reset restores the seed exactly and touches no real row.
"""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from assist.selectors import build_help_panel
from core.models import AuditEvent
from demo.knowledge import create_content
from portal.models import ResolutionProposal
from practice import services
from practice.models import SandboxSession
from practice.roles import played_role
from practice.scenarios import SCENARIOS
from practice.seed import fingerprint
from practice.tests.conftest import signed_in
from practice.tests.test_sessions import real_rows
from reconciliation.models import Discrepancy, SalesOrder, Shipment
from reconciliation.reships import propose_reship
from reconciliation.tests.shipment_forms import with_form_token

pytestmark = pytest.mark.django_db

KEY = "damaged-goods-replacement"
ORDER = "PR-SO-7001"


def begin(learner) -> tuple[SandboxSession, Client]:
    session = services.start_session(learner=learner, scenario_key=KEY)
    return session, signed_in(learner)


def work_url(session: SandboxSession, rest: str) -> str:
    return f"/practice/sessions/{session.pk}/work/{rest}"


def messages_of(response) -> list[str]:
    return [str(item) for item in response.context["messages"]]


def offer_replacement(session, client, qty: str = "3") -> list[str]:
    done = client.post(
        work_url(session, "cases/1/reship/"),
        {"qty": qty, "message": "We send the dented tins again."},
        follow=True,
    )
    return messages_of(done)


def ship_replacement(session, client, qty: str) -> list[str]:
    draft = Shipment.objects.get(
        company=session.company, state=Shipment.State.DRAFT, replaces_case__isnull=False
    )
    done = client.post(
        work_url(session, f"orders/{ORDER}/shipments/"),
        with_form_token(
            {"picked_1": qty, "shipped_1": qty, "ship": "1", "shipment": draft.number}
        ),
        follow=True,
    )
    return messages_of(done)


def the_case(session: SandboxSession) -> Discrepancy:
    return Discrepancy.objects.get(company=session.company, code="DAMAGED")


def check(session: SandboxSession) -> list[services.CheckResult]:
    results = services.check_session(session_id=session.pk, learner=session.learner)
    session.refresh_from_db()
    return results


def test_seed_has_damaged_case_only(learner):
    session, _client = begin(learner)

    case = the_case(session)
    assert list(
        Discrepancy.objects.filter(company=session.company).values_list("code")
    ) == [("DAMAGED",)]
    assert (case.difference, case.unit, case.order.number) == (
        Decimal(3),
        "unit",
        ORDER,
    )
    assert services.score_results(services.check_results(session, SCENARIOS[KEY])) == (
        0
    )


def test_right_replacement_earns_full_marks(learner):
    session, client = begin(learner)
    page = client.get(work_url(session, "cases/1/"))
    assert page.status_code == 200
    assert work_url(session, "cases/1/reship/") in page.content.decode()

    said = offer_replacement(session, client)

    assert "Offered the replacement shipment to the customer." in said
    assert any(
        text.startswith("Alpenblick Feinkost accepted the replacement at once")
        for text in said
    ), said
    proposal = ResolutionProposal.objects.get(case__company=session.company)
    assert proposal.state == ResolutionProposal.State.ACCEPTED
    event = AuditEvent.objects.get(action="practice.customer_accepted")
    assert event.after["proposal_id"] == proposal.pk
    assert the_case(session).state == Discrepancy.State.WAITING_INTERNAL
    # Pick and ship lists the draft replacement, as the real screen does.
    fulfilment = client.get(work_url(session, f"orders/{ORDER}/fulfilment/"))
    assert "(replacement)" in fulfilment.content.decode()

    ship_replacement(session, client, "3")

    case = the_case(session)
    assert (case.state, case.resolution_code) == (Discrepancy.State.RESOLVED, "reship")
    results = check(session)
    assert [(r.passed, r.found) for r in results] == [
        (True, "resolved with Reship, replacing 3 units")
    ]
    assert (session.score, session.status) == (100, SandboxSession.Status.FINISHED)
    # No other case opened: the replacement is neither an over-shipment nor
    # late, and nothing is billed again.
    assert Discrepancy.objects.filter(company=session.company).count() == 1


def test_fewer_units_leave_case_open(learner):
    session, client = begin(learner)
    offer_replacement(session, client, "2")
    ship_replacement(session, client, "2")

    case = the_case(session)
    assert case.state == Discrepancy.State.IN_PROGRESS
    [result] = check(session)
    assert not result.passed
    assert result.feedback.startswith("The case is not resolved yet.")
    assert session.score == 0


def test_wrong_units_by_hand_fail(learner):
    session, client = begin(learner)
    offer_replacement(session, client, "2")
    ship_replacement(session, client, "2")
    # The learner resolves the case by hand as replaced, 1 tin short.
    client.post(
        f"/practice/sessions/{session.pk}/cases/1/move/",
        {"to": "resolved", "resolution_code": "reship", "note": "Sent again."},
    )
    assert the_case(session).state == Discrepancy.State.RESOLVED

    [result] = check(session)

    assert not result.passed
    assert result.found == "resolved with Reship, replacing 2 units"
    assert result.feedback.startswith(
        "The replacement shipments sent 2 units, which is not what the case is about."
    )
    assert session.score == 0


def test_credit_note_earns_half(learner):
    session, client = begin(learner)
    client.post(
        work_url(session, "cases/1/credit-note/"),
        {"amount": "37.50", "message": "We credit the dented tins."},
    )
    proposal = ResolutionProposal.objects.get(case__company=session.company)
    # A credit note waits for the learner to answer as the customer.
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
    )
    assert the_case(session).resolution_code == "credit_note"

    [result] = check(session)

    assert (result.passed, result.part) == (False, 50)
    assert "earns 50 % of this check" in result.feedback
    assert session.score == 50
    assert session.status == SandboxSession.Status.ACTIVE
    page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    assert "not yet, 50 % of its marks." in page


def test_write_off_earns_nothing(learner):
    session, client = begin(learner)
    url = f"/practice/sessions/{session.pk}/cases/1/move/"
    client.post(url, {"to": "in_progress"})

    done = client.post(
        url,
        {"to": "resolved", "resolution_code": "write_off", "note": "Gone."},
        follow=True,
    )

    # The case counts tins, not money, so the case page books no write-off.
    assert messages_of(done)[-1] == (
        "Case 1 measures its difference in unit, not in money, so there is no "
        "money to write off: propose a credit note or resolve the case with "
        "another code."
    )
    assert the_case(session).state == Discrepancy.State.IN_PROGRESS
    # A case that ended with a write-off anyway, as an import could end it,
    # earns nothing.
    Discrepancy.objects.filter(pk=the_case(session).pk).update(
        state=Discrepancy.State.RESOLVED, resolution_code="write_off"
    )
    [result] = check(session)
    assert (result.passed, result.part) == (False, 0)
    assert result.feedback.startswith("Write-off does not settle this case.")
    assert session.score == 0


def test_accepted_as_is_earns_nothing(learner):
    session, client = begin(learner)
    url = f"/practice/sessions/{session.pk}/cases/1/move/"
    client.post(url, {"to": "in_progress"})
    client.post(
        url, {"to": "resolved", "resolution_code": "accepted_as_is", "note": "Ok."}
    )

    [result] = check(session)

    assert (result.passed, result.part) == (False, 0)
    assert session.score == 0


def test_reset_restores_seed_exactly(learner, make_order, customer_party):
    make_order("10248", customer_party)
    before_real = real_rows()
    session, client = begin(learner)
    seeded = fingerprint(session.company)
    offer_replacement(session, client)
    ship_replacement(session, client, "3")
    assert fingerprint(session.company) != seeded

    services.reset_session(session_id=session.pk, learner=learner)

    assert fingerprint(session.company) == seeded
    assert not Shipment.objects.filter(
        company=session.company, replaces_case__isnull=False
    ).exists()
    assert the_case(session).state == Discrepancy.State.OPEN
    after = real_rows()
    for name, ids in before_real.items():
        assert [pk for pk in after[name] if pk in set(ids)] == ids, name
    assert set(
        SalesOrder.objects.exclude(pk__in=before_real["SalesOrder"]).values_list(
            "company_id", flat=True
        )
    ) == {session.company_id}


def test_reship_route_stays_in_session(learner, other_learner):
    session, client = begin(learner)
    # A case number past the session's cases, and another person's session.
    assert client.post(
        work_url(session, "cases/2/reship/"), {"qty": "3", "message": "Again."}
    ).status_code == (404)
    other = signed_in(other_learner)
    assert other.post(
        work_url(session, "cases/1/reship/"), {"qty": "3", "message": "Again."}
    ).status_code == (404)
    assert not ResolutionProposal.objects.filter(case__company=session.company)


def test_bad_quantity_writes_nothing(learner):
    session, client = begin(learner)

    said = offer_replacement(session, client, "4")

    assert any("Replacement quantity 4 is more than the 3 units" in t for t in said)
    assert not ResolutionProposal.objects.filter(case__company=session.company)
    assert not AuditEvent.objects.filter(action="practice.customer_accepted")


def test_help_panel_explains_replacement(learner, facilitator):
    create_content(author=facilitator)
    session, client = begin(learner)
    question = "The customer reported damaged goods. Replacement or credit note?"

    page = client.get(work_url(session, "cases/1/"))

    # The sales decision screen of the damaged case shows its code's help.
    assert page.status_code == 200
    assert page.context["help_context"] == "reconciliation.order.damaged"
    assert question in page.content.decode()
    panel = build_help_panel(viewer=learner, key="reconciliation.order.damaged")
    assert question in [item.question for item in panel.faq_entries]


def test_learner_accepts_waiting_replacement(learner):
    session, client = begin(learner)
    case = the_case(session)
    services.take_case(session=session, case_id=case.pk, learner=learner)
    # An offer made by the service, not the screen, waits for an answer.
    proposal = propose_reship(
        actor=played_role(learner, Role.SALES_REP),
        case_id=case.pk,
        qty=Decimal(3),
        message="We send the dented tins again.",
    )
    page = client.get(f"/practice/sessions/{session.pk}/").content.decode()
    assert 'data-testid="accept-offer"' in page
    assert (
        "Replacement shipment, with nothing invoiced for it: “We send the dented tins again.”"
        in page
    )

    done = client.post(
        f"/practice/sessions/{session.pk}/proposals/{proposal.pk}/answer/",
        {"decision": "accept"},
        follow=True,
    )

    assert messages_of(done) == [
        "As the customer, you accepted the replacement: the replacement "
        "shipment now waits in Pick and ship."
    ]
    proposal.refresh_from_db()
    assert proposal.state == ResolutionProposal.State.ACCEPTED
    assert Shipment.objects.get(replaces_case=case).state == Shipment.State.DRAFT
