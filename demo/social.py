"""The demo's conversation: posts, a blog post, an announcement and follows.

A new visitor's home feed should show how the network is used at Company X:
the chief operating officer's announcement on top, a facilitator's blog
post on short payments, super-users' tips with hashtags and mentions, and
a post in the customer community that the customer contact also reads.
Everything goes through the same services as the pages, so hashtags,
mentions and notifications are real.
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from communities.models import Community
from social.models import Post
from social.services.follows import (
    hashtag_for_follow,
    set_community_follow,
    set_hashtag_follow,
    set_person_follow,
)
from social.services.posts import publish_post

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostSeed:
    author: str
    community: str
    body: str
    kind: str = Post.Kind.MICRO
    title: str = ""
    summary: str = ""


CUSTOMER_COMMUNITY = "customer"

POSTS: tuple[PostSeed, ...] = (
    PostSeed(
        "walter",
        "fulfilment",
        "Backorders: when a line ships short, record the shipped quantity and "
        "leave the rest open. The order list then shows it under "
        "#backorder, and the sales rep decides. Never edit the ordered "
        "quantity down to make it match.",
    ),
    PostSeed(
        "paula",
        "payments",
        "Remittance tip: when the remittance names a bank fee, the short "
        "payment goes to a write-off request, which a manager approves "
        "when it is above the tolerance. Without a remittance, ask the "
        "customer first and tag it #shortpayment so we can see how often it "
        "happens. @margaret the SO-10348 case is one of those.",
    ),
    PostSeed(
        "lena",
        "payments",
        "1. **Read the remittance.** It names the invoices the customer meant "
        "to pay and, often, why the amount differs.\n"
        "2. **Compare with the tolerance.** Under it, write off; over it, "
        "open a dispute with the sales representative.\n"
        "3. **Check for credit notes.** A credit note the customer already "
        "deducted is not a short payment at all.\n"
        "4. **Ask before you chase.** A short message to the customer beats "
        "a reminder letter.\n"
        "5. **Close the case with a reason code**, so the monthly report "
        "shows what really happened.\n\n"
        "#shortpayment #bestpractice",
        kind=Post.Kind.BLOG,
        title="Five checks before you write off a short payment",
        summary="What the payments super-users look at first, in order.",
    ),
    PostSeed(
        "erin",
        "order-entry",
        "From Monday every order screen shows a help panel on the right: FAQ "
        "entries, documents and the super-users for that screen. Ask your "
        "question right there; the super-users answer within the day. "
        "#onboarding",
        kind=Post.Kind.ANNOUNCEMENT,
        title="Help is now on every order screen",
        summary="Ask from the screen you are on; the super-users answer.",
    ),
    PostSeed(
        "margaret",
        CUSTOMER_COMMUNITY,
        "Customers: if an invoice does not match what you received, tell us "
        "from the order page with a photo or the delivery note. We answer "
        "within one working day. #invoicing",
    ),
)

# (follower, kind, target): kind is person, tag or community.
FOLLOWS: tuple[tuple[str, str, str], ...] = (
    ("margaret", "tag", "shortpayment"),
    ("margaret", "person", "paula"),
    ("fiona", "person", "walter"),
    ("fiona", "tag", "backorder"),
    ("paula", "community", "fulfilment"),
    ("walter", "person", "lena"),
)


def _community(slug: str) -> Community | None:
    if slug == CUSTOMER_COMMUNITY:
        return (
            Community.objects.filter(visibility=Community.Visibility.CUSTOMER)
            .order_by("pk")
            .first()
        )
    return Community.objects.filter(slug=slug).first()


@transaction.atomic
def seed_social() -> None:
    """Publish the demo posts and follows once; a second run changes nothing."""
    if Post.objects.filter(kind=Post.Kind.ANNOUNCEMENT).exists():
        return
    people = {person.username: person for person in User.objects.all()}
    for seed in POSTS:
        author = people.get(seed.author)
        community = _community(seed.community)
        if author is None or community is None:
            logger.info(
                "demo post skipped: author=%s community=%s", seed.author, seed.community
            )
            continue
        publish_post(
            author=author,
            community=community,
            body=seed.body,
            kind=seed.kind,
            title=seed.title,
            summary=seed.summary,
        )
    for username, kind, target in FOLLOWS:
        follower = people.get(username)
        if follower is None:
            continue
        if kind == "person" and target in people:
            set_person_follow(follower=follower, person=people[target], active=True)
        elif kind == "tag":
            set_hashtag_follow(
                follower=follower, hashtag=hashtag_for_follow(target), active=True
            )
        elif kind == "community" and (community := _community(target)):
            set_community_follow(follower=follower, community=community, active=True)
