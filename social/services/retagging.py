"""Re-render stored text whose hashtags end in ``+`` or ``#``.

Before the rule that keeps a run of ``+`` or ``#`` signs in a tag, ``#C++``
and ``#C#`` were stored as the tag ``c``: the rendered HTML linked to
``/tags/c/`` and the post was filed under ``c``. The HTML and the tags are
written only on save, so such text stays wrong until it is edited.
``retag_symbol_hashtags`` renders it again with the current rule.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q, QuerySet

from core.markdown import render_markdown
from social.services.posts import store_hashtags

logger = logging.getLogger(__name__)

# A hashtag followed by a ``+`` or ``#`` sign, in the syntax of both
# databases' regular expressions (Python's ``re`` on SQLite, POSIX ARE on
# PostgreSQL). It also matches text the new rule tags as before, such as
# ``#a+b``, and rendering that again changes nothing.
SYMBOL_TAG_PATTERN = r"#\w+[+#]"


def _html(text: str) -> str:
    return render_markdown(text).html if text else ""


def _retag_post_or_comment(row: Any) -> None:
    rendered = render_markdown(row.body)
    row.body_html = rendered.html
    row.save(update_fields=["body_html"])
    row.hashtags.set(store_hashtags(rendered.hashtags))


def _retag_question(question: Any) -> None:
    from answers.services.common import parse_question_tags

    question.body_html = _html(question.body)
    question.save(update_fields=["body_html"])
    try:
        parsed = parse_question_tags(question.title, question.body)
    except ValidationError:
        # A question with more tags than the limit keeps its stored tags.
        logger.warning(
            "retag kept stored tags over the limit: question=%s", question.pk
        )
        return
    question.hashtags.set(store_hashtags(parsed) if parsed else [])


def _rerender(field: str, source: str) -> Callable[[Any], None]:
    """Return a step that renders ``source`` into ``field`` and saves it."""

    def rerender(row: Any) -> None:
        setattr(row, field, _html(getattr(row, source)))
        row.save(update_fields=[field])

    return rerender


def _targets() -> list[tuple[str, QuerySet[Any], Callable[[Any], None]]]:
    """Return each kind of tagged text: its name, candidate rows and step."""
    from answers.models import Answer, FaqEntry, Question, QuestionComment
    from library.models import Document
    from social.models import Comment, Post

    def matching(model: type[Model], *fields: str) -> QuerySet[Any]:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__regex": SYMBOL_TAG_PATTERN})
        return model._default_manager.filter(condition).order_by("pk")

    return [
        ("post", matching(Post, "body"), _retag_post_or_comment),
        ("comment", matching(Comment, "body"), _retag_post_or_comment),
        ("question", matching(Question, "title", "body"), _retag_question),
        ("answer", matching(Answer, "body"), _rerender("body_html", "body")),
        (
            "question_comment",
            matching(QuestionComment, "body"),
            _rerender("body_html", "body"),
        ),
        ("faq", matching(FaqEntry, "answer"), _rerender("answer_html", "answer")),
        ("library", matching(Document, "body"), _rerender("body_html", "body")),
    ]


def retag_symbol_hashtags() -> dict[str, int]:
    """Render again, and re-tag, the text with a ``#C++``-like tag; return counts.

    Each row is saved through its model, so the search index rewrites its
    entry after the commit (``search.indexing``) with the current index form
    and tags. One transaction covers the whole run.
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        for name, rows, retag in _targets():
            counts[name] = 0
            for row in rows.iterator():
                retag(row)
                counts[name] += 1
    for name, count in counts.items():
        logger.info("retag_symbol_hashtags kind=%s count=%d", name, count)
    return counts
