"""notify writes no notification about an object its recipient may not read.

Each subject kind in ``notifications.subjects.RULES`` is walked with one
person who may read the object and one who may not.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import Role, User
from answers.models import Answer, FaqEntry, Question, QuestionComment
from conftest import make_person
from notifications.models import Notification
from notifications.services import notify
from notifications.subjects import FAQ_REVIEW_PREFIX, RULES
from portal.models import ProblemReport, ResolutionProposal
from reconciliation.models import Approval
from reconciliation.tests.conftest import make_case
from reconciliation.tests.factories import create_order, create_shipment
from social.models import Comment, Post

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Subject:
    key: str
    url: str
    reader: User
    non_reader: User


@pytest.fixture
def outsider(db) -> User:
    return make_person("otto", Role.SALES_REP, group="sales")


@pytest.fixture
def private_answer(private_community, facilitator) -> Answer:
    question = Question.objects.create(
        community=private_community,
        author=facilitator,
        author_name=facilitator.display_name,
        title="Floor price for chai?",
    )
    return Answer.objects.create(
        question=question,
        author=facilitator,
        author_name=facilitator.display_name,
        body="Ask pricing.",
        body_html="<p>Ask pricing.</p>",
    )


@pytest.fixture
def private_comment(private_community, facilitator) -> Comment:
    post = Post.objects.create(
        community=private_community,
        author=facilitator,
        author_name=facilitator.display_name,
        body="Chai floor price is 12.",
        body_html="<p>Chai floor price is 12.</p>",
    )
    return Comment.objects.create(
        post=post,
        author=facilitator,
        author_name=facilitator.display_name,
        body="Noted.",
        body_html="<p>Noted.</p>",
    )


def _question_subject(prefix: str) -> Callable[..., Subject]:
    def build(private_answer, facilitator, outsider, **_) -> Subject:
        question = private_answer.question
        url = f"/questions/{question.pk}/"
        return Subject(f"{prefix}:{question.pk}", url, facilitator, outsider)

    return build


def _answer_subject(prefix: str) -> Callable[..., Subject]:
    def build(private_answer, facilitator, outsider, **_) -> Subject:
        url = f"/questions/{private_answer.question_id}/"
        return Subject(f"{prefix}:{private_answer.pk}", url, facilitator, outsider)

    return build


def _qa_comment(private_answer, facilitator, outsider, **_) -> Subject:
    comment = QuestionComment.objects.create(
        question=private_answer.question,
        author=facilitator,
        author_name=facilitator.display_name,
        body="Which chai?",
        body_html="<p>Which chai?</p>",
    )
    url = f"/questions/{comment.question_id}/"
    return Subject(f"qa-comment:{comment.pk}", url, facilitator, outsider)


def _faq_subject(prefix: str) -> Callable[..., Subject]:
    def build(sales_rep, customer, **_) -> Subject:
        entry = FaqEntry.objects.create(
            question="Margin rule after the audit",
            answer="x",
            answer_html="<p>x</p>",
            customer_visible=False,
        )
        url = f"/questions/faq/{entry.pk}/"
        return Subject(f"{prefix}:{entry.pk}", url, sales_rep, customer)

    return build


def _post(private_comment, facilitator, outsider, **_) -> Subject:
    post = private_comment.post
    return Subject(f"post:{post.pk}", f"/posts/{post.pk}/", facilitator, outsider)


def _comment(private_comment, facilitator, outsider, **_) -> Subject:
    url = f"/posts/{private_comment.post_id}/"
    return Subject(f"comment:{private_comment.pk}", url, facilitator, outsider)


def _approval(customer_party, sales_rep, **_) -> Subject:
    order = create_order(company=customer_party.company, customer=customer_party)
    case = make_case(order)
    approval = Approval.objects.create(
        case=case,
        amount=Decimal("83.63"),
        currency_id=order.currency_id,
        requested_by=sales_rep,
        request_reason="Short payment",
    )
    manager = make_person("mia", Role.MANAGER)
    hr = make_person("hal", Role.HR)
    url = f"/reconciliation/cases/{case.pk}/"
    return Subject(f"approval:{approval.pk}:requested", url, manager, hr)


def _proposal(customer_party, other_party, customer, sales_rep, **_) -> Subject:
    order = create_order(company=customer_party.company, customer=customer_party)
    case = make_case(order)
    proposal = ResolutionProposal.objects.create(
        case=case,
        resolution_code="CREDIT",
        currency="USD",
        message="We credit the difference.",
        proposed_by=sales_rep,
        state=ResolutionProposal.State.AWAITING_CUSTOMER,
    )
    stranger = make_person("bert", Role.CUSTOMER, customer=other_party)
    url = f"/portal/cases/{case.pk}/"
    return Subject(f"proposal:{proposal.pk}:offered", url, customer, stranger)


def _problem(customer_party, customer, **_) -> Subject:
    order = create_order(company=customer_party.company, customer=customer_party)
    case = make_case(order)
    report = ProblemReport.objects.create(
        order=order,
        kind=ProblemReport.Kind.WRONG_PRICE,
        message="The price is wrong.",
        case=case,
        reported_by=customer,
    )
    manager = make_person("mia", Role.MANAGER)
    hr = make_person("hal", Role.HR)
    url = f"/reconciliation/cases/{case.pk}/"
    return Subject(f"problem:{report.pk}", url, manager, hr)


def _case(customer_party, customer, **_) -> Subject:
    # A shortage case nobody offered to carla: her portal does not list it.
    order = create_order(company=customer_party.company, customer=customer_party)
    case = make_case(order, code="SHORT_SHIP", owner_role=Role.SALES_REP)
    rep = make_person("sam", Role.SALES_REP)
    url = f"/reconciliation/work/cases/{case.pk}/"
    return Subject(f"case:{case.pk}:decision", url, rep, customer)


def _shipment(customer_party, other_party, customer, **_) -> Subject:
    # A shipment of another customer's order: carla may not open it.
    order = create_order(company=other_party.company, customer=other_party)
    shipment = create_shipment(order=order)
    walter = make_person("walter", Role.WAREHOUSE)
    url = f"/reconciliation/work/orders/{order.number}/fulfilment/"
    return Subject(f"shipment:{shipment.pk}:to_ship", url, walter, customer)


BUILDERS: dict[str, Callable[..., Subject]] = {
    "question": _question_subject("question"),
    "question-closed": _question_subject("question-closed"),
    "question-reopened": _question_subject("question-reopened"),
    "question-escalated": _question_subject("question-escalated"),
    "answer": _answer_subject("answer"),
    "answer-unaccepted": _answer_subject("answer-unaccepted"),
    "qa-comment": _qa_comment,
    "faq": _faq_subject("faq"),
    FAQ_REVIEW_PREFIX: _faq_subject(FAQ_REVIEW_PREFIX),
    "post": _post,
    "comment": _comment,
    "approval": _approval,
    "proposal": _proposal,
    "problem": _problem,
    "case": _case,
    "shipment": _shipment,
}
FIXTURES = (
    "private_answer",
    "private_comment",
    "facilitator",
    "outsider",
    "sales_rep",
    "customer",
    "customer_party",
    "other_party",
)


def test_every_rule_is_walked():
    assert set(BUILDERS) == {*RULES, FAQ_REVIEW_PREFIX}


@pytest.mark.parametrize("prefix", sorted(BUILDERS))
def test_only_readers_are_notified(request, prefix):
    fixtures = {name: request.getfixturevalue(name) for name in FIXTURES}
    subject = BUILDERS[prefix](**fixtures)

    notify(
        recipients=[subject.reader, subject.non_reader],
        kind=Notification.Kind.QUESTION_ROUTED,
        actor=None,
        message="About something",
        url=subject.url,
        subject_key=subject.key,
    )

    assert Notification.objects.filter(recipient=subject.reader).count() == 1
    assert not Notification.objects.filter(recipient=subject.non_reader).exists()


def test_missing_subject_notifies_nobody(sales_rep):
    notify(
        recipients=[sales_rep],
        kind=Notification.Kind.QUESTION_ROUTED,
        actor=None,
        message="Someone asked: a deleted question",
        url="/questions/999999/",
        subject_key="question:999999",
    )
    assert not Notification.objects.exists()


def test_community_notice_is_not_checked(sales_rep):
    notify(
        recipients=[sales_rep],
        kind=Notification.Kind.MEMBER_REMOVED,
        actor=None,
        message="You were removed from Pricing internal.",
        url="/communities/",
        subject_key="audit:1",
    )
    assert Notification.objects.filter(recipient=sales_rep).count() == 1


def test_subject_without_rule_is_rejected(sales_rep):
    with pytest.raises(ValueError, match="No visibility rule for subject key 'x:1'"):
        notify(
            recipients=[sales_rep],
            kind=Notification.Kind.QUESTION_ROUTED,
            actor=None,
            message="About x",
            url="/",
            subject_key="x:1",
        )
    assert not Notification.objects.exists()
