"""Who may accept, close, curate and review in the answers app.

Every rule is written once here; services enforce them and views use them
to decide which buttons to show.
"""

from accounts.models import CrmFunction, Role, SuperUserAssignment, User
from accounts.permissions import can_curate_faq, is_super_user_for
from answers.models import Answer, Question
from social.selectors import can_moderate


def can_accept(actor: User, question: Question) -> bool:
    """Return whether ``actor`` may accept or un-accept an answer to ``question``.

    The asker, a learning facilitator, a moderator or a super-user of the
    question's CRM function may.
    """
    is_asker = question.author_id is not None and question.author_id == actor.pk
    return is_asker or can_curate_faq(actor, question.crm_function)


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


def can_own_faq(actor: User, crm_function: CrmFunction | None) -> bool:
    """Return whether ``actor`` may edit and review the FAQ of ``crm_function``.

    A function's FAQ is owned by its super-users; learning facilitators and
    moderators may stand in for them. Entries without a function have only
    the stand-ins.
    """
    if actor.is_external:
        return False
    return actor.role in {Role.FACILITATOR, Role.MODERATOR} or is_super_user_for(
        actor, crm_function
    )


def can_record_release(actor: User) -> bool:
    return actor.role == Role.FACILITATOR


def may_curate_faq(person: User) -> bool:
    """Return whether ``person`` may make FAQ entries for at least one CRM function."""
    if person.is_external:
        return False
    if person.role in {Role.FACILITATOR, Role.MODERATOR}:
        return True
    return SuperUserAssignment.objects.filter(person=person).exists()
