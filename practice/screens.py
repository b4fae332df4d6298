"""The real work screens, opened on a practice session's sandbox company.

Pick and ship, the sales decision (backorder, credit note, price dispute),
cash application and the case page (start, resolve, reject, reopen, comment,
request a write-off) are the views of ``reconciliation.work_views`` and
``reconciliation.case_views``, called with a ``SessionScope``. The learner
therefore gets the same forms, checks and messages as the real work, while
every read and write stays inside the session's company:

- a case is addressed by its session number, so no URL reaches a case of
  another company, an order number of another company is a 404, and
  another person's session is a 404 (``access_session``);
- the cash screen lists the sandbox's payments only, and the services take
  the sandbox company, so a posted id of a real payment or invoice is
  rejected;
- a finished session accepts no more work.

The learner plays every role in their sandbox, so each screen acts as a copy
of the learner in the role it needs (``practice.roles.played_role``).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.models import User
from core.http import AuthenticatedRequest
from practice import services
from practice.manager import decisions_of, run_with_manager
from practice.models import SandboxSession
from practice.roles import played_role
from practice.scenarios import SCENARIOS
from practice.selectors import (
    access_session,
    session_case_by_number,
    session_case_number,
    session_cases,
)
from reconciliation import cancellations, case_views, cases, work_views
from reconciliation.goods_billing import GOODS_CODES
from reconciliation.models import Discrepancy, MatchGroup, SalesOrder
from reconciliation.scopes import WorkScope
from reconciliation.taxonomy import RULES
from reconciliation.work import WorkError

# Routes of the real screens whose page has no sandbox version: their links
# lead back to the session page instead.
SESSION_PAGE_ROUTES = frozenset({"order_detail", "case_list"})
# Routes whose first argument is a case. Their URLs carry the case's session
# number, so that the address bar shows the number the pages show.
CASE_ROUTES = frozenset(
    {
        "case_detail",
        "case_move",
        "case_comment",
        "case_request_write_off",
        "work_sales",
        "work_backorder",
        "work_uphold_price",
        "work_credit_note",
        "work_reship",
        "work_withdraw_proposal",
    }
)


class SessionScope(WorkScope):
    """The work screens' scope for one practice session's sandbox company."""

    # The learner is the only person in the sandbox, and a real colleague
    # must never be handed a sandbox case.
    offers_assign = False

    def __init__(self, session: SandboxSession) -> None:
        self.session = session
        self.company = session.company

    def actor(self, user: User, role: str) -> User:
        # ``access_session`` already made sure ``user`` is the session's learner.
        return played_role(user, role)

    def case_worker(self, user: User, case: Discrepancy) -> User:
        # The case's owner role may work it, so the learner plays that role.
        return played_role(user, case.owner_role)

    def order(self, user: User, number: str) -> SalesOrder:
        order = SalesOrder.objects.filter(company=self.company, number=number).first()
        if order is None:
            raise Http404("No order found with that number in this practice session.")
        return order

    def case(self, user: User, case_id: int) -> Discrepancy:
        # The sandbox routes carry the case's session number in ``case_id``.
        return session_case_by_number(self.session, case_id)

    def case_number(self, case: Discrepancy) -> str:
        # The session page numbers its cases 1, 2, ... in id order.
        return str(session_case_number(self.session, case))

    def url(self, name: str, *args: object) -> str:
        """Reverse a sandbox route. A case route's first argument is a case id.

        The real screens pass the case id to case routes, and the sandbox URL
        carries the case's session number instead.
        """
        if name in SESSION_PAGE_ROUTES:
            return session_url(self.session)
        if name in CASE_ROUTES and args and isinstance(args[0], int):
            case_id, *rest = args
            number = session_cases(self.session).filter(pk__lte=case_id).count()
            args = (number, *rest)
        return reverse(f"practice:{name}", args=[self.session.pk, *args])

    def help_record(self, record_ref: str) -> str:
        # The ask checks a record against the real visibility rules, which
        # leave out sandbox companies, so a sandbox number is refused. Numbers
        # are unique only within a company, and when a real record has the
        # same number, the question would name and link that real record. So
        # a question asked here is about the screen and names no record.
        return ""

    def context(self) -> dict[str, object]:
        return {
            "practice_session": self.session,
            "practice_scenario": SCENARIOS.get(self.session.scenario_key),
            "practice_url": session_url(self.session),
            "practice_finished": (
                self.session.status == SandboxSession.Status.FINISHED
            ),
            "practice_decisions": decisions_of(self.session),
        }


@contextmanager
def numbering_session_cases(session: SandboxSession) -> Iterator[None]:
    """Make service errors in this block name the session's case numbers.

    The real services' errors carry the case as a field (``case_id``), and
    name it by its id, which no sandbox page shows. Inside this block they
    name the number the session page gives the case instead. The numbers
    are read once, on the first error that names a case.
    """
    numbers: dict[int, int] = {}

    def number_of(case_id: int) -> str:
        if not numbers:
            ids = session_cases(session).values_list("pk", flat=True)
            numbers.update({pk: number for number, pk in enumerate(ids, start=1)})
        # A case of another company keeps its id, which names nothing here.
        return str(numbers.get(case_id, case_id))

    with cases.numbering_cases(number_of):
        yield


def session_url(session: SandboxSession) -> str:
    return reverse("practice:session", args=[session.pk])


def _in_session(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap a real work view so that it runs on the session's sandbox.

    A POST on a finished session is rejected with a message on the session
    page. A POST about a case first assigns an unassigned case to the learner,
    because the sales services accept only the person who works the case.
    """

    @login_required
    @wraps(view)
    def in_session(
        request: AuthenticatedRequest, session_id: int, **kwargs: object
    ) -> HttpResponse:
        session = access_session(request.user, session_id)
        if request.method == "POST":
            try:
                services.require_active(session, "worked")
            except services.PracticeError as error:
                messages.error(request, str(error))
                return redirect(session_url(session))
            number = kwargs.get("case_id")
            if isinstance(number, int):
                case = session_case_by_number(session, number)
                services.take_case(
                    session=session, case_id=case.pk, learner=request.user
                )
        with numbering_session_cases(session):
            return view(request, scope=SessionScope(session), **kwargs)

    return in_session


