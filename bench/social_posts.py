"""Rows of the generated posts and the hashtags on them."""

import random
from collections.abc import Iterator
from datetime import timedelta

from bench import social_text
from bench.bulk_load import Row
from bench.social_world import (
    END,
    NEWS_COMMUNITY_ID,
    POPULAR_ID,
    Picker,
    World,
    at,
    spread,
    zipf_weights,
)
from communities.models import Community
from core.markdown import normalize_tag
from social.models import Post

# Hashtags and posts -------------------------------------------------------


def hashtag_rows(world: World) -> Iterator[Row]:
    spellings = social_text.tag_display_names(world.size.hashtags)
    for tag_id, spelling in enumerate(spellings, start=1):
        name = normalize_tag(spelling)
        world.tag_names.append(name)
        yield (tag_id, name, spelling)


POST_COLUMNS = (
    "id", "community_id", "kind", "title", "summary", "author_id",
    "author_name", "body", "body_html", "edited_at", "deleted_at",
    "comment_count", "helpful_count", "created_at", "updated_at",
)  # fmt: skip
TAGS_PER_POST = (0, 1, 2, 3, 4)
TAGS_PER_POST_WEIGHTS = (25, 35, 25, 10, 5)


def post_times(rng: random.Random, count: int) -> list[float]:
    """Return ``count`` ages in seconds, oldest first, with deliberate ties.

    Weekdays carry four times the posts of a weekend day, and working hours
    most of each day's. About 3% of posts share the previous post's moment
    exactly, and one import wrote a burst of posts with a single timestamp.
    """
    ages: list[float] = []
    for _ in range(count):
        day = rng.randrange(365)
        weekend = (END - timedelta(days=day)).weekday() >= 5
        if weekend and rng.random() < 0.75:
            day = (day + 2) % 365
        hour = rng.triangular(6, 19, 10)
        ages.append(day * 86400 + (24 - hour) * 3600 + rng.random())
    ages.sort(reverse=True)
    for index in range(1, count):
        if rng.random() < 0.03:
            ages[index] = ages[index - 1]
    burst = min(40, count // 50)
    start = count // 3
    for index in range(start, start + burst):
        ages[index] = ages[start]
    return [round(age, 6) for age in ages]


def choose_kinds(world: World) -> list[str]:
    """Return each post's kind: a few announcements, some blogs, the rest micro."""
    rng = world.rng
    size = world.size
    kinds: list[str] = [Post.Kind.MICRO] * size.posts
    # Announcements spread over the year; the last one is in the newest tenth.
    for number in range(size.announcements):
        index = int((number + 0.9) * size.posts / size.announcements) - 1
        kinds[index] = Post.Kind.ANNOUNCEMENT
        world.announcement_ids.append(index + 1)
    micro = [i for i, kind in enumerate(kinds) if kind == Post.Kind.MICRO]
    for index in rng.sample(micro, size.blogs):
        kinds[index] = Post.Kind.BLOG
    return kinds


def choose_author(world: World, community_id: int) -> int:
    rng = world.rng
    members = world.members[community_id - 1]
    visibility = world.visibility[community_id - 1]
    if visibility == Community.Visibility.PRIVATE or rng.random() < 0.85:
        return rng.choice(members)
    return rng.choice(world.employees)


def post_tags(world: World, pick_tag: Picker) -> list[int]:
    count = world.rng.choices(TAGS_PER_POST, TAGS_PER_POST_WEIGHTS)[0]
    tags: list[int] = []
    while len(tags) < min(count, world.size.hashtags):
        tag = pick_tag()
        if tag not in tags:
            tags.append(tag)
    return tags


def plan_posts(world: World) -> list[str]:
    """Choose each post's kind, community, author and tags; return the kinds."""
    size = world.size
    world.post_time = post_times(world.rng, size.posts)
    kinds = choose_kinds(world)
    pick_community = Picker(world.rng, world.community_weights)
    pick_tag = Picker(world.rng, zipf_weights(size.hashtags, 1.0))
    for index in range(size.posts):
        if kinds[index] == Post.Kind.ANNOUNCEMENT or (index + 1) % 2000 == 0:
            community_id, author = NEWS_COMMUNITY_ID, POPULAR_ID
        else:
            community_id = pick_community() + 1
            author = choose_author(world, community_id)
        world.post_community.append(community_id)
        world.post_author.append(author)
        world.post_tags.append(post_tags(world, pick_tag))
    # Everyone who may see a post but its author may mark it helpful.
    world.helpful = spread(world, size.helpful_marks, lambda i: len(world.pool(i)) - 1)
    return kinds


def typed(rng: random.Random, spelling: str) -> str:
    """Return how an author typed a tag: one time in five in lower case."""
    return spelling.lower() if rng.random() < 0.2 else spelling


def post_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    kinds = plan_posts(world)
    spellings = social_text.tag_display_names(world.size.hashtags)
    for index, kind in enumerate(kinds):
        tags = [
            (typed(rng, spellings[tag]), world.tag_names[tag])
            for tag in world.post_tags[index]
        ]
        long_form = kind != Post.Kind.MICRO
        body, html = social_text.post_text(rng, tags, long_form=long_form)
        title = social_text.title(rng) if long_form else ""
        summary = social_text.sentence(rng) if long_form else ""
        created = at(world.post_time[index])
        author = world.post_author[index]
        yield (
            index + 1, world.post_community[index], kind, title, summary, author,
            world.full_names[author - 1], body, html, None, None, 0,
            world.helpful[index], created, created,
        )  # fmt: skip


def post_hashtag_rows(world: World) -> Iterator[Row]:
    row_id = 0
    for index, tags in enumerate(world.post_tags):
        for tag in tags:
            row_id += 1
            yield (row_id, index + 1, tag + 1)
