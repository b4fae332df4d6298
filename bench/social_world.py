"""The shared state and sampling tools of the social network generator.

``World`` carries what later tables need from earlier ones (roles, members,
post authors and times). Every draw comes from ``World.rng``, seeded once,
so the same seed always gives the same rows.
"""

import random
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from accounts.models import Role
from communities.models import Community

SEED = 20261204
# The last moment of the generated year; posts spread over the year before.
END = datetime(2026, 12, 1, tzinfo=UTC)
YEAR = 365 * 86400
POPULAR_ID = 1
READER_ID = 2
POPULAR_USERNAME = "bench.popular"
READER_USERNAME = "bench.reader"
NEWS_COMMUNITY_ID = 1
# The follows and memberships of bench.reader: a person who uses the site
# most days, above the median (about ten follows), far from the heaviest.
READER_PEOPLE = 20
READER_TAGS = 8
READER_COMMUNITY_FOLLOWS = 4
READER_MEMBERSHIPS = 10
READER_PRIVATE_MEMBERSHIPS = 3
READER_UNREAD_ANNOUNCEMENTS = 2
# Django reads a hash that starts with "!" as "no password can sign in".
UNUSABLE_PASSWORD = "!bench-no-password"  # noqa: S105


@dataclass(frozen=True)
class Size:
    people: int
    communities: int
    posts: int
    follows: int
    reactions: int
    hashtags: int
    memberships: int
    helpful_marks: int
    bookmarks: int
    announcements: int
    announcement_reads: int
    blogs: int
    popular_followers: int


SIZES = {
    # For the generator's own test: the same code paths, a second to run.
    "tiny": Size(
        people=60, communities=12, posts=600, follows=300, reactions=1_800,
        hashtags=30, memberships=240, helpful_marks=90, bookmarks=40,
        announcements=3, announcement_reads=90, blogs=12, popular_followers=40,
    ),
    # About 1/100 of medium, for quick runs of the benchmark.
    "small": Size(
        people=200, communities=50, posts=10_000, follows=2_000, reactions=30_000,
        hashtags=100, memberships=1_600, helpful_marks=1_500, bookmarks=400,
        announcements=4, announcement_reads=400, blogs=100, popular_followers=150,
    ),
    "medium": Size(
        people=20_000, communities=5_000, posts=1_000_000, follows=200_000,
        reactions=3_000_000, hashtags=2_000, memberships=160_000,
        helpful_marks=150_000, bookmarks=40_000, announcements=12,
        announcement_reads=120_000, blogs=10_000, popular_followers=5_000,
    ),
    # Five times medium; the popular author keeps exactly 5,000 followers.
    "large": Size(
        people=100_000, communities=25_000, posts=5_000_000, follows=1_000_000,
        reactions=15_000_000, hashtags=10_000, memberships=800_000,
        helpful_marks=750_000, bookmarks=200_000, announcements=60,
        announcement_reads=600_000, blogs=50_000, popular_followers=5_000,
    ),
}  # fmt: skip

EMPLOYEE_ROLES = (
    (Role.SALES_REP, 30),
    (Role.FINANCE_CLERK, 22),
    (Role.WAREHOUSE, 22),
    (Role.MANAGER, 9),
    (Role.FACILITATOR, 3),
    (Role.HR, 2),
    (Role.IT, 4),
    (Role.EXECUTIVE, 1),
    (Role.MODERATOR, 1),
)
CUSTOMER_SHARE = 0.03
GROUP_OF_ROLE = {
    Role.SALES_REP: "sales",
    Role.FINANCE_CLERK: "operations",
    Role.WAREHOUSE: "warehouse",
    Role.CUSTOMER: "customers",
}
FIRST_NAMES = (
    "Pat", "Jo", "Sam", "Alex", "Maria", "Ana", "Li", "Wei", "Omar", "Fatima",
    "Noah", "Emma", "Liam", "Olivia", "Yuki", "Hana", "Ravi", "Priya", "Lars",
    "Ingrid", "Mateo", "Lucia", "Kwame", "Amara", "Ivan", "Olga", "Tom", "Eva",
)  # fmt: skip
LAST_NAMES = (
    "Lee", "Smith", "Garcia", "Chen", "Khan", "Novak", "Silva", "Kim", "Berg",
    "Okafor", "Rossi", "Dubois", "Tanaka", "Patel", "Nielsen", "Costa", "Meyer",
    "Haddad", "Moreau", "Ivanova", "Santos", "Walsh", "Larsen", "Mensah",
)  # fmt: skip
REACTION_KINDS = ("like", "celebrate", "insightful", "thanks")
REACTION_WEIGHTS = (70, 8, 10, 12)


