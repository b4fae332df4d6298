"""Migration 0011 renders again the text written before ``#C++`` kept its signs.

Rows are written as the old rule left them: HTML linking ``#C++`` to
``/tags/c/``, the tag ``c``, and a search entry built from that.
"""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from answers.models import Answer, Question
from search.models import SearchEntry, SearchLabel
from social.models import Hashtag, Post

BEFORE_RETAG = ("social", "0010_index_feed_reads_covering")
OLD_HTML = '<p>Learning <a class="hashtag" href="/tags/c/">#C</a>++ today</p>'


def migrate_to(target: tuple[str, str] | None) -> None:
    """Migrate to ``target``, or every app to its latest migration for None."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)


def old_post(author, community, body: str) -> Post:
    post = Post.objects.create(
        community=community,
        author=author,
        author_name=author.display_name,
        body=body,
        body_html=OLD_HTML,
    )
    old_tag, _ = Hashtag.objects.get_or_create(name="c", display_name="C")
    post.hashtags.set([old_tag])
    # The entry as the old index form left it.
    SearchEntry.objects.filter(kind="post", object_id=post.pk).update(
        body="stale text", tags="c"
    )
    return post


def tag_names(row) -> list[str]:
    return sorted(row.hashtags.values_list("name", flat=True))


def entry_labels(kind: str, object_id: int) -> list[str]:
    return sorted(
        SearchLabel.objects.filter(
            entry__kind=kind, entry__object_id=object_id, field="tag"
        ).values_list("value", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_migration_retags_old_text(sales_rep, payments_community):
    try:
        migrate_to(BEFORE_RETAG)
        post = old_post(sales_rep, payments_community, "Learning #C++ and #C# today")
        untouched = old_post(sales_rep, payments_community, "Learning #C today")
        question = Question.objects.create(
            community=payments_community,
            author=sales_rep,
            author_name=sales_rep.display_name,
            title="Casting in #C#?",
            body="",
        )
        answer = Answer.objects.create(
            question=question,
            author=sales_rep,
            author_name=sales_rep.display_name,
            body="Read the #C++ guide.",
            body_html=OLD_HTML,
        )
    finally:
        migrate_to(None)

    post.refresh_from_db()
    assert 'href="/tags/c%2B%2B/"' in post.body_html
    assert 'href="/tags/c%23/"' in post.body_html
    assert tag_names(post) == ["c#", "c++"]
    entry = SearchEntry.objects.get(kind="post", object_id=post.pk)
    assert entry.body != "stale text"
    assert entry_labels("post", post.pk) == ["c#", "c++"]
    assert tag_names(question) == ["c#"]
    assert entry_labels("question", question.pk) == ["c#"]
    answer.refresh_from_db()
    assert 'href="/tags/c%2B%2B/"' in answer.body_html
    untouched.refresh_from_db()
    assert untouched.body_html == OLD_HTML
    assert tag_names(untouched) == ["c"]


@pytest.mark.django_db
def test_command_counts_each_kind(sales_rep, payments_community):
    old_post(sales_rep, payments_community, "Try #C#")

    call_command("retag_symbol_hashtags", stdout=(output := _Lines()))

    assert "post: 1 rendered again" in output.lines
    assert "answer: 0 rendered again" in output.lines


class _Lines:
    """A stdout that keeps each written line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text.rstrip("\n"))

    def flush(self) -> None:
        pass
