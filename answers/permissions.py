"""Who may accept, close, curate and review in the answers app.

Every rule is written once here; services enforce them and views use them
to decide which buttons to show.
"""

from functools import cached_property

from django.db.models import Q, QuerySet

from accounts.models import CrmFunction, Role, SuperUserAssignment, User
from accounts.permissions import CURATOR_ROLES, can_curate_faq
from answers.models import Answer, Question
from social.selectors import can_moderate


def can_accept(actor: User, question: Question, answer: Answer | None = None) -> bool:
    """Return whether ``actor`` may accept ``answer`` or withdraw its acceptance.

    Only the asker and a moderator (by role, or owner or moderator of the
    question's community) may. Nobody but the asker accepts, or withdraws
    the acceptance of, an answer they wrote. Without ``answer`` this
    decides only whether ``actor`` may act on some answer to ``question``.
    """
    asker = is_asker(actor, question)
    if answer is not None and answer.author_id == actor.pk and not asker:
        return False
    if asker:
        return True
    return not actor.is_external and can_moderate(actor, question.community)


ACCEPT_DENIED = (
    "Only the asker or a moderator of this community can accept an answer or "
    "withdraw its acceptance."
)
OWN_ANSWER_DENIED = (
    "You wrote this answer, so only the asker or a moderator who did not write "
    "it can accept it or withdraw its acceptance."
)


def accept_denied_message(actor: User, answer: Answer | None) -> str:
    """Return why ``can_accept`` refused ``actor``, for the 403 page."""
    if answer is not None and answer.author_id == actor.pk:
        return OWN_ANSWER_DENIED
    return ACCEPT_DENIED


def is_asker(person: User, question: Question) -> bool:
    return question.author_id is not None and question.author_id == person.pk


def can_promote(actor: User, question: Question) -> bool:
    return can_curate_faq(actor, question.crm_function)


def can_close(actor: User, question: Question) -> bool:
    """Return whether ``actor`` may close ``question`` as a duplicate or reopen it.

    The asker, a learning facilitator, a moderator (by role or of the
    community) or a super-user of the question's CRM function may.
    """
    if actor.is_external:
        return question.author_id is not None and question.author_id == actor.pk
    is_asker = question.author_id is not None and question.author_id == actor.pk
    return (
        is_asker
        or can_curate_faq(actor, question.crm_function)
        or can_moderate(actor, question.community)
    )


def can_edit_answer(actor: User, answer: Answer) -> bool:
    return answer.author_id is not None and answer.author_id == actor.pk


def can_delete_answer(actor: User, answer: Answer, question: Question) -> bool:
    return can_edit_answer(actor, answer) or can_moderate(actor, question.community)


def can_vote(actor: User, answer: Answer) -> bool:
    """Return whether ``actor`` may vote on ``answer``: anyone but its author."""
    return answer.author_id is None or answer.author_id != actor.pk


# The 403 messages of the rules above, shared by the services and the views.
EDIT_DENIED = "Only the author of an answer can edit it."
DELETE_DENIED = (
    "Only the author or a moderator of this community can delete this answer."
)
CLOSE_DENIED = (
    "Only the asker, a learning facilitator, a moderator or a super-user "
    "of this CRM function can close a question as a duplicate."
)
REOPEN_DENIED = (
    "Only the asker, a learning facilitator, a moderator or a super-user "
    "of this CRM function can reopen a question."
)
VOTE_DENIED = "You wrote this answer, so you cannot vote on it."


class FaqOwnership:
    """The FAQs one person may edit and review.

    A function's FAQ is owned by its super-users; learning facilitators and
    moderators may stand in for them, so they own every FAQ. Entries without
    a function have only the stand-ins. Customer accounts own none. Both
    ``covers`` and ``entries`` read this one rule.
    """

    def __init__(self, person: User) -> None:
        self.person = person
        self.owns_nothing = person.is_external
        self.owns_all = not person.is_external and person.role in CURATOR_ROLES

    def _assignments(self) -> QuerySet[SuperUserAssignment]:
        return SuperUserAssignment.objects.filter(person_id=self.person.pk)

    @cached_property
    def function_ids(self) -> frozenset[int]:
        """Return the ids of the CRM functions whose FAQ the person owns."""
        if self.owns_nothing or self.owns_all:
            return frozenset()
        return frozenset(self._assignments().values_list("crm_function_id", flat=True))

    def covers(self, crm_function_id: int | None) -> bool:
        """Return whether the person owns the FAQ of function ``crm_function_id``."""
        if self.owns_nothing:
            return False
        if self.owns_all:
            return True
        return crm_function_id is not None and crm_function_id in self.function_ids

    def entries(self) -> Q:
        """Return the condition on ``FaqEntry`` rows that the person owns.

        The assignments are read by the statement that uses the condition,
        so a compiled and cached rule reads a later change of assignments.
        """
        if self.owns_nothing:
            return Q(pk__in=[])
        if self.owns_all:
            # Not ``Q()``: an empty Q drops out of an OR.
            return Q(pk__isnull=False)
        return Q(crm_function_id__in=self._assignments().values("crm_function_id"))

    def functions(self) -> QuerySet[CrmFunction]:
        """Return the CRM functions whose FAQ the person owns."""
        if self.owns_nothing:
            return CrmFunction.objects.none()
        if self.owns_all:
            return CrmFunction.objects.all()
        return CrmFunction.objects.filter(
            pk__in=self._assignments().values("crm_function_id")
        )


def can_own_faq(actor: User, crm_function: CrmFunction | None) -> bool:
    """Return whether ``actor`` may edit and review the FAQ of ``crm_function``."""
    return FaqOwnership(actor).covers(crm_function.pk if crm_function else None)


def can_record_release(actor: User) -> bool:
    return actor.role == Role.FACILITATOR


def may_curate_faq(person: User) -> bool:
    """Return whether ``person`` may make FAQ entries for at least one CRM function."""
    if person.is_external:
        return False
    if person.role in {Role.FACILITATOR, Role.MODERATOR}:
        return True
    return SuperUserAssignment.objects.filter(person=person).exists()
