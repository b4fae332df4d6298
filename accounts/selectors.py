"""Reads of people, and the one visibility rule for a person.

An employee sees every active account. A customer account sees active staff
whose profile is marked visible to customers, and itself. Nobody signed out
sees anyone. Every surface that shows a person (profile page, directory,
search, follow) starts from ``visible_people``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import Truncator

from accounts.models import (
    CrmFunction,
    Endorsement,
    PersonSkill,
    Role,
    Skill,
    SuperUserAssignment,
    User,
)
from accounts.permissions import Viewer
from accounts.skills import normalize_skill
from core.text import clean_line, fold_case
from social.models import Comment, Follow


def visible_people(viewer: Viewer) -> QuerySet[User]:
    if not isinstance(viewer, User) or not viewer.is_active:
        return User.objects.none()
    active = User.objects.listed().filter(is_active=True)
    if viewer.is_external:
        return active.filter(
            (~Q(role=Role.CUSTOMER) & Q(visible_to_customers=True)) | Q(pk=viewer.pk)
        )
    return active


def access_person(viewer: Viewer, username: str) -> User:
    """Return the person, or raise 404 when ``viewer`` may not see them."""
    person = visible_people(viewer).filter(username_key=fold_case(username)).first()
    if person is None:
        raise Http404("No person found with that username.")
    return person


# The directory, profile pages and the activity list are built below as plain
# records, so a template for a customer viewer never holds a User whose
# internal fields (e-mail, learner group, manager) it could print.

DIRECTORY_PAGE_SIZE = 24
ACTIVITY_LENGTH = 10
SNIPPET_LENGTH = 160
FOLLOWER_PREVIEW_LENGTH = 12
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class SkillEntry:
    name: str
    display_name: str
    endorsement_count: int = 0
    endorsed_by_viewer: bool = False
    # Empty for customer viewers: who endorsed whom is internal.
    endorsers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonCard:
    """One person as the viewer may see them: public fields, then internal ones."""

    username: str
    display_name: str
    title: str
    role_label: str
    headline: str
    crm_functions: tuple[str, ...]
    super_user_functions: tuple[str, ...]
    skills: tuple[SkillEntry, ...]
    is_external: bool
    # Internal: None or empty for a customer viewer looking at someone else.
    email: str | None = None
    learner_group: str | None = None
    manager_name: str | None = None
    customer_name: str | None = None


@dataclass(frozen=True)
class DirectoryFilter:
    text: str = ""
    skill: str = ""
    crm_function: CrmFunction | None = None
    # "staff", "customers", or "" for everyone the viewer may see.
    audience: str = ""


def _sees_internal(viewer: User, person: User) -> bool:
    return not viewer.is_external or viewer.pk == person.pk


def search_people(viewer: Viewer, search: DirectoryFilter) -> QuerySet[User]:
    """Return the people ``viewer`` may see who match every part of ``search``.

    Each word of the text must appear in the first name, last name or
    username. The skill matches by its normalized name, and the CRM function
    matches people who work in it or are its super-users.
    """
    people = visible_people(viewer)
    # NOTE: SQLite's LIKE folds case for ASCII letters only, so there "élodie"
    # does not find "Élodie". On PostgreSQL Django compares UPPER() of both.
    for word in search.text.split():
        people = people.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
        )
    if search.skill:
        holders = PersonSkill.objects.filter(skill__name=search.skill)
        people = people.filter(pk__in=holders.values("person_id"))
    if search.audience == "staff":
        people = people.exclude(role=Role.CUSTOMER)
    elif search.audience == "customers":
        people = people.filter(role=Role.CUSTOMER)
    if search.crm_function is not None:
        workers = User.crm_functions.through.objects.filter(
            crmfunction=search.crm_function
        ).values("user_id")
        supers = SuperUserAssignment.objects.filter(
            crm_function=search.crm_function
        ).values("person_id")
        people = people.filter(Q(pk__in=workers) | Q(pk__in=supers))
    return people.order_by("last_name", "first_name", "username")


def with_card_data(people: QuerySet[User]) -> QuerySet[User]:
    """Prefetch what ``person_card`` reads: three queries for any number of people."""
    return people.select_related(
        "learner_group", "manager", "customer"
    ).prefetch_related(
        "crm_functions",
        Prefetch(
            "skill_links",
            queryset=PersonSkill.objects.select_related("skill").order_by(
                "position", "id"
            ),
        ),
        Prefetch(
            "super_user_assignments",
            queryset=SuperUserAssignment.objects.select_related("crm_function"),
        ),
    )


def person_card(
    viewer: User, person: User, skills: Sequence[SkillEntry] | None = None
) -> PersonCard:
    """Build the card of a person fetched through ``with_card_data``."""
    if skills is None:
        skills = [
            SkillEntry(name=link.skill.name, display_name=link.skill.display_name)
            for link in person.skill_links.all()
        ]
    supers = sorted(
        person.super_user_assignments.all(),
        key=lambda item: (item.crm_function.position, item.crm_function.name),
    )
    card = PersonCard(
        username=person.username,
        display_name=person.display_name,
        title=person.title,
        role_label=person.get_role_display(),
        headline=person.headline,
        crm_functions=tuple(function.name for function in person.crm_functions.all()),
        super_user_functions=tuple(item.crm_function.name for item in supers),
        skills=tuple(skills),
        is_external=person.is_external,
    )
    if not _sees_internal(viewer, person):
        return card
    return replace(
        card,
        email=person.email,
        learner_group=person.learner_group.name if person.learner_group else "",
        manager_name=person.manager.display_name if person.manager else "",
        customer_name=person.customer.name if person.customer else "",
    )


def directory_skills(viewer: Viewer) -> list[Skill]:
    """Return the skills listed by people ``viewer`` may see, for suggestions."""
    holders = PersonSkill.objects.filter(person__in=visible_people(viewer))
    return list(Skill.objects.filter(pk__in=holders.values("skill_id")))


@dataclass(frozen=True)
class ActivityItem:
    kind: str
    title: str
    snippet: str
    community_name: str
    url: str
    created_at: datetime


def _snippet(html: str) -> str:
    """Cut the plain text of rendered HTML server-side, so no more is sent."""
    text = " ".join(strip_tags(html).split())
    return Truncator(text).chars(SNIPPET_LENGTH)


def recent_activity(viewer: Viewer, person: User) -> list[ActivityItem]:
    """Return ``person``'s newest posts and comments among those ``viewer`` may see.

    Both start from ``visible_posts(viewer)``, so a post in a private
    community the viewer is not in adds no title, snippet or community name.
    """
    # Imported here: social modules import this one (follows check people with
    # visible_people), so a module-level import could make a cycle.
    from social.selectors import visible_posts

    posts = (
        visible_posts(viewer)
        .filter(author=person, deleted_at__isnull=True)
        .select_related("community")
        .order_by("-created_at", "-id")[:ACTIVITY_LENGTH]
    )
    comments = (
        Comment.objects.filter(
            post__in=visible_posts(viewer), author=person, deleted_at__isnull=True
        )
        .select_related("post__community")
        .order_by("-created_at", "-id")[:ACTIVITY_LENGTH]
    )
    items = [
        ActivityItem(
            kind=post.get_kind_display(),
            title=post.title,
            snippet=_snippet(post.body_html),
            community_name=post.community.name,
            url=reverse("posts:post_detail", args=[post.pk]),
            created_at=post.created_at,
        )
        for post in posts
    ]
    items += [
        ActivityItem(
            kind="Comment",
            title=comment.post.title,
            snippet=_snippet(comment.body_html),
            community_name=comment.post.community.name,
            url=reverse("posts:comment_permalink", args=[comment.post_id, comment.pk]),
            created_at=comment.created_at,
        )
        for comment in comments
    ]
    items.sort(key=lambda item: item.created_at, reverse=True)
    return items[:ACTIVITY_LENGTH]


def _skill_entries(viewer: User, person: User) -> list[SkillEntry]:
    """List the person's skills with endorsement counts, and names for staff.

    Counts include every active endorser, so a customer sees the same number
    as an employee, but never the names.
    """
    links = list(person.skill_links.all())
    endorsements = (
        Endorsement.objects.filter(person=person, endorser__is_active=True)
        .select_related("endorser")
        .order_by("endorser__last_name", "endorser__first_name", "endorser__id")
    )
    by_skill: dict[int, list[User]] = {}
    for endorsement in endorsements:
        by_skill.setdefault(endorsement.skill_id, []).append(endorsement.endorser)

    entries = []
    for link in links:
        endorsers = by_skill.get(link.skill_id, [])
        entries.append(
            SkillEntry(
                name=link.skill.name,
                display_name=link.skill.display_name,
                endorsement_count=len(endorsers),
                endorsed_by_viewer=any(e.pk == viewer.pk for e in endorsers),
                endorsers=()
                if viewer.is_external
                else tuple(e.display_name for e in endorsers),
            )
        )
    return entries


@dataclass(frozen=True)
class ProfilePage:
    card: PersonCard
    about_html: str
    activity: list[ActivityItem]
    is_self: bool
    visible_to_customers: bool | None
    # Internal: None for a customer viewer.
    follower_count: int | None
    followers: tuple[str, ...]
    viewer_follows: bool


def profile_page(viewer: User, person: User) -> ProfilePage:
    """Read everything the profile page shows ``viewer`` about ``person``.

    ``person`` must come from ``access_person(viewer, ...)``.
    """
    person = with_card_data(User.objects.filter(pk=person.pk)).get()
    card = person_card(viewer, person, _skill_entries(viewer, person))
    internal = _sees_internal(viewer, person)
    followers: tuple[str, ...] = ()
    follower_count = None
    if internal:
        follows = Follow.objects.filter(person=person)
        follower_count = follows.count()
        recent = follows.filter(follower__in=visible_people(viewer)).select_related(
            "follower"
        )[:FOLLOWER_PREVIEW_LENGTH]
        followers = tuple(follow.follower.display_name for follow in recent)
    return ProfilePage(
        card=card,
        about_html=person.about_html,
        activity=recent_activity(viewer, person),
        is_self=viewer.pk == person.pk,
        visible_to_customers=None
        if person.is_external
        else person.visible_to_customers,
        follower_count=follower_count,
        followers=followers,
        viewer_follows=Follow.objects.filter(follower=viewer, person=person).exists(),
    )


def skill_display_names(person: User) -> list[str]:
    return list(
        PersonSkill.objects.filter(person=person)
        .order_by("position", "id")
        .values_list("skill__display_name", flat=True)
    )


def super_user_choices(person: User) -> list[tuple[CrmFunction, bool]]:
    """Pair every CRM function with whether ``person`` is its super-user."""
    named = set(
        SuperUserAssignment.objects.filter(person=person).values_list(
            "crm_function_id", flat=True
        )
    )
    return [(function, function.pk in named) for function in CrmFunction.objects.all()]


def skill_display_name(raw: str) -> str:
    """Return the stored spelling of a skill, or the cleaned text if none is stored."""
    skill = Skill.objects.filter(name=normalize_skill(raw)).first()
    return skill.display_name if skill else clean_line(raw)
