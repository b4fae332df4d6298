"""Writes for questions, answers, votes, comments and FAQ entries.

Each function runs in one transaction, checks the actor's permission first,
records an audit event and writes the in-app notifications it causes.
"""

from answers.permissions import can_accept, can_promote
from answers.services.answering import (
    accept_answer,
    delete_answer,
    edit_answer,
    post_answer,
    unaccept_answer,
)
from answers.services.conversation import (
    delete_question_comment,
    post_question_comment,
    set_vote,
)
from answers.services.faq import (
    add_faq_source,
    create_faq_entry,
    edit_faq_entry,
    mark_faq_reviewed,
    promote_answer_to_faq,
    record_release,
)
from answers.services.faq_audience import narrow_faq_audiences
from answers.services.questions import (
    ask_question,
    close_as_duplicate,
    create_question,
    reopen_question,
)

__all__ = [
    "accept_answer",
    "add_faq_source",
    "ask_question",
    "can_accept",
    "can_promote",
    "close_as_duplicate",
    "create_faq_entry",
    "create_question",
    "delete_answer",
    "delete_question_comment",
    "edit_answer",
    "edit_faq_entry",
    "mark_faq_reviewed",
    "narrow_faq_audiences",
    "post_answer",
    "post_question_comment",
    "promote_answer_to_faq",
    "record_release",
    "reopen_question",
    "set_vote",
    "unaccept_answer",
]
