import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.authors import hidden_author_labels
from accounts.models import User
from answers.selectors import visible_questions
from communities import membership as members
from communities.forms import CommunityForm, RecruitFilterForm, RoleForm
from communities.models import Community, Invitation, Membership, MembershipRequest
from communities.selectors import (
    FEED_LENGTH,
    access_community,
    can_manage,
    community_page,
    invitations_for,
    listed_members,
    member_count_for,
    membership_of,
    pending_invitations,
    pending_requests,
    recruit_candidates,
    requests_by,
    require_manager,
    visible_communities,
)
from communities.services import create_community, pin_post, unpin_post
from communities.starters import starters_for
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from social.follow_selectors import community_follow_button
from social.forms import PostForm, publish_form_post
from social.models import Post
from social.selectors import attach_conversations, community_files
from social.services import can_post_in, publish_post

logger = logging.getLogger(__name__)

MEMBERS_PER_PAGE = 50
FILES_PER_PAGE = 50
# The community page lists its newest files beside the posts.
FILES_ON_PAGE = 5
# Shown for every request to join by address, whether or not a private
# community has that address, so the response cannot be used to probe for one.
REQUEST_SENT = (
    "If a private community has this address, its owners and moderators now "
    "have your request to join."
)


def _run(
    request: AuthenticatedRequest, action: Callable[[], object], done: str
) -> bool:
    """Run a service call and flash ``done``, or its validation message."""
    try:
        action()
    except ValidationError as error:
        logger.info(
            "community action rejected: path=%s person=%s error=%s",
            request.path,
            request.user.pk,
            error.messages,
        )
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, done)
    return True


@login_required
def community_list(request: AuthenticatedRequest) -> HttpResponse:
    communities = (
        visible_communities(request.user)
        .annotate(member_count=member_count_for(request.user))
        .prefetch_related("crm_functions")
        .order_by("name")
    )
    return render(
        request,
        "communities/community_list.html",
        {"communities": communities, "may_create": not request.user.is_external},
    )


