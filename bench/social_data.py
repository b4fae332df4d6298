"""Generate a social network of a fixed size from a fixed seed.

``generate(SIZES["medium"])`` writes 20,000 people, 5,000 communities,
1,000,000 posts, 200,000 follows and 3,000,000 reactions, with memberships,
hashtags, helpful marks, bookmarks, announcements and their reads. The same
seed always writes the same rows: nothing reads the clock or an unseeded
random source. ``docs/benchmarks.md`` describes the shapes.

Two people are fixed for the benchmarks: ``bench.popular`` (id 1), an
executive with exactly ``size.popular_followers`` followers, and
``bench.reader`` (id 2), a sales representative with a typical set of
follows and memberships.
"""

import importlib
import random
import time
from collections.abc import Callable, Iterator, Sequence

from django.db import connection, models

from accounts.models import User
from bench import social_activity, social_people, social_posts
from bench.bulk_load import Row, Timer, analyze, insert_rows, reset_sequences
from bench.social_world import (
    END,
    NEWS_COMMUNITY_ID,
    POPULAR_USERNAME,
    READER_USERNAME,
    SEED,
    SIZES,
    Size,
    World,
)
from communities.models import Community, Membership
from reconciliation.models import Company, Party
from social.models import (
    AnnouncementRead,
    Bookmark,
    Follow,
    Hashtag,
    HelpfulMark,
    Post,
    Reaction,
)

__all__ = [
    "END",
    "LOADED_MODELS",
    "NEWS_COMMUNITY_ID",
    "POPULAR_USERNAME",
    "READER_USERNAME",
    "SEED",
    "SIZES",
    "generate",
]

HashtagThrough = Post.hashtags.through
RowMaker = Callable[[World], Iterator[Row]]
# Each table in load order: its model, the columns the rows fill, the rows.
STEPS: tuple[tuple[type[models.Model], Sequence[str], RowMaker], ...] = (
    (Company, social_people.COMPANY_COLUMNS, social_people.company_rows),
    (Party, social_people.PARTY_COLUMNS, social_people.party_rows),
    (User, social_people.USER_COLUMNS, social_people.user_rows),
    (Community, social_people.COMMUNITY_COLUMNS, social_people.community_rows),
    (Membership, social_people.MEMBERSHIP_COLUMNS, social_people.membership_rows),
    (Hashtag, ("id", "name", "display_name"), social_posts.hashtag_rows),
    (Post, social_posts.POST_COLUMNS, social_posts.post_rows),
    (HashtagThrough, ("id", "post_id", "hashtag_id"), social_posts.post_hashtag_rows),
    (Follow, social_activity.FOLLOW_COLUMNS, social_activity.follow_rows),
    (Reaction, social_activity.REACTION_COLUMNS, social_activity.reaction_rows),
    (HelpfulMark, social_activity.MARK_COLUMNS, social_activity.helpful_rows),
    (Bookmark, social_activity.MARK_COLUMNS, social_activity.bookmark_rows),
    (AnnouncementRead, social_activity.READ_COLUMNS, social_activity.read_rows),
)
LOADED_MODELS: tuple[type[models.Model], ...] = tuple(step[0] for step in STEPS)


def check_empty() -> None:
    """Raise ``SystemExit`` when the database already contains people or posts."""
    for model in (User, Community, Post, Company):
        count = model.objects.count()
        if count:
            raise SystemExit(
                f"The database already has {count} rows in "
                f"{model._meta.db_table}: generate into an empty database "
                "(a new SQLite file or a new PostgreSQL database)."
            )


def fill_reaction_counts() -> None:
    """Set each post's reaction counters from its loaded reactions.

    The rows are loaded without the service that moves the counters, so
    they are counted once here, by the statement of the data migration
    that filled them for existing posts.
    """
    migration = importlib.import_module("social.migrations.0009_fill_reaction_counts")
    with connection.cursor() as cursor:
        cursor.execute(migration.FILL_COUNTS)


def generate(
    size: Size, *, seed: int = SEED, log: Callable[[str], object] = print
) -> dict[str, int]:
    """Write the whole network and return the row count of each table."""
    check_empty()
    if connection.vendor == "sqlite":
        # The default page cache (2 MiB) is far smaller than the indexes of
        # a million posts, so each insert would reread index pages.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")
    timer = Timer()
    world = World(size=size, rng=random.Random(seed))
    counts: dict[str, int] = {}
    for model, columns, rows in STEPS:
        started = time.perf_counter()
        count = insert_rows(model, columns, rows(world), moment=END)
        counts[model._meta.db_table] = count
        timer.step(model._meta.db_table, count, started)
        log(f"{model._meta.db_table}: {count:,} rows in {timer.steps[-1][2]:.1f} s")

    started = time.perf_counter()
    fill_reaction_counts()
    timer.step("reaction counts", 0, started)
    log(f"reaction counts: {timer.steps[-1][2]:.1f} s")

    started = time.perf_counter()
    if connection.vendor == "postgresql":
        reset_sequences(LOADED_MODELS)
    analyze(LOADED_MODELS)
    timer.step("analyze", 0, started)
    log(f"analyze: {timer.steps[-1][2]:.1f} s; total {timer.total:.1f} s")
    return counts
