"""Comments on posts, questions and answers are found under their parent's rule."""

import pytest
from django.utils import timezone

from answers.models import QuestionComment
from answers.services import delete_answer
from search.indexing import reindex_all
from search.models import SearchEntry
from search.selectors import search, visible_entries
from search.sources import SOURCE_OF_KIND
from search.tests.conftest import _question, found
from social.models import Comment
from social.services import delete_comment, delete_post, post_comment


def _comment(post, author, body):
    return Comment.objects.create(
        post=post,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=f"<p>{body}</p>",
    )


def _question_comment(question, author, body, answer=None):
    return QuestionComment.objects.create(
        question=question,
        answer=answer,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=f"<p>{body}</p>",
    )


@pytest.fixture
def comments(content, facilitator, sales_rep, customer_community):
    """One comment under each audience's post, question and answer."""
    customer_question = _question(customer_community, sales_rep, "Delivery dates")
    items = {
        "private_post": _comment(
            content["private_post"], facilitator, "Pinned: cmtprivate"
        ),
        "open_post": _comment(content["open_post"], sales_rep, "Thanks cmtopen"),
        "customer_post": _comment(
            content["customer_post"], sales_rep, "Hello cmtcustomer"
        ),
        "private_question": _question_comment(
            content["private_question"], facilitator, "See qcprivate"
        ),
        "open_answer": _question_comment(
            content["open_question"],
            sales_rep,
            "Works for qcanswer",
            answer=content["open_answer"],
        ),
        "customer_question": _question_comment(
            customer_question, sales_rep, "Ask qccustomer"
        ),
    }
    reindex_all()
    return items


WORDS = {
    "private_post": "cmtprivate",
    "open_post": "cmtopen",
    "customer_post": "cmtcustomer",
    "private_question": "qcprivate",
    "open_answer": "qcanswer",
    "customer_question": "qccustomer",
}
KINDS = {
    "private_post": "comment",
    "open_post": "comment",
    "customer_post": "comment",
    "private_question": "question_comment",
    "open_answer": "question_comment",
    "customer_question": "question_comment",
}
FINDERS = {
    "private_post": {"member"},
    "open_post": {"outsider", "member", "moderator"},
    "customer_post": {"outsider", "member", "moderator", "customer"},
    "private_question": {"member"},
    "open_answer": {"outsider", "member", "moderator"},
    "customer_question": {"outsider", "member", "moderator", "customer"},
}


@pytest.mark.parametrize("person_name", ["outsider", "customer", "member", "moderator"])
@pytest.mark.parametrize("item", sorted(WORDS))
def test_who_finds_each_comment(request, comments, person_name, item):
    person = request.getfixturevalue(person_name)
    expected = [(KINDS[item], comments[item].pk)]
    if person_name not in FINDERS[item]:
        expected = []
    assert found(person, WORDS[item]) == expected


def test_comment_links_to_its_place(comments, member):
    post_comment_hit = search(member, "cmtopen").hits[0]
    open_post = comments["open_post"].post
    assert post_comment_hit.url == (
        f"/posts/{open_post.pk}/comments/{comments['open_post'].pk}/"
    )
    answer_comment = comments["open_answer"]
    hit = search(member, "qcanswer").hits[0]
    assert hit.url == (
        f"/questions/{answer_comment.question_id}/#qa-comment-{answer_comment.pk}"
    )


def test_comment_heading_names_its_post(comments, member):
    hit = search(member, "cmtopen").hits[0]
    assert hit.title_html == (
        "Comment on: Short-pay tip: check the remittance advice first"
    )
    assert hit.snippet_html == "Thanks <mark>cmtopen</mark>"


def test_post_words_do_not_find_its_comments(comments, member):
    # The post's heading is shown on its comments but not searched there.
    assert found(member, "remittance") == [("post", comments["open_post"].post_id)]


def test_comment_is_found_after_commit(
    transactional_db, sales_rep, payments_community, outsider
):
    from social.services import publish_post

    post = publish_post(author=sales_rep, community=payments_community, body="Tip")
    comment = post_comment(author=sales_rep, post=post, body="Use the ferretword")
    assert found(outsider, "ferretword") == [("comment", comment.pk)]


def test_deleted_comment_is_not_found(
    transactional_db, sales_rep, payments_community, outsider
):
    from social.services import publish_post

    post = publish_post(author=sales_rep, community=payments_community, body="Tip")
    comment = post_comment(author=sales_rep, post=post, body="Use the stoatword")
    delete_comment(actor=sales_rep, comment=comment)
    assert found(outsider, "stoatword") == []
    assert not SearchEntry.objects.filter(kind="comment", object_id=comment.pk).exists()


def test_deleted_post_hides_its_comments(
    transactional_db, sales_rep, payments_community, outsider
):
    from social.services import publish_post

    post = publish_post(author=sales_rep, community=payments_community, body="Tip")
    post_comment(author=sales_rep, post=post, body="Use the minkword")
    delete_post(actor=sales_rep, post=post)
    assert found(outsider, "minkword") == []


def test_post_moved_private_hides_comments(
    transactional_db, content, comments, outsider, member, private_community
):
    post = content["open_post"]
    post.community = private_community
    post.save()
    assert found(outsider, "cmtopen") == []
    assert found(member, "cmtopen") == [("comment", comments["open_post"].pk)]


def test_deleted_answer_hides_its_comments(
    transactional_db, content, comments, sales_rep, outsider
):
    delete_answer(actor=sales_rep, answer=content["open_answer"])
    assert found(outsider, "qcanswer") == []


def test_deleted_question_comment_is_not_found(comments, outsider):
    comment = comments["open_answer"]
    QuestionComment.objects.filter(pk=comment.pk).update(deleted_at=timezone.now())
    reindex_all(sources=["question_comment"])
    assert found(outsider, "qcanswer") == []


@pytest.mark.parametrize("person_name", ["outsider", "customer", "member", "moderator"])
def test_comment_rule_agrees_with_selectors(request, comments, person_name):
    person = request.getfixturevalue(person_name)
    by_rule = set(
        visible_entries(person)
        .filter(kind__in=["comment", "question_comment"])
        .values_list("kind", "object_id")
    )
    by_selectors = {
        (kind, object_id)
        for kind, object_id in SearchEntry.objects.filter(
            kind__in=["comment", "question_comment"]
        ).values_list("kind", "object_id")
        if SOURCE_OF_KIND[kind].visible(person).filter(pk=object_id).exists()
    }
    assert by_rule == by_selectors
    assert len(by_rule) == len(
        [item for item, finders in FINDERS.items() if person_name in finders]
    )