@dataclass
class World:
    """The facts about rows already generated that later tables need."""

    size: Size
    rng: random.Random
    roles: list[str] = field(default_factory=list)  # index = person id - 1
    employees: list[int] = field(default_factory=list)
    everyone: list[int] = field(default_factory=list)
    visibility: list[str] = field(default_factory=list)  # index = community id - 1
    community_weights: list[float] = field(default_factory=list)
    members: list[list[int]] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)
    post_community: list[int] = field(default_factory=list)
    post_author: list[int] = field(default_factory=list)
    post_time: list[float] = field(default_factory=list)
    post_weights: list[float] = field(default_factory=list)
    post_tags: list[list[int]] = field(default_factory=list)
    helpful: list[int] = field(default_factory=list)
    full_names: list[str] = field(default_factory=list)  # index = person id - 1
    announcement_ids: list[int] = field(default_factory=list)

    def pool(self, post_index: int) -> Sequence[int]:
        """Return the people who may see post ``post_index`` (0-based)."""
        community = self.post_community[post_index]
        visibility = self.visibility[community - 1]
        if visibility == Community.Visibility.PRIVATE:
            return self.members[community - 1]
        if visibility == Community.Visibility.CUSTOMER:
            return self.everyone
        return self.employees


def at(seconds: float) -> datetime:
    """Return the moment ``seconds`` before END."""
    return END - timedelta(seconds=seconds)


def zipf_weights(count: int, exponent: float) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


class Picker:
    """Draw indices 0..n-1 by weight, quickly, from one generator."""

    def __init__(self, rng: random.Random, weights: Sequence[float]) -> None:
        self.rng = rng
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def __call__(self) -> int:
        return bisect_left(self.cumulative, self.rng.random() * self.total)


def post_popularity(world: World) -> list[float]:
    """Return one weight per post: heavy-tailed, announcements the highest."""
    if not world.post_weights:
        rng = world.rng
        world.post_weights = [rng.paretovariate(1.3) for _ in range(world.size.posts)]
        for post_id in world.announcement_ids:
            world.post_weights[post_id - 1] *= 50
    return world.post_weights


def spread(world: World, total: int, capacity: Callable[[int], int]) -> list[int]:
    """Split ``total`` over the posts by popularity, at most ``capacity(i)`` each."""
    rng = world.rng
    counts = [0] * world.size.posts
    pick = Picker(rng, post_popularity(world))
    placed = 0
    while placed < total:
        index = pick()
        if counts[index] < capacity(index):
            counts[index] += 1
            placed += 1
    return counts


def distinct_people(
    rng: random.Random, pool: Sequence[int], count: int, exclude: int | None
) -> list[int]:
    chosen: list[int] = []
    taken: set[int] = set() if exclude is None else {exclude}
    while len(chosen) < count:
        person = rng.choice(pool)
        if person not in taken:
            taken.add(person)
            chosen.append(person)
    return chosen


def later(world: World, index: int) -> datetime:
    """Return a moment after post ``index`` was written, within the year."""
    age = world.post_time[index]
    delay = min(age, world.rng.expovariate(1 / 21600))
    return at(age - delay)