class HeldMessages:
    """The messages a view adds, held until the sandbox decides whether to show them."""

    def __init__(self) -> None:
        self.items: list[tuple[int, object, str]] = []

    def add(self, level: int, message: object, extra_tags: str = "") -> None:
        self.items.append((level, message, extra_tags))


def _with_manager(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap a real view that may request an approval, for the scripted manager.

    The view runs with its messages held. When it requested an approval,
    ``manager.run_with_manager`` lets the manager decide it, and the
    decision replaces the view's messages, which state that the request
    waits for a manager. Otherwise its messages are shown as they are. Both wrapped
    views redirect, so no page reads the held messages.
    """

    @wraps(view)
    def deciding(
        request: AuthenticatedRequest, *, scope: SessionScope, **kwargs: object
    ) -> HttpResponse:
        storage = getattr(request, "_messages")  # noqa: B009
        held = HeldMessages()
        setattr(request, "_messages", held)  # noqa: B010
        try:
            response, decision = run_with_manager(
                scope.session,
                request.user,
                lambda: view(request, scope=scope, **kwargs),
            )
        finally:
            setattr(request, "_messages", storage)  # noqa: B010
        if decision is not None:
            level = messages.SUCCESS if decision.approved else messages.ERROR
            messages.add_message(request, level, decision.message)
            return response
        for level, message, extra_tags in held.items:
            storage.add(level, message, extra_tags)
        return response

    return deciding


def _with_customer(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Wrap the replacement offer, for the scenario's scripted customer.

    After the real view offered a replacement, a scenario with a scripted
    customer accepts it at once (``services.customer_answers_replacements``),
    and the learner reads the customer's answer. Without one, the offer
    waits on the session page for the learner to answer as the customer.
    """

    @wraps(view)
    def answering(
        request: AuthenticatedRequest, *, scope: SessionScope, **kwargs: object
    ) -> HttpResponse:
        response = view(request, scope=scope, **kwargs)
        try:
            customer_messages = services.customer_answers_replacements(
                session=scope.session, learner=request.user
            )
        except (cases.CaseError, WorkError) as error:
            messages.error(request, str(error))
        else:
            for text in customer_messages:
                messages.success(request, text)
        return response

    return answering


fulfilment = _in_session(work_views.fulfilment)
record_shipment = _in_session(work_views.record_shipment)
discard_draft = _in_session(work_views.discard_draft)
report_shortage = _in_session(work_views.report_shortage)
sales_decision = _in_session(work_views.sales_decision)
decide_backorder = _in_session(work_views.decide_backorder)
uphold_price = _in_session(work_views.uphold_price)
propose_credit_note = _in_session(_with_manager(work_views.propose_credit_note))
propose_reship = _in_session(_with_customer(work_views.propose_reship))
withdraw_proposal = _in_session(work_views.withdraw_proposal)
cash_application = _in_session(work_views.cash_application)
apply_cash = _in_session(work_views.apply_cash)
case_detail = _in_session(case_views.case_detail)
case_move = _in_session(case_views.case_move)
case_comment = _in_session(case_views.case_comment)
case_request_write_off = _in_session(_with_manager(case_views.case_request_write_off))


def screen_links(session: SandboxSession, case: Discrepancy) -> list[tuple[str, str]]:
    """Return the (label, URL) pairs of the sandbox work screens for ``case``.

    Every case links to its case page first. Goods not shipped, short or on
    backorder go to Pick and ship and to the sales decision. A case on an
    invoice goes to the sales decision, for a credit note or a price dispute.
    A case of the cash control point goes to cash application.
    """
    number = session_case_number(session, case)
    links = [("Case page", reverse("practice:case_detail", args=[session.pk, number]))]
    shipped_again = (
        case.code in cancellations.BACKORDER_CODES or case.code in GOODS_CODES
    )
    if shipped_again and case.order is not None:
        links.append(
            (
                "Pick and ship",
                reverse(
                    "practice:work_fulfilment", args=[session.pk, case.order.number]
                ),
            )
        )
    if shipped_again or case.invoice_id is not None:
        links.append(
            (
                "Sales decision",
                reverse("practice:work_sales", args=[session.pk, number]),
            )
        )
    rule = RULES.get(case.code)
    if rule is not None and rule.control_point == MatchGroup.Kind.CASH:
        links.append(
            ("Cash application", reverse("practice:work_cash", args=[session.pk]))
        )
    return links
