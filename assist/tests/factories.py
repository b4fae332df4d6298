"""Content the help panel tests build."""

from answers.models import Answer, Question
from assist.models import HelpContext
from communities.models import Community


def answered(title: str, community: Community, key: str, **fields) -> Question:
    """Create a question on the context ``key`` with an accepted answer."""
    question = Question.objects.create(
        community=community,
        context=HelpContext.objects.get(key=key),
        author_name="Asker",
        title=title,
        **fields,
    )
    answer = Answer.objects.create(
        question=question, author_name="Helper", body="Yes.", body_html="<p>Yes.</p>"
    )
    question.accepted_answer = answer
    question.save()
    return question