@login_required
def community_create(request: AuthenticatedRequest) -> HttpResponse:
    if request.user.is_external:
        raise PermissionDenied("Customer accounts cannot create communities.")
    form = CommunityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            community = create_community(
                creator=request.user,
                name=form.cleaned_data["name"],
                purpose=form.cleaned_data["purpose"],
                visibility=form.cleaned_data["visibility"],
                crm_functions=list(form.cleaned_data["crm_functions"]),
                conversation_starters=form.starter_lines(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{community.name} is ready: invite people in.")
            return redirect("communities:community_detail", slug=community.slug)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "communities/community_form.html", {"form": form}, status=status
    )


def _render_community(
    request: AuthenticatedRequest,
    community: Community,
    form: PostForm,
    status: int = 200,
) -> HttpResponse:
    page = community_page(request.user, community)
    attach_conversations(request.user, [*page.pinned_posts, *page.posts])
    questions = list(
        visible_questions(request.user)
        .filter(community=community)
        .select_related("context")
        .annotate(answer_count=Count("answers"))
        .order_by("-created_at", "-pk")[:FEED_LENGTH]
    )
    files = list(community_files(request.user, community)[:FILES_ON_PAGE])
    authors = [question.author_id for question in questions]
    authors += [attachment.post.author_id for attachment in files]
    return render(
        request,
        "communities/community_detail.html",
        {
            "community": community,
            "page": page,
            "questions": questions,
            "hidden_authors": hidden_author_labels(request.user, authors),
            "form": form,
            "may_post": can_post_in(request.user, community),
            "follow": community_follow_button(request.user, community),
            "files": files,
        },
        status=status,
    )


@login_required
def community_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    return _render_community(request, community, PostForm())


@require_POST
@login_required
def post_create(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    form = PostForm(request.POST, request.FILES)
    status = 422
    if form.is_valid():
        status = publish_form_post(form, author=request.user, community=community)
        if not status:
            messages.success(request, "Posted.")
            return redirect("communities:community_detail", slug=community.slug)
    return _render_community(request, community, form, status=status)


@require_POST
@login_required
def community_join(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    _run(
        request,
        lambda: members.join_community(person=request.user, community=community),
        f"You joined {community.name}.",
    )
    return redirect("communities:community_detail", slug=community.slug)


@require_POST
@login_required
def community_leave(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    left = _run(
        request,
        lambda: members.leave_community(person=request.user, community=community),
        f"You left {community.name}.",
    )
    if left and community.visibility == Community.Visibility.PRIVATE:
        return redirect("communities:community_list")
    return redirect("communities:community_detail", slug=community.slug)


@login_required
def membership_request(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Ask to join a private community by its address, without naming it."""
    if visible_communities(request.user).filter(slug=slug).exists():
        return redirect("communities:community_detail", slug=slug)
    if request.method != "POST":
        return render(request, "communities/membership_request.html", {"slug": slug})

    community = Community.objects.filter(
        slug=slug, visibility=Community.Visibility.PRIVATE
    ).first()
    if community is not None:
        try:
            members.request_membership(person=request.user, community=community)
        except ValidationError as error:
            logger.info(
                "membership request not sent: community=%s person=%s error=%s",
                community.pk,
                request.user.pk,
                error.messages,
            )
    elif request.user.is_external:
        raise PermissionDenied(
            "Customer accounts can join customer-visible communities only."
        )
    messages.success(request, REQUEST_SENT)
    return redirect("communities:invitation_list")


@login_required
def file_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """List the files and images posted in a community, newest first."""
    community = access_community(request.user, slug)
    paginator = Paginator(community_files(request.user, community), FILES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    hidden = hidden_author_labels(
        request.user, [attachment.post.author_id for attachment in page]
    )
    context = {"community": community, "page": page, "hidden_authors": hidden}
    return render(request, "communities/file_list.html", context)


@login_required
def member_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    viewer = membership_of(request.user, community)
    paginator = Paginator(listed_members(request.user, community), MEMBERS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    is_manager = can_manage(viewer)
    return render(
        request,
        "communities/member_list.html",
        {
            "community": community,
            "viewer_membership": viewer,
            "is_manager": is_manager,
            "is_owner": viewer is not None and viewer.role == Membership.Role.OWNER,
            "page": page,
            "requests": list(pending_requests(community)) if is_manager else [],
            "invitations": (
                list(pending_invitations(community)[:MEMBERS_PER_PAGE])
                if is_manager
                else []
            ),
            "role_form": RoleForm(),
        },
    )


def _member(community: Community, person_id: int) -> User:
    return get_object_or_404(User, pk=person_id, memberships__community=community)


@require_POST
@login_required
def member_role(
    request: AuthenticatedRequest, slug: str, person_id: int
) -> HttpResponse:
    community = access_community(request.user, slug)
    member = _member(community, person_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        role = request.POST.get("role", "")
        messages.error(
            request,
            f"Unknown role {role!r}: choose owner, moderator or member.",
        )
        return redirect("communities:member_list", slug=community.slug)
    role = form.cleaned_data["role"]
    _run(
        request,
        lambda: members.change_role(
            actor=request.user, community=community, member=member, role=role
        ),
        f"{member.display_name} is now {role} of {community.name}.",
    )
    return redirect("communities:member_list", slug=community.slug)


@require_POST
@login_required
def member_remove(
    request: AuthenticatedRequest, slug: str, person_id: int
) -> HttpResponse:
    community = access_community(request.user, slug)
    member = _member(community, person_id)
    _run(
        request,
        lambda: members.remove_member(
            actor=request.user, community=community, member=member
        ),
        f"{member.display_name} was removed from {community.name}.",
    )
    return redirect("communities:member_list", slug=community.slug)


def _decide(
    request: AuthenticatedRequest, slug: str, request_id: int, *, approve: bool
) -> HttpResponse:
    community = access_community(request.user, slug)
    join_request = get_object_or_404(
        MembershipRequest, pk=request_id, community=community
    )
    name = join_request.person.display_name
    done = f"{name} is now a member." if approve else f"{name}'s request was rejected."
    _run(
        request,
        lambda: members.decide_request(
            actor=request.user, request=join_request, approve=approve
        ),
        done,
    )
    return redirect("communities:member_list", slug=community.slug)


@require_POST
@login_required
def request_approve(
    request: AuthenticatedRequest, slug: str, request_id: int
) -> HttpResponse:
    return _decide(request, slug, request_id, approve=True)


@require_POST
@login_required
def request_reject(
    request: AuthenticatedRequest, slug: str, request_id: int
) -> HttpResponse:
    return _decide(request, slug, request_id, approve=False)


@login_required
def invitation_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "communities/invitation_list.html",
        {
            "invitations": invitations_for(request.user),
            "requests": requests_by(request.user),
        },
    )


def _respond(
    request: AuthenticatedRequest, invitation_id: int, *, accept: bool
) -> HttpResponse:
    # Someone else's invitation gets the same 404 as a missing one.
    invitation = get_object_or_404(
        Invitation.objects.select_related("community"),
        pk=invitation_id,
        invitee=request.user,
    )
    community = invitation.community
    done = (
        f"You joined {community.name}."
        if accept
        else f"You declined the invitation to {community.name}."
    )
    accepted = _run(
        request,
        lambda: members.respond_to_invitation(
            person=request.user, invitation=invitation, accept=accept
        ),
        done,
    )
    if accepted and accept:
        return redirect("communities:community_detail", slug=community.slug)
    return redirect("communities:invitation_list")


@require_POST
@login_required
def invitation_accept(
    request: AuthenticatedRequest, invitation_id: int
) -> HttpResponse:
    return _respond(request, invitation_id, accept=True)


@require_POST
@login_required
def invitation_decline(
    request: AuthenticatedRequest, invitation_id: int
) -> HttpResponse:
    return _respond(request, invitation_id, accept=False)


def _community_post(community: Community, post_id: int) -> Post:
    return get_object_or_404(Post, pk=post_id, community=community)


@require_POST
@login_required
def post_pin(request: AuthenticatedRequest, slug: str, post_id: int) -> HttpResponse:
    community = access_community(request.user, slug)
    post = _community_post(community, post_id)
    _run(
        request,
        lambda: pin_post(actor=request.user, community=community, post=post),
        "Pinned to the top of the feed.",
    )
    return redirect("communities:community_detail", slug=community.slug)


@require_POST
@login_required
def post_unpin(request: AuthenticatedRequest, slug: str, post_id: int) -> HttpResponse:
    community = access_community(request.user, slug)
    post = _community_post(community, post_id)
    _run(
        request,
        lambda: unpin_post(actor=request.user, community=community, post=post),
        "Unpinned.",
    )
    return redirect("communities:community_detail", slug=community.slug)


@login_required
def starter_list(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    require_manager(request.user, community, "use the conversation starters page")
    return render(
        request,
        "communities/starter_list.html",
        {
            "community": community,
            "groups": starters_for(community.crm_functions.all()),
        },
    )


@require_POST
@login_required
def starter_post(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    require_manager(request.user, community, "post conversation starters")
    text = request.POST.get("body", "")
    _run(
        request,
        lambda: publish_post(author=request.user, community=community, body=text),
        "Posted the conversation starter.",
    )
    return redirect("communities:community_detail", slug=community.slug)


@login_required
def recruit(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    community = access_community(request.user, slug)
    require_manager(request.user, community, "recruit members")
    if request.method == "POST":
        return _invite(request, community)

    filters = RecruitFilterForm(request.GET or None)
    candidates: list[User] = []
    picked = False
    if filters.is_valid():
        group = filters.cleaned_data["group"]
        function = filters.cleaned_data["function"]
        picked = group is not None or function is not None
        if picked:
            candidates = list(
                recruit_candidates(
                    community, learner_group=group, crm_function=function
                )
            )
    return render(
        request,
        "communities/recruit.html",
        {
            "community": community,
            "filters": filters,
            "candidates": candidates,
            "picked": picked,
        },
    )


def _invite(request: AuthenticatedRequest, community: Community) -> HttpResponse:
    raw_ids = request.POST.getlist("people")
    try:
        ids = [parse_positive_int(value, name="people") for value in raw_ids]
    except InvalidNumberError:
        messages.error(request, f"Invalid person ids {raw_ids!r}: pick people again.")
        return redirect("communities:recruit", slug=community.slug)
    people = list(User.objects.filter(pk__in=ids))
    if not people:
        messages.error(request, "No one was picked: tick the people to invite.")
        return redirect("communities:recruit", slug=community.slug)

    try:
        batch = members.invite_people(
            actor=request.user, community=community, invitees=people
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("communities:recruit", slug=community.slug)
    count = len(batch.invited)
    messages.success(request, f"Sent {count} invitation{'s' if count != 1 else ''}.")
    for reason, skipped in batch.skipped.items():
        names = ", ".join(person.display_name for person in skipped)
        messages.info(request, f"Not invited ({reason}): {names}.")
    return redirect("communities:member_list", slug=community.slug)
