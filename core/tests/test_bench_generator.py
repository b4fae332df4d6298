"""The social network generator in bench/ writes the rows its sizes promise.

The benchmarks read these rows, so the counts, the one popular author, the
uniqueness rules and the repeatability are checked here, on the tiny size,
which runs the same code as medium.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F

from accounts.models import Role, User
from bench.bulk_load import insert_rows
from bench.social_data import (
    END,
    LOADED_MODELS,
    POPULAR_USERNAME,
    READER_USERNAME,
    SIZES,
    generate,
)
from communities.models import Community, Membership
from core.confusables import skeleton
from core.markdown import render_markdown
from core.text import fold_case
from social.models import (
    AnnouncementRead,
    Bookmark,
    Follow,
    Hashtag,
    HelpfulMark,
    Post,
    Reaction,
)
from social.selectors import visible_posts

pytestmark = pytest.mark.django_db


def quiet(message: str) -> None:
    """Swallow the generator's progress lines."""


@pytest.fixture
def tiny():
    return generate(SIZES["tiny"], log=quiet)


def dump() -> list[list[tuple[object, ...]]]:
    tables = []
    for model in LOADED_MODELS:
        columns = [field.attname for field in model._meta.concrete_fields]
        tables.append(list(model.objects.order_by("pk").values_list(*columns)))
    return tables


def empty_loaded_tables() -> None:
    with connection.cursor() as cursor:
        for model in reversed(LOADED_MODELS):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608


def test_tiny_size_writes_exact_counts(tiny):
    assert User.objects.count() == 60
    assert Community.objects.count() == 12
    assert Membership.objects.count() == 240
    assert Hashtag.objects.count() == 30
    assert Post.objects.count() == 600
    assert Follow.objects.count() == 300
    assert Reaction.objects.count() == 1_800
    assert HelpfulMark.objects.count() == 90
    assert Bookmark.objects.count() == 40
    assert AnnouncementRead.objects.count() == 90
    assert Post.objects.filter(kind=Post.Kind.ANNOUNCEMENT).count() == 3
    assert Post.objects.filter(kind=Post.Kind.BLOG).count() == 12
    assert tiny["social_post"] == 600
    assert tiny["social_reaction"] == 1_800


def test_popular_author_has_exact_followers(tiny):
    popular = User.objects.get(username=POPULAR_USERNAME)
    assert popular.pk == 1
    assert popular.role == Role.EXECUTIVE
    assert Follow.objects.filter(person=popular).count() == 40
    # Every other person has at most a fifth of that count, 8 here.
    others = (
        Follow.objects.filter(person__isnull=False)
        .exclude(person=popular)
        .values("person")
        .annotate(total=Count("id"))
        .order_by("-total")
    )
    assert others[0]["total"] <= 8


def test_reader_has_fixed_follows_and_memberships(tiny):
    reader = User.objects.get(username=READER_USERNAME)
    follows = Follow.objects.filter(follower=reader)
    assert follows.filter(person__isnull=False).count() == 20
    assert follows.filter(hashtag__isnull=False).count() == 8
    assert follows.filter(community__isnull=False).count() == 4
    assert follows.filter(person__username=POPULAR_USERNAME).count() == 1
    memberships = Membership.objects.filter(person=reader)
    assert memberships.count() == 10
    private = Community.objects.filter(visibility=Community.Visibility.PRIVATE)
    expected_private = min(3, private.count())
    assert memberships.filter(community__in=private).count() == expected_private
    unread = Post.objects.filter(kind=Post.Kind.ANNOUNCEMENT).exclude(
        reads__person=reader
    )
    assert unread.count() == 2


def test_follows_name_exactly_one_target(tiny):
    for follow in Follow.objects.all():
        targets = [follow.person_id, follow.hashtag_id, follow.community_id]
        assert sum(target is not None for target in targets) == 1
        assert follow.person_id != follow.follower_id


