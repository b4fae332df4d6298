"""What each kind of object contributes to the index, and who may see it.

A source names one model that feeds the index. ``build`` turns an object
into an ``EntryData``, or returns None when the object must not be found
(a deleted post, say). ``visible`` returns the objects ``viewer`` may see,
straight from the owning app's selector. ``build`` also copies the
attributes that rule reads into the entry, and
``search.selectors.visibility_rule`` applies the rule to those columns; a
test keeps the two equal for every kind of viewer.
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from accounts.models import Role, User
from accounts.permissions import Viewer
from accounts.selectors import visible_people
from answers.models import Answer, FaqEntry, Question, QuestionComment
from answers.selectors import visible_faq_entries, visible_questions
from communities.models import Community
from communities.selectors import visible_communities
from core.markdown import normalize_tag
from core.text import clean_line
from library.models import Document, DocumentTag
from library.selectors import visible_documents
from search.models import Kind
from search.text import SPELLED_OUT, SPELLED_OUT_START, UMLAUT_WORD, index_form
from social.models import Comment, Post
from social.selectors import visible_posts

# Characters of a heading made from text, for posts without a title.
TITLE_LENGTH = 80
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z0-9]*)[^>]*>")
# Inline elements of the sanitized HTML (``core.markdown.ALLOWED_TAGS``) sit
# inside a word as often as between words (``<a>#C</a>++``), so they are
# removed without a space. Every other tag, such as ``p``, ``li`` or ``br``,
# separates words.
_INLINE_TAGS = frozenset({"a", "strong", "em", "del", "code", "span", "mark"})


def _tag_separator(match: re.Match[str]) -> str:
    return "" if match.group(1).lower() in _INLINE_TAGS else " "


def html_to_text(markup: str) -> str:
    """Return the text of sanitized HTML as it reads on the page.

    Block tags become a space and inline tags nothing, so a snippet shows
    ``#C++`` and ``**credit notes**:`` as written.
    """
    return " ".join(html.unescape(_TAG.sub(_tag_separator, markup)).split())


def indexed_text(text: str) -> str:
    """Return ``text`` in index form, cut at a word to the indexed maximum.

    The maximum is the ``SEARCH_MAX_INDEXED_CHARACTERS`` setting. The
    engines' snippets read an entry's whole indexed text, so the cap bounds
    what one hit of one entry costs, however long the item is.
    """
    limit = settings.SEARCH_MAX_INDEXED_CHARACTERS
    text = index_form(text)
    if len(text) <= limit:
        return text
    head = text[:limit]
    if head[-1].isspace() or text[limit].isspace():
        return head.rstrip()
    # Drop the word the limit cuts, unless it is the only word.
    words = head.rsplit(None, 1)
    return words[0].rstrip() if len(words) == 2 else head


# The maximum number of spelled-out words added to one entry, so that a long
# German text adds a bounded number of words to the indexed body.
MAX_SPELLED_OUT_WORDS = 100


def spelled_out_umlauts(*texts: str) -> str:
    """Return the words of ``texts`` that have ä, ö, ü or ß, spelled out.

    Each word appears once, in order of first use: "Müller, Straße" gives
    "Mueller Strasse". The index adds them to an entry's body, so that both
    engines find "Müller" by "Mueller". Queries are not changed.
    """
    words: dict[str, None] = {}
    for text in texts:
        for word in UMLAUT_WORD.findall(index_form(text)):
            words.setdefault(word.translate(SPELLED_OUT), None)
            if len(words) == MAX_SPELLED_OUT_WORDS:
                return " ".join(words)
    return " ".join(words)


def tag_key(raw: str) -> str:
    """Return the key a tag filter matches: the hashtag rule, ``#`` optional."""
    return normalize_tag(clean_line(raw).removeprefix("#"))


