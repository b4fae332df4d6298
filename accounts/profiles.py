"""Write profiles: headline, about, skills, endorsements, super-users, visibility.

Every function here checks the actor's permission first, cleans all input
before writing anything, runs in one transaction and records an audit event.
Reads (the profile page, the directory) live in ``accounts.selectors``.
"""

import logging
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import (
    CrmFunction,
    Endorsement,
    PersonSkill,
    Role,
    Skill,
    SuperUserAssignment,
    User,
)
from accounts.selectors import visible_people
from accounts.skills import CleanSkill, clean_skills, normalize_skill
from core.audit import record_event
from core.forms import too_long_message
from core.markdown import render_markdown
from core.text import clean_line, clean_text

logger = logging.getLogger(__name__)

MAX_HEADLINE_LENGTH = 160
MAX_ABOUT_LENGTH = 5_000
# Roles that name super-users and may show a colleague's profile to customers.
PROFILE_MANAGER_ROLES = frozenset({Role.MANAGER, Role.FACILITATOR})


def clean_headline(headline: str) -> str:
    cleaned = clean_line(headline)
    if len(cleaned) > MAX_HEADLINE_LENGTH:
        raise ValidationError(
            f"The headline is {len(cleaned)} characters long; the limit is "
            f"{MAX_HEADLINE_LENGTH}: keep it to one line."
        )
    return cleaned


def clean_about(about: str) -> str:
    cleaned = clean_text(about)
    if len(cleaned) > MAX_ABOUT_LENGTH:
        raise ValidationError(
            too_long_message("The about text", len(cleaned), MAX_ABOUT_LENGTH)
        )
    return cleaned


def can_name_super_users(actor: User) -> bool:
    return actor.is_active and actor.role in PROFILE_MANAGER_ROLES


def can_set_visibility(actor: User, person: User) -> bool:
    """Check whether ``actor`` may show ``person``'s profile to customers or hide it.

    The person decides for themselves, and a manager, a facilitator or the
    person's own line manager may decide for them. Customer accounts never
    decide for anybody, themselves included, because only staff profiles can
    be shown to customers.
    """
    if actor.is_external or person.is_external or not actor.is_active:
        return False
    return (
        actor.pk == person.pk
        or actor.role in PROFILE_MANAGER_ROLES
        or person.manager_id == actor.pk
    )


def _skill_rows(skills: Sequence[CleanSkill]) -> list[Skill]:
    # get_or_create retries the read when a concurrent insert of the same
    # name wins, so the unique name never raises here.
    rows = []
    for skill in skills:
        row, _ = Skill.objects.get_or_create(
            name=skill.name, defaults={"display_name": skill.display_name}
        )
        rows.append(row)
    return rows


def _replace_skills(person: User, skills: Sequence[CleanSkill]) -> None:
    """Make ``person``'s skill list exactly ``skills``, in that order.

    Endorsements of a skill the person drops are deleted with it, so a count
    never names a skill the profile no longer shows.
    """
    rows = _skill_rows(skills)
    wanted = [row.pk for row in rows]
    dropped = PersonSkill.objects.filter(person=person).exclude(skill_id__in=wanted)
    Endorsement.objects.filter(
        person=person, skill_id__in=dropped.values("skill_id")
    ).delete()
    dropped.delete()

    existing = {
        link.skill_id: link for link in PersonSkill.objects.filter(person=person)
    }
    for position, skill_id in enumerate(wanted):
        link = existing.get(skill_id)
        if link is None:
            PersonSkill.objects.create(
                person=person, skill_id=skill_id, position=position
            )
        elif link.position != position:
            link.position = position
            link.save(update_fields=["position"])


def _skill_names(person: User) -> list[str]:
    return list(
        PersonSkill.objects.filter(person=person)
        .order_by("position", "id")
        .values_list("skill__name", flat=True)
    )


def update_profile(
    *,
    actor: User,
    person: User,
    headline: str,
    about: str,
    skills: Sequence[str],
    visible_to_customers: bool | None = None,
) -> User:
    """Save the fields of the "Edit profile" form, which only the person may edit.

    ``visible_to_customers`` is left as it is when None, and must be None for a
    customer account.
    """
    if actor.pk != person.pk:
        raise PermissionDenied("Only the person edits their own profile.")
    if visible_to_customers is not None and not can_set_visibility(actor, person):
        raise ValidationError(
            "Customer accounts cannot be shown to other customers: only staff "
            "profiles have that setting."
        )
    cleaned_headline = clean_headline(headline)
    cleaned_about = clean_about(about)
    cleaned_skills = clean_skills(skills)

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        before = _profile_snapshot(locked)
        locked.headline = cleaned_headline
        locked.about = cleaned_about
        locked.about_html = (
            render_markdown(cleaned_about, mentions=False).html if cleaned_about else ""
        )
        if visible_to_customers is not None:
            locked.visible_to_customers = visible_to_customers
        locked.save(
            update_fields=["headline", "about", "about_html", "visible_to_customers"]
        )
        _replace_skills(locked, cleaned_skills)
        after = _profile_snapshot(locked)
        if after != before:
            record_event(
                actor=actor,
                action="profile.updated",
                target=locked,
                source="screen",
                before=before,
                after=after,
            )
    logger.info("profile updated: person=%s", person.pk)
    return locked


