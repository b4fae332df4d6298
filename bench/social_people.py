"""Rows of the generated company: customers, people, communities, members."""

from collections.abc import Iterator

from accounts.models import LearnerGroup, Role
from bench.bulk_load import Row
from bench.social_world import (
    CUSTOMER_SHARE,
    EMPLOYEE_ROLES,
    FIRST_NAMES,
    GROUP_OF_ROLE,
    LAST_NAMES,
    NEWS_COMMUNITY_ID,
    POPULAR_ID,
    POPULAR_USERNAME,
    READER_ID,
    READER_MEMBERSHIPS,
    READER_PRIVATE_MEMBERSHIPS,
    READER_USERNAME,
    UNUSABLE_PASSWORD,
    YEAR,
    Picker,
    Size,
    World,
    at,
    zipf_weights,
)
from communities.models import Community, Membership
from core.confusables import skeleton
from core.text import fold_case

# Companies and customer parties -------------------------------------------


COMPANY_COLUMNS = ("id", "name", "base_currency_id", "timezone", "is_sandbox")
PARTY_COLUMNS = (
    "id", "company_id", "code", "name", "currency_id", "created_at",
    "updated_at", "country", "city",
)  # fmt: skip
VISIBILITIES = (
    Community.Visibility.OPEN,
    Community.Visibility.PRIVATE,
    Community.Visibility.CUSTOMER,
)
VISIBILITY_WEIGHTS = (65, 25, 10)
MEMBERSHIP_COLUMNS = ("id", "community_id", "person_id", "role", "joined_at")


def company_rows(world: World) -> Iterator[Row]:
    yield (1, "Bench Company", "USD", "UTC", False)