@dataclass(frozen=True)
class EntryData:
    kind: str
    object_id: int
    title: str
    body: str
    created_at: datetime
    heading: str = ""
    tags: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    community_id: int | None = None
    author_id: int | None = None
    # Visibility attributes (see ``SearchEntry``).
    customer_id: int | None = None
    customer_visible: bool = False

    def index_fields(self) -> dict[str, Any]:
        """Return the ``SearchEntry`` fields, text in index form.

        The body ends with the spelled-out form of the words with an
        umlaut in the title, body and tags (``spelled_out_umlauts``), after
        ``SPELLED_OUT_START``. They go after the length cap and not into the
        title, because the title is shown as indexed.
        """
        body = indexed_text(self.body)
        spelled_out = spelled_out_umlauts(self.title, body, *self.tags)
        if spelled_out:
            body = f"{body}{SPELLED_OUT_START}{spelled_out}"
        return {
            "title": indexed_text(self.title),
            "heading": self.heading,
            "body": body,
            "tags": indexed_text(" ".join(self.tags)),
            "contexts": " ".join(self.contexts),
            "community_id": self.community_id,
            "author_id": self.author_id,
            "customer_id": self.customer_id,
            "customer_visible": self.customer_visible,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Source:
    """One model that feeds the index, under one or more entry kinds."""

    name: str
    kinds: tuple[str, ...]
    # The source rows, with what ``build`` reads selected or prefetched.
    rows: Callable[[], QuerySet[Any]]
    build: Callable[[Any], EntryData | None]
    visible: Callable[[Viewer], QuerySet[Any]]
    # The model field ``build`` copies into ``created_at``; a full reindex
    # writes entries in its order.
    created_field: str = "created_at"
    # Other sources whose entries copy text from this one (an answer shows
    # its question's title), reindexed with it.
    dependents: Callable[[int], list[tuple[str, int]]] = field(default=lambda pk: [])


# Posts and blog posts.


def _build_post(post: Post) -> EntryData | None:
    if post.deleted_at is not None:
        return None
    kind = Kind.BLOG if post.kind == Post.Kind.BLOG else Kind.POST
    return EntryData(
        kind=kind,
        object_id=post.pk,
        title=post.title,
        heading="" if post.title else post_heading(post),
        body=" ".join(filter(None, [post.summary, html_to_text(post.body_html)])),
        created_at=post.created_at,
        tags=tuple(tag.name for tag in post.hashtags.all()),
        community_id=post.community_id,
        author_id=post.author_id,
    )


def _visible_posts(viewer: Viewer) -> QuerySet[Post]:
    return visible_posts(viewer).filter(deleted_at__isnull=True)


def _comments_of_post(post_id: int) -> list[tuple[str, int]]:
    ids = Comment.objects.filter(post_id=post_id).values_list("pk", flat=True)
    return [("comment", pk) for pk in ids]


POSTS = Source(
    name="post",
    kinds=(Kind.POST, Kind.BLOG),
    rows=lambda: Post.objects.prefetch_related("hashtags"),
    build=_build_post,
    visible=_visible_posts,
    # A comment copies its post's community and title, so it is rewritten
    # with the post.
    dependents=_comments_of_post,
)


def post_heading(post: Post) -> str:
    """Return a post's title, or the start of its text when it has none."""
    return post.title or readable_title(html_to_text(post.body_html))


def readable_title(text: str, *, max_length: int = TITLE_LENGTH) -> str:
    """Return the first sentence of ``text``, cut at a word within ``max_length``."""
    text = " ".join(text.split())
    for end in (". ", "? ", "! "):
        if end in text[: max_length + 1]:
            text = text[: text.index(end) + 1]
            break
    if len(text) <= max_length:
        return text
    cut = text[:max_length].rsplit(" ", 1)[0] or text[:max_length]
    return cut.rstrip(" ,;:-") + "…"


def _build_comment(comment: Comment) -> EntryData | None:
    post = comment.post
    if comment.deleted_at is not None or post.deleted_at is not None:
        return None
    return EntryData(
        kind=Kind.COMMENT,
        object_id=comment.pk,
        title="",
        heading=f"Comment on: {post_heading(post)}",
        body=html_to_text(comment.body_html),
        created_at=comment.created_at,
        tags=tuple(tag.name for tag in comment.hashtags.all()),
        community_id=post.community_id,
        author_id=comment.author_id,
    )


def _visible_comments(viewer: Viewer) -> QuerySet[Comment]:
    return Comment.objects.filter(
        post__in=_visible_posts(viewer), deleted_at__isnull=True
    )


COMMENTS = Source(
    name="comment",
    kinds=(Kind.COMMENT,),
    rows=lambda: Comment.objects.select_related("post").prefetch_related("hashtags"),
    build=_build_comment,
    visible=_visible_comments,
)


# Questions and answers.


def _build_question(question: Question) -> EntryData:
    return EntryData(
        kind=Kind.QUESTION,
        object_id=question.pk,
        title=question.title,
        body=html_to_text(question.body_html),
        created_at=question.created_at,
        tags=tuple(tag.name for tag in question.hashtags.all()),
        contexts=(question.context.key,) if question.context else (),
        community_id=question.community_id,
        author_id=question.author_id,
        customer_id=question.customer_id,
    )


def _answers_of(question_id: int) -> list[tuple[str, int]]:
    ids = Answer.objects.filter(question_id=question_id).values_list("pk", flat=True)
    comments = QuestionComment.objects.filter(question_id=question_id)
    return [("answer", pk) for pk in ids] + [
        ("question_comment", pk) for pk in comments.values_list("pk", flat=True)
    ]


def _comments_of_answer(answer_id: int) -> list[tuple[str, int]]:
    comments = QuestionComment.objects.filter(answer_id=answer_id)
    return [("question_comment", pk) for pk in comments.values_list("pk", flat=True)]


QUESTIONS = Source(
    name="question",
    kinds=(Kind.QUESTION,),
    rows=lambda: Question.objects.select_related("context").prefetch_related(
        "hashtags"
    ),
    build=_build_question,
    visible=visible_questions,
    dependents=_answers_of,
)


def _build_answer(answer: Answer) -> EntryData | None:
    if answer.deleted_at is not None:
        return None
    question = answer.question
    return EntryData(
        kind=Kind.ANSWER,
        object_id=answer.pk,
        title=question.title,
        body=html_to_text(answer.body_html),
        created_at=answer.created_at,
        contexts=(question.context.key,) if question.context else (),
        community_id=question.community_id,
        author_id=answer.author_id,
        customer_id=question.customer_id,
    )


def _visible_answers(viewer: Viewer) -> QuerySet[Answer]:
    return Answer.objects.filter(
        question__in=visible_questions(viewer), deleted_at__isnull=True
    )


ANSWERS = Source(
    name="answer",
    kinds=(Kind.ANSWER,),
    rows=lambda: Answer.objects.select_related("question__context"),
    build=_build_answer,
    visible=_visible_answers,
    dependents=_comments_of_answer,
)


def _build_question_comment(comment: QuestionComment) -> EntryData | None:
    # A comment on a deleted answer is hidden with the answer.
    answer = comment.answer
    if comment.deleted_at is not None or (answer and answer.deleted_at is not None):
        return None
    question = comment.question
    return EntryData(
        kind=Kind.QUESTION_COMMENT,
        object_id=comment.pk,
        title="",
        heading=f"Comment on: {question.title}",
        body=html_to_text(comment.body_html),
        created_at=comment.created_at,
        community_id=question.community_id,
        author_id=comment.author_id,
        customer_id=question.customer_id,
    )


def _visible_question_comments(viewer: Viewer) -> QuerySet[QuestionComment]:
    return QuestionComment.objects.filter(
        question__in=visible_questions(viewer), deleted_at__isnull=True
    ).exclude(answer__deleted_at__isnull=False)


QUESTION_COMMENTS = Source(
    name="question_comment",
    kinds=(Kind.QUESTION_COMMENT,),
    rows=lambda: QuestionComment.objects.select_related("question", "answer"),
    build=_build_question_comment,
    visible=_visible_question_comments,
)


# FAQ entries and library items.


def _build_faq_entry(entry: FaqEntry) -> EntryData:
    # An entry held for its owners is indexed too: the visibility rule reads
    # which held entries a viewer does not own when it runs.
    return EntryData(
        kind=Kind.FAQ,
        object_id=entry.pk,
        title=entry.question,
        body=html_to_text(entry.answer_html),
        created_at=entry.created_at,
        contexts=tuple(context.key for context in entry.contexts.all()),
        author_id=entry.created_by_id,
        customer_visible=entry.customer_visible,
    )


FAQ_ENTRIES = Source(
    name="faq",
    kinds=(Kind.FAQ,),
    rows=lambda: FaqEntry.objects.prefetch_related("contexts"),
    build=_build_faq_entry,
    visible=visible_faq_entries,
)


def _build_document(document: Document) -> EntryData | None:
    # A withdrawn item has no entry, and a withdrawn version's file name
    # finds nothing.
    if document.withdrawn_at is not None:
        return None
    # File names are indexed too: a word that only appears in an attached
    # file's name still finds the item, under the item's own visibility.
    file_names = [
        version.original_name
        for version in document.versions.all()
        if version.withdrawn_at is None
    ]
    # Tags a customer added are shown to employees only
    # (``library.selectors.visible_tag_links``), and an entry is found by
    # every reader of the item, so only employees' tags are indexed, in
    # the order they were added (the prefetch in ``DOCUMENTS`` sorts them).
    tags = tuple(
        link.tag.key
        for link in document.documenttag_set.all()
        if link.added_by is None or link.added_by.role != Role.CUSTOMER
    )
    return EntryData(
        kind=Kind.LIBRARY,
        object_id=document.pk,
        title=document.title,
        body=" ".join(
            filter(
                None, [document.summary, html_to_text(document.body_html), *file_names]
            )
        ),
        created_at=document.created_at,
        tags=tags,
        contexts=tuple(context.key for context in document.contexts.all()),
        author_id=document.owner_id,
        customer_visible=document.customer_visible,
    )


DOCUMENTS = Source(
    name="library",
    kinds=(Kind.LIBRARY,),
    rows=lambda: Document.objects.prefetch_related(
        Prefetch(
            "documenttag_set",
            queryset=DocumentTag.objects.select_related("tag", "added_by").order_by(
                "pk"
            ),
        ),
        "contexts",
        "versions",
    ),
    build=_build_document,
    visible=visible_documents,
)


# Communities and people.


def _build_community(community: Community) -> EntryData:
    return EntryData(
        kind=Kind.COMMUNITY,
        object_id=community.pk,
        title=community.name,
        body=community.purpose,
        created_at=community.created_at,
        community_id=community.pk,
        author_id=community.created_by_id,
    )


COMMUNITIES = Source(
    name="community",
    kinds=(Kind.COMMUNITY,),
    rows=lambda: Community.objects.all(),
    build=_build_community,
    visible=visible_communities,
)


def _build_person(person: User) -> EntryData | None:
    if not person.is_active:
        return None
    about = [
        person.username,
        person.title,
        person.headline,
        html_to_text(person.about_html),
        *(function.name for function in person.crm_functions.all()),
    ]
    return EntryData(
        kind=Kind.PERSON,
        object_id=person.pk,
        title=person.display_name,
        body=" ".join(filter(None, about)),
        created_at=person.date_joined,
        tags=tuple(link.skill.name for link in person.skill_links.all()),
        # The rule of accounts.selectors.visible_people for customer accounts.
        customer_visible=person.role != Role.CUSTOMER and person.visible_to_customers,
    )


PEOPLE = Source(
    name="person",
    kinds=(Kind.PERSON,),
    rows=lambda: User.objects.listed().prefetch_related(
        "crm_functions", "skill_links__skill"
    ),
    build=_build_person,
    visible=visible_people,
    created_field="date_joined",
)


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        POSTS,
        COMMENTS,
        QUESTIONS,
        ANSWERS,
        QUESTION_COMMENTS,
        FAQ_ENTRIES,
        DOCUMENTS,
        COMMUNITIES,
        PEOPLE,
    )
}
SOURCE_OF_KIND: dict[str, Source] = {
    kind: source for source in SOURCES.values() for kind in source.kinds
}