def _profile_snapshot(person: User) -> dict[str, object]:
    return {
        "headline": person.headline,
        "about": person.about,
        "visible_to_customers": person.visible_to_customers,
        "skills": _skill_names(person),
    }


def set_visible_to_customers(*, actor: User, person: User, visible: bool) -> bool:
    """Show ``person``'s profile to customers or hide it. Return True on a change."""
    if not can_set_visibility(actor, person):
        raise PermissionDenied(
            "Only the person, their manager, a manager or a learning facilitator "
            "may show a staff profile to customers."
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=person.pk)
        if locked.visible_to_customers == visible:
            return False
        locked.visible_to_customers = visible
        locked.save(update_fields=["visible_to_customers"])
        record_event(
            actor=actor,
            action="profile.visibility_changed",
            target=locked,
            source="screen",
            before={"visible_to_customers": not visible},
            after={"visible_to_customers": visible},
        )
    return True


def _check_endorsement(*, endorser: User, person: User) -> None:
    if endorser.is_external:
        raise PermissionDenied("Customer accounts cannot endorse skills.")
    if endorser.pk == person.pk:
        raise ValidationError(
            "You cannot endorse your own skills: ask a colleague who has seen "
            "your work."
        )
    if person.is_external:
        raise ValidationError(
            f"{person.display_name} is a customer account: only colleagues' "
            "skills can be endorsed."
        )
    if not visible_people(endorser).filter(pk=person.pk).exists():
        raise PermissionDenied("No person found with that username.")


def set_endorsement(
    *, endorser: User, person: User, skill_name: str, active: bool
) -> bool:
    """Endorse ``person`` for a skill they list, or take it back.

    Idempotent: a repeated or concurrent click leaves one row, enforced by the
    unique constraint. Returns whether anything changed.
    """
    _check_endorsement(endorser=endorser, person=person)
    name = normalize_skill(skill_name)
    if not name:
        raise ValidationError(
            "The request names no skill: send the skill's name in 'skill'."
        )

    with transaction.atomic():
        # Locking the profile's skill row keeps a concurrent edit from dropping
        # the skill between this check and the insert.
        link = (
            PersonSkill.objects.select_for_update()
            .select_related("skill")
            .filter(person=person, skill__name=name)
            .first()
        )
        if link is None:
            raise ValidationError(
                f"{person.display_name} does not list the skill "
                f"{clean_line(skill_name)!r}: endorse one of the skills on "
                "their profile."
            )
        if active:
            changed = _add_endorsement(endorser, person, link.skill)
        else:
            deleted, _ = Endorsement.objects.filter(
                endorser=endorser, person=person, skill=link.skill
            ).delete()
            changed = deleted > 0
        if changed:
            record_event(
                actor=endorser,
                action="skill.endorsed" if active else "skill.endorsement_withdrawn",
                target=person,
                source="screen",
                after={"skill": link.skill.name, "endorser": endorser.pk},
            )
    return changed


def _add_endorsement(endorser: User, person: User, skill: Skill) -> bool:
    try:
        with transaction.atomic():
            Endorsement.objects.create(endorser=endorser, person=person, skill=skill)
    except IntegrityError:
        # A concurrent click inserted the same endorsement first.
        logger.info(
            "endorsement already there: endorser=%s person=%s skill=%s",
            endorser.pk,
            person.pk,
            skill.pk,
        )
        return False
    return True


def set_super_user(
    *, actor: User, person: User, crm_function: CrmFunction, active: bool
) -> bool:
    """Name ``person`` super-user for ``crm_function``, or remove the status.

    Returns whether anything changed.
    """
    if not can_name_super_users(actor):
        raise PermissionDenied(
            "Only managers and learning facilitators name super-users."
        )
    if person.is_external:
        raise ValidationError(
            f"{person.display_name} is a customer account: only staff can be "
            "super-users."
        )
    if active and not person.is_active:
        raise ValidationError(
            f"{person.display_name}'s account is deactivated: reactivate it "
            "before naming them super-user."
        )

    with transaction.atomic():
        if active:
            changed = _add_super_user(actor, person, crm_function)
        else:
            deleted, _ = SuperUserAssignment.objects.filter(
                person=person, crm_function=crm_function
            ).delete()
            changed = deleted > 0
        if changed:
            record_event(
                actor=actor,
                action="super_user.named" if active else "super_user.removed",
                target=person,
                source="screen",
                after={"crm_function": crm_function.slug, "active": active},
            )
    return changed


def _add_super_user(actor: User, person: User, crm_function: CrmFunction) -> bool:
    try:
        with transaction.atomic():
            SuperUserAssignment.objects.create(
                person=person, crm_function=crm_function, named_by=actor
            )
    except IntegrityError:
        return False
    return True