def party_count(size: Size) -> int:
    return max(1, round(size.people * CUSTOMER_SHARE) // 5)


def party_rows(world: World) -> Iterator[Row]:
    created = at(2 * YEAR)
    for number in range(1, party_count(world.size) + 1):
        yield (
            number,
            1,
            f"C{number:05d}",
            f"Customer {number:05d}",
            "USD",
            created,
            created,
            "",
            "",
        )


# People -------------------------------------------------------------------


USER_COLUMNS = (
    "id", "password", "is_superuser", "username", "first_name", "last_name",
    "email", "is_staff", "is_active", "date_joined", "role", "title",
    "learner_group_id", "customer_id", "employee_number", "username_key",
    "email_key", "username_skeleton",
)  # fmt: skip


def assign_roles(world: World) -> None:
    """Pick everyone's role; ids 1 and 2 are the two benchmark people."""
    rng = world.rng
    size = world.size
    customers = max(1, round(size.people * CUSTOMER_SHARE))
    customer_ids = set(rng.sample(range(3, size.people + 1), customers))
    roles = [role for role, _ in EMPLOYEE_ROLES]
    weights = [weight for _, weight in EMPLOYEE_ROLES]
    world.roles = [Role.EXECUTIVE, Role.SALES_REP]
    for person_id in range(3, size.people + 1):
        if person_id in customer_ids:
            world.roles.append(Role.CUSTOMER)
        else:
            world.roles.append(rng.choices(roles, weights)[0])
    world.everyone = list(range(1, size.people + 1))
    world.employees = [
        pid for pid in world.everyone if world.roles[pid - 1] != Role.CUSTOMER
    ]


def user_rows(world: World) -> Iterator[Row]:
    assign_roles(world)
    rng = world.rng
    groups = dict(LearnerGroup.objects.values_list("slug", "id"))
    # The benchmarks sign in with force_login, never a password. An unusable
    # hash that is the same every run keeps the rows repeatable.
    password = UNUSABLE_PASSWORD
    parties = party_count(world.size)
    for person_id, role in enumerate(world.roles, start=1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        if person_id == POPULAR_ID:
            username = POPULAR_USERNAME
        elif person_id == READER_ID:
            username = READER_USERNAME
        else:
            username = f"{first}.{last}.{person_id}".lower()
        group = GROUP_OF_ROLE.get(Role(role))
        customer = rng.randint(1, parties) if role == Role.CUSTOMER else None
        joined = at(YEAR + rng.random() * YEAR)
        world.full_names.append(f"{first} {last}")
        email = f"{username}@bench.example"
        yield (
            person_id, password, False, username, first, last,
            email, False, True, joined, role, "",
            groups[group] if group else None, customer,
            "" if customer else f"E{person_id:06d}", fold_case(username),
            fold_case(email), skeleton(username),
        )  # fmt: skip


# Communities and memberships ----------------------------------------------


COMMUNITY_COLUMNS = (
    "id", "slug", "name", "purpose", "conversation_starters", "visibility",
    "learner_group_id", "created_by_id", "created_at", "updated_at", "name_key",
    "name_skeleton",
)  # fmt: skip


def community_rows(world: World) -> Iterator[Row]:
    """Community 1 is the company-wide news community, the largest of all."""
    rng = world.rng
    count = world.size.communities
    # Popularity falls with rank; the shuffle keeps ids and size unrelated.
    world.community_weights = zipf_weights(count, 0.9)
    order = list(range(1, count))
    rng.shuffle(order)
    world.community_weights = [world.community_weights[0]] + [
        world.community_weights[rank] for rank in order
    ]
    for community_id in range(1, count + 1):
        if community_id == NEWS_COMMUNITY_ID:
            visibility = Community.Visibility.OPEN
        else:
            visibility = rng.choices(VISIBILITIES, VISIBILITY_WEIGHTS)[0]
        world.visibility.append(visibility)
        created = at(YEAR + rng.random() * YEAR)
        name = "Company news" if community_id == 1 else f"Community {community_id:05d}"
        yield (
            community_id, f"community-{community_id}", name,
            f"Where {name} members share what works.", "[]", visibility, None,
            None, created, created, fold_case(name), skeleton(name),
        )  # fmt: skip


def membership_rows(world: World) -> Iterator[Row]:
    """Give every community an owner, then draw members by popularity.

    The reader and the popular author get their fixed memberships first.
    Customers join customer-visible communities only.
    """
    rng = world.rng
    size = world.size
    world.members = [[] for _ in range(size.communities)]
    seen: set[tuple[int, int]] = set()
    rows: list[Row] = []

    def add(community_id: int, person_id: int, role: str) -> bool:
        if (community_id, person_id) in seen:
            return False
        seen.add((community_id, person_id))
        world.members[community_id - 1].append(person_id)
        joined = at(rng.random() * YEAR * 1.5)
        rows.append((len(rows) + 1, community_id, person_id, role, joined))
        return True

    member = Membership.Role.MEMBER
    for community_id in range(1, size.communities + 1):
        add(community_id, rng.choice(world.employees), Membership.Role.OWNER)
    for person_id in (POPULAR_ID, READER_ID):
        add(NEWS_COMMUNITY_ID, person_id, member)
    private = [
        cid for cid, vis in enumerate(world.visibility, start=1)
        if vis == Community.Visibility.PRIVATE
    ]  # fmt: skip
    others = [
        cid for cid, vis in enumerate(world.visibility, start=1)
        if vis != Community.Visibility.PRIVATE and cid != NEWS_COMMUNITY_ID
    ]  # fmt: skip
    reader_private = rng.sample(private, min(READER_PRIVATE_MEMBERSHIPS, len(private)))
    reader_open = rng.sample(others, READER_MEMBERSHIPS - 1 - len(reader_private))
    for community_id in reader_private + reader_open:
        add(community_id, READER_ID, member)
    for community_id in rng.sample(others, min(5, len(others))):
        add(community_id, POPULAR_ID, member)

    pick_community = Picker(rng, world.community_weights)
    while len(rows) < size.memberships:
        community_id = pick_community() + 1
        customer_visible = (
            world.visibility[community_id - 1] == Community.Visibility.CUSTOMER
        )
        pool = world.everyone if customer_visible else world.employees
        members = world.members[community_id - 1]
        role = Membership.Role.MODERATOR if len(members) in (5, 20) else member
        person_id = rng.choice(pool)
        # The reader's memberships are fixed above.
        if person_id != READER_ID:
            add(community_id, person_id, role)
    yield from rows
