"""Reads of practice sessions: a session is visible to its learner only."""

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from accounts.permissions import Viewer
from portal.models import ResolutionProposal
from practice.models import SandboxSession
from reconciliation.models import Discrepancy, Invoice, Payment


def visible_sessions(viewer: Viewer) -> QuerySet[SandboxSession]:
    if not isinstance(viewer, User) or viewer.is_external or not viewer.is_active:
        return SandboxSession.objects.none()
    return SandboxSession.objects.filter(learner=viewer)


def access_session(viewer: Viewer, session_id: int) -> SandboxSession:
    """Return the viewer's own session, or raise 404 (another person's too)."""
    session = (
        visible_sessions(viewer).select_related("company").filter(pk=session_id).first()
    )
    if session is None:
        raise Http404("No practice session found with that number.")
    return session


def session_cases(session: SandboxSession) -> QuerySet[Discrepancy]:
    return (
        Discrepancy.objects.filter(company=session.company)
        .select_related("order", "invoice")
        .order_by("pk")
    )


def session_case_number(session: SandboxSession, case: Discrepancy) -> int:
    """Return the case's number on the session page: its place in ``session_cases``."""
    return session_cases(session).filter(pk__lte=case.pk).count()


def session_case_by_number(session: SandboxSession, number: int) -> Discrepancy:
    """Return the case the session page numbers ``number``, or raise 404."""
    cases = session_cases(session)
    # Counting first keeps a number of any size out of the query's OFFSET.
    if not 1 <= number <= cases.count():
        raise Http404(f"Case {number} was not found in this practice session.")
    return cases[number - 1]


def session_invoices(session: SandboxSession) -> QuerySet[Invoice]:
    """Return the session's invoices and notes, without cancelled ones.

    A cancelled document, such as a withdrawn credit note, owes and credits
    nothing, so the sandbox leaves it out as the customer portal does. Drafts
    still show, as before.
    """
    return (
        Invoice.objects.filter(company=session.company)
        .exclude(state=Invoice.State.CANCELLED)
        .select_related("currency")
        .order_by("number")
    )


def session_payments(session: SandboxSession) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(company=session.company)
        .select_related("currency")
        .order_by("number")
    )


def session_offers(session: SandboxSession) -> QuerySet[ResolutionProposal]:
    """Return the session's proposals that wait for the customer to accept or reject."""
    return (
        ResolutionProposal.objects.filter(
            case__company=session.company,
            state=ResolutionProposal.State.AWAITING_CUSTOMER,
        )
        .select_related("case", "credit_note")
        .order_by("pk")
    )