def test_rows_are_unique_per_constraint(tiny):
    reactions = list(Reaction.objects.values_list("post_id", "person_id", "kind"))
    assert len(set(reactions)) == 1_800
    marks = list(HelpfulMark.objects.values_list("post_id", "person_id"))
    assert len(set(marks)) == 90
    bookmarks = list(Bookmark.objects.values_list("post_id", "person_id"))
    assert len(set(bookmarks)) == 40
    follows = list(
        Follow.objects.values_list(
            "follower_id", "person_id", "hashtag_id", "community_id"
        )
    )
    assert len(set(follows)) == 300
    memberships = list(Membership.objects.values_list("community_id", "person_id"))
    assert len(set(memberships)) == 240
    owners = Membership.objects.filter(role=Membership.Role.OWNER)
    assert sorted(owners.values_list("community_id", flat=True)) == list(range(1, 13))


def test_helpful_counts_match_marks(tiny):
    marks = Counter(HelpfulMark.objects.values_list("post_id", flat=True))
    for post_id, helpful_count in Post.objects.values_list("id", "helpful_count"):
        assert helpful_count == marks.get(post_id, 0)
    assert not HelpfulMark.objects.filter(person=F("post__author")).exists()
    assert sum(marks.values()) == 90


def test_activity_only_by_post_readers(tiny):
    people = {person.pk: person for person in User.objects.all()}
    rows = [
        *Reaction.objects.values_list("person_id", "post_id"),
        *HelpfulMark.objects.values_list("person_id", "post_id"),
        *Bookmark.objects.values_list("person_id", "post_id"),
        *Post.objects.values_list("author_id", "id"),
    ]
    by_person: dict[int, set[int]] = {}
    for person_id, post_id in rows:
        by_person.setdefault(person_id, set()).add(post_id)
    for person_id, post_ids in by_person.items():
        visible = set(
            visible_posts(people[person_id])
            .filter(pk__in=post_ids)
            .values_list("pk", flat=True)
        )
        assert visible == post_ids, people[person_id].username


def test_bodies_render_to_stored_html(tiny):
    tags: dict[int, set[str]] = {}
    for post_id, name in Post.hashtags.through.objects.values_list(
        "post_id", "hashtag__name"
    ):
        tags.setdefault(post_id, set()).add(name)
    for post in Post.objects.all():
        rendered = render_markdown(post.body)
        assert rendered.html == post.body_html, post.pk
        assert {tag.name for tag in rendered.hashtags} == tags.get(post.pk, set())
        if post.kind != Post.Kind.MICRO:
            assert post.title
            assert post.summary


def test_post_times_spread_with_ties(tiny):
    times = list(Post.objects.order_by("id").values_list("created_at", flat=True))
    assert min(times) >= END - timedelta(days=366)
    assert max(times) <= END
    assert times == sorted(times)
    tied = len(times) - len(set(times))
    # About 3% of posts copy the previous moment, and a burst of 12 shares one.
    assert tied >= 12
    assert max(Counter(times).values()) >= 12


def test_same_seed_writes_same_rows(tiny):
    first = dump()
    empty_loaded_tables()
    generate(SIZES["tiny"], log=quiet)
    assert dump() == first


def test_other_seed_writes_other_rows(tiny):
    first = dump()
    empty_loaded_tables()
    generate(SIZES["tiny"], seed=7, log=quiet)
    second = dump()
    assert second != first
    assert [len(table) for table in second[:7]] == [len(table) for table in first[:7]]


def test_rejects_database_with_people(tiny):
    with pytest.raises(SystemExit) as raised:
        generate(SIZES["tiny"], log=quiet)
    assert str(raised.value) == (
        "The database already has 60 rows in accounts_user: generate into an "
        "empty database (a new SQLite file or a new PostgreSQL database)."
    )


def test_load_rejects_an_unnamed_unique_column():
    columns = ("id", "username", "role")

    with pytest.raises(ValueError) as excinfo:
        insert_rows(User, columns, [(1, "kim", "it")], moment=END)

    assert str(excinfo.value) == (
        "Column 'username_key' of accounts_user is unique and has no database "
        "default: name it in the generator's columns and give each row its value."
    )
    assert not User.objects.exists()


def test_generated_keys_match_the_models(tiny):
    people = User.objects.values_list(
        "username", "username_key", "email", "email_key", "username_skeleton"
    )
    for username, username_key, email, email_key, username_skeleton in people:
        assert username_key == fold_case(username)
        assert email_key == fold_case(email)
        assert username_skeleton == skeleton(username)
    communities = Community.objects.values_list("name", "name_key", "name_skeleton")
    for name, name_key, name_skeleton in communities:
        assert name_key == fold_case(name)
        assert name_skeleton == skeleton(name)
