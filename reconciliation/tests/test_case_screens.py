"""The case page: customer evidence, labelled actions and the message of each action.

carla reports damaged goods with two files; wanda (warehouse) owns the case,
sally took the order, fiona is a finance clerk, mona and max are managers,
bruno is a customer of another company and olga works in HR.
"""

from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from conftest import make_person
from core.models import AuditEvent
from core.testing import messages_of, signed_in
from portal.models import Evidence, ResolutionProposal
from reconciliation import approvals, cases
from reconciliation.models import Approval, CaseComment, Discrepancy
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order, create_shipment

pytestmark = pytest.mark.django_db

State = Discrepancy.State
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
TEXT_BYTES = b"Two crates arrived crushed.\n"


def close_file(response) -> None:
    """Close the served file without ending the request, which closes the DB."""
    for closer in response._resource_closers:
        closer()


class ControlParser(HTMLParser):
    """Collect the form controls and labels inside the page's main column."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.controls: list[dict[str, str | None]] = []
        self.label_targets: set[str] = set()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "article" and "main-col" in (values.get("class") or ""):
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "article":
            self.depth += 1
        if tag == "label" and values.get("for"):
            self.label_targets.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values)

    def handle_endtag(self, tag):
        if self.depth and tag == "article":
            self.depth -= 1


def parse_controls(response) -> ControlParser:
    parser = ControlParser()
    parser.feed(response.content.decode())
    return parser


def resolution_selects(response) -> int:
    content: str = response.content.decode()
    return content.count('name="resolution_code"')


@pytest.fixture
def media_root(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def hr_person(db):
    return make_person("olga", Role.HR)


@pytest.fixture
def other_customer(other_party):
    return make_person("bruno", Role.CUSTOMER, customer=other_party)


@pytest.fixture
def damaged_report(customer, customer_party, sales_rep, media_root):
    """Return the DAMAGED case carla opened with a photo and a text file."""
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )
    create_shipment(order=order)
    shipment_line = order.shipments.get().lines.get()
    response = signed_in(customer).post(
        f"/reconciliation/portal/orders/{order.number}/problem/",
        {
            "kind": "damaged",
            "line": shipment_line.pk,
            "quantity": "2",
            "message": "Two crates arrived crushed",
            "evidence": [
                SimpleUploadedFile("crate.png", PNG_BYTES, content_type="image/png"),
                SimpleUploadedFile("notes.txt", TEXT_BYTES, content_type="text/plain"),
            ],
        },
    )
    assert response.status_code == 302
    return Discrepancy.objects.get(order=order, code="DAMAGED")


# Evidence on the case page


def test_case_page_lists_evidence(damaged_report, warehouse):
    response = signed_in(warehouse).get(f"/reconciliation/cases/{damaged_report.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    photo = Evidence.objects.get(name="crate.png")
    notes = Evidence.objects.get(name="notes.txt")
    assert f'href="/reconciliation/evidence/{photo.pk}/"' in page
    assert f'href="/reconciliation/evidence/{notes.pk}/"' in page
    assert "<td>image/png</td>" in page
    assert "<td>text/plain</td>" in page
    assert "<td>33\xa0bytes</td>" in page
    assert "<td>28\xa0bytes</td>" in page
    assert "Two crates arrived crushed" in page
    assert "Goods damaged" in page


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("warehouse", 200),
        ("sales_rep", 200),
        ("manager", 200),
        ("customer", 200),
        ("clerk", 404),
        ("other_customer", 404),
        ("hr_person", 404),
    ],
)
def test_evidence_file_per_role(damaged_report, request, person, status):
    viewer = request.getfixturevalue(person)
    photo = Evidence.objects.get(name="crate.png")

    response = signed_in(viewer).get(f"/reconciliation/evidence/{photo.pk}/")

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PNG_BYTES
        assert response["X-Content-Type-Options"] == "nosniff"
        close_file(response)


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("warehouse", 200),
        ("sales_rep", 200),
        ("manager", 200),
        ("customer", 404),
        ("clerk", 404),
        ("other_customer", 404),
        ("hr_person", 404),
    ],
)
def test_case_page_per_role(damaged_report, request, person, status):
    viewer = request.getfixturevalue(person)

    response = signed_in(viewer).get(f"/reconciliation/cases/{damaged_report.pk}/")

    assert response.status_code == status


# Labels and the actions each state offers


def test_every_case_control_has_label(short_payment_case, clerk, manager):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Customer deducted it"
    )
    for person in (clerk, manager):
        parser = parse_controls(
            signed_in(person).get(f"/reconciliation/cases/{short_payment_case.pk}/")
        )
        assert parser.controls
        for control in parser.controls:
            assert control.get("id") in parser.label_targets, control
            assert control.get("placeholder") is None, control


def test_open_case_offers_no_resolution(short_payment_case, clerk):
    response = signed_in(clerk).get(f"/reconciliation/cases/{short_payment_case.pk}/")

    page = response.content.decode()
    assert resolution_selects(response) == 0
    assert 'data-testid="move-in_progress"' in page
    assert 'data-testid="move-resolved"' not in page
    assert 'data-testid="move-proposed_resolution"' not in page
    assert (
        "“Reject” and “Escalate” need a reason; for “Start work” it is optional."
    ) in page


def test_case_in_progress_has_one_select(short_payment_case, clerk):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    response = signed_in(clerk).get(f"/reconciliation/cases/{short_payment_case.pk}/")

    page = response.content.decode()
    assert resolution_selects(response) == 1
    assert ">Resolve case</button>" in page
    assert ">Propose only</button>" in page
    assert "the case stays open" in page


def test_proposed_case_offers_resolve_only(short_payment_case, clerk):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    cases.propose_resolution(
        case_id=short_payment_case.pk,
        actor=clerk,
        resolution_code="refund",
        note="Refund the deduction",
    )

    response = signed_in(clerk).get(f"/reconciliation/cases/{short_payment_case.pk}/")

    page = response.content.decode()
    assert resolution_selects(response) == 1
    assert ">Resolve case</button>" in page
    assert ">Propose only</button>" not in page
    assert '<option value="refund" selected>Refund</option>' in page


def test_write_off_absent_without_invoice(shipped_order, warehouse):
    case = make_case(
        shipped_order,
        code="SHORT_SHIP",
        owner_role=Role.WAREHOUSE,
        difference=None,
    )
    cases.start_case(case_id=case.pk, actor=warehouse)

    response = signed_in(warehouse).get(f"/reconciliation/cases/{case.pk}/")

    page = response.content.decode()
    assert '<option value="refund">Refund</option>' in page
    assert 'value="write_off"' not in page


# The message of each action


def test_start_work_message(short_payment_case, clerk):
    response = signed_in(clerk).post(
        f"/reconciliation/cases/{short_payment_case.pk}/move/",
        {"to": "in_progress", "reason": ""},
        follow=True,
    )

    assert messages_of(response) == [
        f"You started work on case {short_payment_case.pk}. It is assigned to you."
    ]


def test_wait_for_customer_message(short_payment_case, clerk):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    response = signed_in(clerk).post(
        f"/reconciliation/cases/{short_payment_case.pk}/move/",
        {"to": "waiting_customer", "reason": "Asked for the remittance"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Case {short_payment_case.pk} now waits for the customer."
    ]


def test_propose_and_resolve_messages(short_payment_case, clerk):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    client = signed_in(clerk)
    url = f"/reconciliation/cases/{short_payment_case.pk}/move/"

    proposed = client.post(
        url,
        {"to": "proposed_resolution", "resolution_code": "refund", "note": "Refund"},
        follow=True,
    )
    resolved = client.post(
        url,
        {"to": "resolved", "resolution_code": "refund", "note": "Refunded"},
        follow=True,
    )

    assert messages_of(proposed) == [
        f"Proposed Refund on case {short_payment_case.pk}. "
        "The case stays open until someone resolves it."
    ]
    assert messages_of(resolved) == [
        f"Resolved case {short_payment_case.pk} with Refund."
    ]


def test_resolve_without_code_is_rejected(short_payment_case, clerk):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)

    response = signed_in(clerk).post(
        f"/reconciliation/cases/{short_payment_case.pk}/move/",
        {"to": "resolved", "resolution_code": "", "note": "Done"},
        follow=True,
    )

    assert messages_of(response) == [
        "“Resolve case” needs a resolution code: pick one from the list."
    ]
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.IN_PROGRESS


def test_assign_and_comment_messages(short_payment_case, clerk, manager):
    client = signed_in(manager)
    base = f"/reconciliation/cases/{short_payment_case.pk}"

    assigned = client.post(f"{base}/assign/", {"assignee": clerk.pk}, follow=True)
    commented = client.post(f"{base}/comments/", {"body": "Call them"}, follow=True)

    assert messages_of(assigned) == [
        f"Assigned case {short_payment_case.pk} to {clerk.display_name}."
    ]
    assert messages_of(commented) == [
        f"Added your comment to case {short_payment_case.pk}."
    ]


def test_write_off_request_message(short_payment_case, clerk):
    response = signed_in(clerk).post(
        f"/reconciliation/cases/{short_payment_case.pk}/write-off/",
        {"reason": "Customer deducted it"},
        follow=True,
    )

    assert messages_of(response) == [
        f"Sent the write-off of 83.63 USD on case {short_payment_case.pk} "
        "to a manager for approval."
    ]


def test_approved_write_off_resolves_case(short_payment_case, clerk, manager):
    approval = approvals.request_write_off(
        case_id=short_payment_case.pk, actor=clerk, reason="Customer deducted it"
    )
    decided = signed_in(manager).post(
        f"/reconciliation/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": ""},
        follow=True,
    )
    client = signed_in(clerk)

    page = client.get(f"/reconciliation/cases/{short_payment_case.pk}/")
    again = client.post(
        f"/reconciliation/cases/{short_payment_case.pk}/write-off/",
        {"reason": "Once more"},
        follow=True,
    )

    assert messages_of(decided) == [
        f"Approved the write-off of 83.63 USD on case {short_payment_case.pk}. "
        "The write-off is booked and the case is resolved; the requester is told."
    ]
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.RESOLVED
    text = page.content.decode()
    assert 'data-testid="request-write-off"' not in text
    assert 'data-testid="resolution-form"' not in text
    assert messages_of(again) == [
        f"Case {short_payment_case.pk} is resolved: reopen it before requesting "
        "a write-off."
    ]
    assert Approval.objects.filter(case=short_payment_case).count() == 1


def test_write_off_within_limit_not_offered(short_payment_case, clerk, settings):
    settings.RECONCILIATION_WRITE_OFF_LIMIT = "100.00"

    response = signed_in(clerk).get(f"/reconciliation/cases/{short_payment_case.pk}/")

    assert 'data-testid="request-write-off"' not in response.content.decode()


# Credit notes that wait for approval


def test_credit_note_above_limit_message(short_payment_case, sales_rep, settings):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    client = signed_in(sales_rep)

    response = client.post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": "80.00", "message": "We credit the deduction."},
        follow=True,
    )
    page = client.get(f"/reconciliation/cases/{short_payment_case.pk}/")

    assert messages_of(response) == [
        "The credit note of 80.00 USD is above your limit, so it was sent to a "
        "manager for approval. The customer sees it once a manager approves it."
    ]
    text = page.content.decode()
    assert "Credit note of 80.00 USD requested by" in text
    assert "Write-off of" not in text


def test_case_page_approves_credit_note(
    short_payment_case, sales_rep, manager, settings
):
    settings.SALES_REP_CREDIT_LIMIT = "50.00"
    signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": "80.00", "message": "We credit the deduction."},
    )
    approval = Approval.objects.get(case=short_payment_case)

    response = signed_in(manager).post(
        f"/reconciliation/approvals/{approval.pk}/decide/",
        {"decision": "approve", "reason": ""},
        follow=True,
    )

    assert messages_of(response) == [
        f"Approved the credit note of 80.00 USD on case {short_payment_case.pk}. "
        "The credit note is now offered to the customer."
    ]
    proposal = ResolutionProposal.objects.get(case=short_payment_case)
    assert proposal.state == ResolutionProposal.State.AWAITING_CUSTOMER
    short_payment_case.refresh_from_db()
    assert short_payment_case.state == State.PROPOSED_RESOLUTION


# Text with control characters: PostgreSQL rejects NUL in a text column.


def approval_url(case, clerk) -> str:
    approval = approvals.request_write_off(
        case_id=case.pk, actor=clerk, reason="Customer deducted it"
    )
    return f"/reconciliation/approvals/{approval.pk}/decide/"


@pytest.mark.parametrize(
    ("surface", "data"),
    [
        ("move/", {"to": "waiting_customer", "reason": "Asked\x00 for remittance"}),
        (
            "move/",
            {
                "to": "proposed_resolution",
                "resolution_code": "refund",
                "note": "Refund\x00 the fee",
            },
        ),
        ("assign/", {"reason": "Back\x00 from leave"}),
        ("comments/", {"body": "Call\x00 them"}),
        ("write-off/", {"reason": "Customer\x00 deducted it"}),
        ("decide", {"decision": "approve", "reason": "Small\x00 amount"}),
    ],
    ids=["move-reason", "move-note", "assign", "comment", "write-off", "decide"],
)
def test_case_text_loses_control_characters(
    short_payment_case, clerk, manager, surface, data
):
    cases.start_case(case_id=short_payment_case.pk, actor=clerk)
    posted = dict(data)
    if surface == "assign/":
        posted["assignee"] = clerk.pk
    if surface == "decide":
        url = approval_url(short_payment_case, clerk)
    else:
        url = f"/reconciliation/cases/{short_payment_case.pk}/{surface}"
    client = signed_in(manager if surface in {"assign/", "decide"} else clerk)
    text = next(
        value for key, value in data.items() if key in {"reason", "note", "body"}
    )

    response = client.post(url, posted, follow=True)

    (message,) = messages_of(response)
    assert "\x00" not in message
    cleaned = text.replace("\x00", "")
    stored = AuditEvent.objects.filter(reason__contains=cleaned).exists() or (
        CaseComment.objects.filter(body=cleaned).exists()
    )
    assert stored, message


def test_credit_note_message_loses_control_characters(short_payment_case, sales_rep):
    response = signed_in(sales_rep).post(
        f"/reconciliation/work/cases/{short_payment_case.pk}/credit-note/",
        {"amount": "80.00", "message": "We credit\x00 the deduction."},
        follow=True,
    )

    assert response.status_code == 200
    proposal = ResolutionProposal.objects.get(case=short_payment_case)
    assert proposal.message == "We credit the deduction."


def test_shortage_note_loses_control_characters(customer_party, sales_rep, warehouse):
    order = create_order(
        lines=[("10", "36.36")],
        company=customer_party.company,
        customer=customer_party,
        sales_rep=sales_rep,
    )

    response = signed_in(warehouse).post(
        f"/reconciliation/work/orders/{order.number}/shortage/",
        {"line": "1", "qty": "1", "note": "One\x00 box short"},
        follow=True,
    )

    assert response.status_code == 200
    case = Discrepancy.objects.get()
    assert case.explanation.endswith(": One box short")
