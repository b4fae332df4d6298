"""Reads of questions, answers and FAQ entries, with their visibility rules.

A question is visible to whoever may see its community. An FAQ entry is
visible to every employee, and to customer accounts only when it is marked
customer-visible.
"""

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.permissions import Viewer
from answers.models import Answer, FaqEntry, Question
from communities.selectors import visible_communities


def visible_questions(viewer: Viewer) -> QuerySet[Question]:
    questions = Question.objects.filter(community__in=visible_communities(viewer))
    if isinstance(viewer, User) and viewer.is_external:
        # A customer's question names their orders and invoices; other
        # customer companies in the same space must not read it.
        questions = questions.filter(
            Q(customer__isnull=True) | Q(customer_id=viewer.customer_id)
        )
    return questions


def access_question(viewer: Viewer, question_id: int) -> Question:
    """Return the question with answers, or raise 404 when hidden from ``viewer``."""
    question = (
        visible_questions(viewer)
        .select_related("community", "context__crm_function", "context__parent")
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.select_related("faq_entry"))
        )
        .filter(pk=question_id)
        .first()
    )
    if question is None:
        raise Http404("No question found with that number.")
    return question


def visible_faq_entries(viewer: Viewer) -> QuerySet[FaqEntry]:
    if not isinstance(viewer, User):
        return FaqEntry.objects.none()
    if viewer.is_external:
        return FaqEntry.objects.filter(customer_visible=True)
    return FaqEntry.objects.all()


def access_faq_entry(viewer: Viewer, entry_id: int) -> FaqEntry:
    entry = visible_faq_entries(viewer).filter(pk=entry_id).first()
    if entry is None:
        raise Http404("No FAQ entry found with that number.")
    return entry
