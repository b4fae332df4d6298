"""Rows of what people do with posts: follows, reactions, marks and reads."""

from collections import Counter
from collections.abc import Iterator

from bench.bulk_load import Row
from bench.social_world import (
    POPULAR_ID,
    REACTION_KINDS,
    REACTION_WEIGHTS,
    READER_COMMUNITY_FOLLOWS,
    READER_ID,
    READER_PEOPLE,
    READER_TAGS,
    READER_UNREAD_ANNOUNCEMENTS,
    YEAR,
    Picker,
    World,
    at,
    distinct_people,
    later,
    spread,
    zipf_weights,
)
from communities.models import Community

# Follows ------------------------------------------------------------------


FOLLOW_COLUMNS = (
    "id", "follower_id", "person_id", "hashtag_id", "community_id", "created_at",
)  # fmt: skip
REACTION_COLUMNS = ("id", "post_id", "person_id", "kind", "created_at")
MARK_COLUMNS = ("id", "post_id", "person_id", "created_at")
READ_COLUMNS = ("id", "post_id", "person_id", "read_at")


def follow_rows(world: World) -> Iterator[Row]:
    """Write person, hashtag and community follows, about 55/30/15.

    ``bench.popular`` gets exactly ``popular_followers`` followers, the
    reader among them. Every other person gets at most a fifth of that.
    """
    rng = world.rng
    size = world.size
    person_total = round(size.follows * 0.55)
    tag_total = round(size.follows * 0.30)
    community_total = size.follows - person_total - tag_total
    rows: list[Row] = []
    seen: set[tuple[str, int, int]] = set()
    made_by_kind: Counter[str] = Counter()
    follower_count: Counter[int] = Counter()

    def add(follower: int, target: int, column: str) -> bool:
        if (column, follower, target) in seen:
            return False
        seen.add((column, follower, target))
        made_by_kind[column] += 1
        if column == "person":
            follower_count[target] += 1
        person = target if column == "person" else None
        hashtag = target if column == "hashtag" else None
        community = target if column == "community" else None
        created = at(rng.random() * YEAR)
        rows.append((len(rows) + 1, follower, person, hashtag, community, created))
        return True

    fans = [pid for pid in world.employees if pid not in (POPULAR_ID, READER_ID)]
    add(READER_ID, POPULAR_ID, "person")
    for follower in rng.sample(fans, size.popular_followers - 1):
        add(follower, POPULAR_ID, "person")
    others = [pid for pid in world.employees if pid not in (POPULAR_ID, READER_ID)]
    for target in rng.sample(others, READER_PEOPLE - 1):
        add(READER_ID, target, "person")
    for tag in rng.sample(range(1, min(50, size.hashtags) + 1), READER_TAGS):
        add(READER_ID, tag, "hashtag")
    readable = [
        cid for cid, vis in enumerate(world.visibility, start=1)
        if vis != Community.Visibility.PRIVATE
    ]  # fmt: skip
    for community_id in rng.sample(readable, READER_COMMUNITY_FOLLOWS):
        add(READER_ID, community_id, "community")

    # The reader's follows are fixed above, so the random ones leave them out.
    followers = [pid for pid in world.employees if pid != READER_ID]
    activity = Picker(rng, [rng.lognormvariate(0, 1) for _ in followers])
    targets = [pid for pid in world.employees if pid != POPULAR_ID]
    popularity = Picker(rng, [rng.paretovariate(1.2) for _ in targets])
    cap = max(1, size.popular_followers // 5)
    while made_by_kind["person"] < person_total:
        follower = followers[activity()]
        target = targets[popularity()]
        if target != follower and follower_count[target] < cap:
            add(follower, target, "person")
    pick_tag = Picker(rng, zipf_weights(size.hashtags, 1.0))
    while made_by_kind["hashtag"] < tag_total:
        add(followers[activity()], pick_tag() + 1, "hashtag")
    readable_weights = [world.community_weights[cid - 1] for cid in readable]
    pick_readable = Picker(rng, readable_weights)
    while made_by_kind["community"] < community_total:
        add(followers[activity()], readable[pick_readable()], "community")
    yield from rows


def reaction_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    counts = spread(
        world, world.size.reactions, lambda i: len(world.pool(i)) * len(REACTION_KINDS)
    )
    row_id = 0
    for index, count in enumerate(counts):
        pool = world.pool(index)
        taken: set[tuple[int, str]] = set()
        while len(taken) < count:
            person = rng.choice(pool)
            kind = rng.choices(REACTION_KINDS, REACTION_WEIGHTS)[0]
            if (person, kind) in taken:
                continue
            taken.add((person, kind))
            row_id += 1
            yield (row_id, index + 1, person, kind, later(world, index))


def helpful_rows(world: World) -> Iterator[Row]:
    row_id = 0
    for index, count in enumerate(world.helpful):
        for person in distinct_people(
            world.rng, world.pool(index), count, world.post_author[index]
        ):
            row_id += 1
            yield (row_id, index + 1, person, later(world, index))


def bookmark_rows(world: World) -> Iterator[Row]:
    counts = spread(world, world.size.bookmarks, lambda i: len(world.pool(i)))
    row_id = 0
    for index, count in enumerate(counts):
        for person in distinct_people(world.rng, world.pool(index), count, None):
            row_id += 1
            yield (row_id, index + 1, person, later(world, index))


def read_rows(world: World) -> Iterator[Row]:
    """Write announcement reads. The reader has read all but the newest two."""
    rng = world.rng
    announcements = world.announcement_ids
    seen: set[tuple[int, int]] = set()
    rows: list[Row] = []
    read_by_reader = announcements[
        : max(0, len(announcements) - READER_UNREAD_ANNOUNCEMENTS)
    ]
    for post_id in read_by_reader:
        seen.add((post_id, READER_ID))
        rows.append((len(rows) + 1, post_id, READER_ID, later(world, post_id - 1)))
    readers = [pid for pid in world.employees if pid != READER_ID]
    while len(rows) < world.size.announcement_reads:
        post_id = rng.choice(announcements)
        person = rng.choice(readers)
        if (post_id, person) not in seen:
            seen.add((post_id, person))
            rows.append((len(rows) + 1, post_id, person, later(world, post_id - 1)))
    yield from rows
