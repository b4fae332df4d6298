"""People pages: the directory, profiles, and the profile's buttons."""

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.forms import DirectoryForm, ProfileForm, ToggleForm
from accounts.models import CrmFunction, User
from accounts.profiles import (
    can_name_super_users,
    can_set_visibility,
    set_endorsement,
    set_super_user,
    set_visible_to_customers,
    update_profile,
)
from accounts.selectors import (
    access_person,
    directory_skills,
    person_card,
    profile_page,
    search_people,
    skill_display_name,
    super_user_choices,
    with_card_data,
)
from accounts.skills import split_skills
from core.http import AuthenticatedRequest
from core.text import clean_line

logger = logging.getLogger(__name__)

# The social app owns this route. The button shows only while the route exists.
FOLLOW_PERSON_URL_NAME = "follows:person_follow"


def _run(
    request: AuthenticatedRequest, action: Callable[[], object], done: str
) -> None:
    """Run a service call and flash ``done``, or its validation message."""
    try:
        action()
    except ValidationError as error:
        logger.info(
            "profile action rejected: path=%s person=%s error=%s",
            request.path,
            request.user.pk,
            error.messages,
        )
        messages.error(request, " ".join(error.messages))
        return
    messages.success(request, done)


def _toggle(request: AuthenticatedRequest) -> bool | None:
    """Return the posted ``active`` value, or flash its error and return None."""
    form = ToggleForm(request.POST)
    if form.is_valid():
        active: bool = form.cleaned_data["active"]
        return active
    messages.error(request, " ".join(str(text) for text in form.errors["active"]))
    return None


def _follow_url(person: User) -> str | None:
    try:
        return reverse(FOLLOW_PERSON_URL_NAME, args=[person.username])
    except NoReverseMatch:
        return None


@login_required
def directory(request: AuthenticatedRequest) -> HttpResponse:
    form = DirectoryForm(request.GET)
    if form.is_valid():
        people = search_people(request.user, form.directory_filter())
        status = 200
    else:
        people = User.objects.none()
        status = 400
    page = Paginator(with_card_data(people), selectors.DIRECTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cards = [person_card(request.user, person) for person in page.object_list]
    return render(
        request,
        "accounts/directory.html",
        {
            "form": form,
            "page": page,
            "cards": cards,
            "functions": CrmFunction.objects.all(),
            "skills": directory_skills(request.user),
        },
        status=status,
    )


@login_required
def profile(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    page = profile_page(request.user, person)
    viewer = request.user
    may_name = can_name_super_users(viewer) and not person.is_external
    return render(
        request,
        "accounts/profile.html",
        {
            "profile": page,
            "may_endorse": not (viewer.is_external or person.is_external)
            and viewer.pk != person.pk,
            "may_set_visibility": can_set_visibility(viewer, person),
            "super_user_choices": super_user_choices(person) if may_name else None,
            "follow_url": None if viewer.pk == person.pk else _follow_url(person),
        },
    )


@login_required
def profile_edit(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    if person.pk != request.user.pk:
        raise PermissionDenied("You can edit only your own profile.")
    initial = {
        "headline": person.headline,
        "about": person.about,
        "skills": "\n".join(selectors.skill_display_names(person)),
        "visible_to_customers": person.visible_to_customers,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update_profile(
                actor=request.user,
                person=person,
                headline=data["headline"],
                about=data["about"],
                skills=split_skills(data["skills"]),
                visible_to_customers=None
                if person.is_external
                else data["visible_to_customers"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("people:profile", username=person.username)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "accounts/profile_edit.html",
        {"form": form, "person": person},
        status=status,
    )


@require_POST
@login_required
def endorse(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    active = _toggle(request)
    skill = request.POST.get("skill", "")
    if active is not None:
        shown = skill_display_name(skill)
        done = (
            f"You endorsed {person.display_name} for {shown}."
            if active
            else f"You took back your endorsement of {shown}."
        )
        _run(
            request,
            lambda: set_endorsement(
                endorser=request.user, person=person, skill_name=skill, active=active
            ),
            done,
        )
    return redirect("people:profile", username=person.username)


@require_POST
@login_required
def super_user(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    if not can_name_super_users(request.user):
        raise PermissionDenied(
            "Only managers and learning facilitators name super-users."
        )
    active = _toggle(request)
    slug = clean_line(request.POST.get("function", ""))
    function = CrmFunction.objects.filter(slug=slug).first() if slug else None
    if function is None:
        messages.error(
            request, f"No CRM function has the slug {slug[:100]!r}: pick one below."
        )
    elif active is not None:
        crm_function = function
        done = (
            f"{person.display_name} is now a super-user for {function.name}."
            if active
            else f"{person.display_name} is no longer a super-user for {function.name}."
        )
        _run(
            request,
            lambda: set_super_user(
                actor=request.user,
                person=person,
                crm_function=crm_function,
                active=active,
            ),
            done,
        )
    return redirect("people:profile", username=person.username)


@require_POST
@login_required
def visibility(request: AuthenticatedRequest, username: str) -> HttpResponse:
    person = access_person(request.user, username)
    active = _toggle(request)
    if active is not None:
        done = (
            f"Customers can now find {person.display_name}'s profile."
            if active
            else f"{person.display_name}'s profile is hidden from customers."
        )
        set_visible_to_customers(actor=request.user, person=person, visible=active)
        messages.success(request, done)
    return redirect("people:profile", username=person.username)
