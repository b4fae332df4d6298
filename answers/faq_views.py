"""Pages for FAQ entries, their curation and review, and the function desks."""

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_POST

from accounts.models import CrmFunction, User
from answers.conf import page_size, unanswered_after_hours
from answers.forms import FaqEditForm, FaqFromSourceForm, ReleaseForm
from answers.models import FaqEntry, ReleaseNote
from answers.permissions import (
    FaqOwnership,
    can_own_faq,
    can_record_release,
    may_curate_faq,
)
from answers.selectors import (
    access_faq_entry,
    entries_needing_review,
    faq_index_entries,
    recent_unanswered_questions,
    releases_changing_screens,
    review_reasons,
    unanswered_questions,
    visible_faq_entries,
    visible_sources,
    with_review_state,
)
from answers.services import (
    create_faq_entry,
    edit_faq_entry,
    mark_faq_reviewed,
    record_release,
)
from answers.services.common import function_for_question
from answers.services.faq import social_source_problem
from answers.services.faq_audience import review_keeps_hold
from answers.services.faq_sources import AlreadyInFaqError, faq_entry_id_of
from assist.contexts import (
    CUSTOMER_CONTEXT_ROOT,
    is_customer_context,
    is_declared_for,
)
from assist.models import HelpContext
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from core.text import clean_line
from library.selectors import shows_crm_functions
from social.models import Comment, Post
from social.selectors import access_comment, access_post

# The address word for the FAQ entries that belong to no CRM function.
GENERAL = "general"


def _screen_changed(entries: Iterable[FaqEntry]) -> list[FaqEntry]:
    # Entries annotated by ``with_review_state`` whose screen a release changed.
    return [entry for entry in entries if getattr(entry, "screen_changed", False)]


def _entry_url(entry: FaqEntry) -> str:
    return f"/questions/faq/{entry.pk}/"


@dataclass
class FaqFilters:
    """The FAQ index's filters, read from the query string."""

    crm_function: CrmFunction | None = None
    general_only: bool = False
    context: HelpContext | None = None
    errors: list[str] = field(default_factory=list)


def _faq_filters(request: AuthenticatedRequest) -> FaqFilters:
    """Read the filters; a customer's function filter is ignored, as the library's.

    A customer may filter only by a portal screen: an internal key gets the
    message of a key no screen has, so it names no internal screen.
    """
    filters = FaqFilters()
    slug = clean_line(request.GET.get("function", ""))[:80]
    if not shows_crm_functions(request.user):
        slug = ""
    if slug == GENERAL:
        filters.general_only = True
    elif slug:
        filters.crm_function = CrmFunction.objects.filter(slug=slug).first()
        if filters.crm_function is None:
            filters.errors.append(
                f"No CRM function {slug!r}: pick one from the list, or leave "
                "it empty for every function."
            )
    key = clean_line(request.GET.get("context", ""))[:120]
    if key:
        external = request.user.is_external
        if not external or is_declared_for(key, external=True):
            filters.context = HelpContext.objects.filter(key=key).first()
        if filters.context is None:
            filters.errors.append(
                f"No screen {key!r}: pick one from the list, or leave it empty "
                "for every screen."
            )
    return filters


@login_required
def faq_index(request: AuthenticatedRequest) -> HttpResponse:
    """List the FAQ entries the viewer may read, grouped by CRM function.

    Owners of an entry (``can_own_faq``) also see whether it needs review.
    """
    filters = _faq_filters(request)
    entries = faq_index_entries(
        request.user,
        crm_function=filters.crm_function,
        general_only=filters.general_only,
        context=filters.context,
    )
    if filters.errors:
        entries = entries.none()
    page = Paginator(entries, page_size()).get_page(request.GET.get("page"))
    ownership = FaqOwnership(request.user)
    owned = [entry for entry in page if ownership.covers(entry.crm_function_id)]
    releases = releases_changing_screens(_screen_changed(owned))
    for entry in page:
        may_own = entry in owned
        entry.excerpt = _excerpt(entry.answer_html)  # type: ignore[attr-defined]
        entry.may_own = may_own  # type: ignore[attr-defined]
        entry.reasons = (  # type: ignore[attr-defined]
            review_reasons(entry, releases=releases.get(entry.pk, []))
            if may_own
            else []
        )
        entry.screens = _screens_for(request.user, entry)  # type: ignore[attr-defined]
    readable = visible_faq_entries(request.user)
    contexts = HelpContext.objects.filter(
        Exists(readable.filter(contexts=OuterRef("pk")))
    ).order_by("key")
    if request.user.is_external:
        contexts = contexts.filter(
            Q(key=CUSTOMER_CONTEXT_ROOT)
            | Q(key__startswith=f"{CUSTOMER_CONTEXT_ROOT}.")
        )
    return render(
        request,
        "answers/faq_index.html",
        {
            "page": page,
            "filters": filters,
            "general": GENERAL,
            "functions": CrmFunction.objects.filter(
                Exists(readable.filter(crm_function=OuterRef("pk")))
            ),
            "has_general": readable.filter(crm_function__isnull=True).exists(),
            "contexts": contexts,
            "show_functions": shows_crm_functions(request.user),
        },
        status=400 if filters.errors else 200,
    )


EXCERPT_WORDS = 40


def _screens_for(viewer: User, entry: FaqEntry) -> list[HelpContext]:
    """Return the entry's screens ``viewer`` may see: a customer, the portal's."""
    screens = list(entry.contexts.all())
    if viewer.is_external:
        return [screen for screen in screens if is_customer_context(screen.key)]
    return screens


def _excerpt(answer_html: str) -> str:
    """Return the answer's first words as plain text, for the index."""
    text = " ".join(html.unescape(strip_tags(answer_html)).split())
    return Truncator(text).words(EXCERPT_WORDS)


@login_required
def faq_detail(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    entry = access_faq_entry(request.user, entry_id)
    may_own = can_own_faq(request.user, entry.crm_function)
    reasons: list[str] = []
    # Whether "Reviewed" would keep the hold: a source in a private community.
    hold_stays = may_own and entry.owners_only and review_keeps_hold(entry)
    if may_own:
        annotated = with_review_state(FaqEntry.objects.filter(pk=entry.pk)).get()
        if getattr(annotated, "needs_review", 0):
            reasons = review_reasons(annotated)
    return render(
        request,
        "answers/faq_detail.html",
        {
            "entry": entry,
            "sources": visible_sources(request.user, entry),
            "may_own": may_own,
            "review_reasons": reasons,
            "hold_stays": hold_stays,
            "show_functions": shows_crm_functions(request.user),
        },
    )


def _source_from_query(request: AuthenticatedRequest) -> Post | Comment:
    """Return the post or comment named by ``?post=`` or ``?comment=``, if visible.

    Raises InvalidNumberError when the id is not a number.
    """
    raw_post = request.GET.get("post", "")
    raw_comment = request.GET.get("comment", "")
    if raw_post and not raw_comment:
        return access_post(request.user, parse_positive_int(raw_post, name="post"))
    if raw_comment and not raw_post:
        comment_id = parse_positive_int(raw_comment, name="comment")
        return access_comment(request.user, comment_id)
    raise Http404("Name one post (?post=ID) or one comment (?comment=ID).")


def _bad_request(error: InvalidNumberError) -> HttpResponse:
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


@require_GET
@login_required
def faq_source_link(request: AuthenticatedRequest) -> HttpResponse:
    """Return the "Make FAQ entry" link for a post's page, or nothing.

    The post page loads it with htmx, so the check for FAQ curators costs
    the post page no query. The link is offered only where the save would
    accept the source (``social_source_problem``).
    """
    try:
        source = _source_from_query(request)
    except InvalidNumberError as error:
        return _bad_request(error)
    # Once an entry was made from the source, it is linked in place of the
    # offer, for readers of the entry (``visible_faq_entries``).
    entry_id = faq_entry_id_of(source)
    may_curate = (
        entry_id is None
        and may_curate_faq(request.user)
        and not social_source_problem(request.user, source)
    )
    readable = (
        entry_id is not None
        and visible_faq_entries(request.user).filter(pk=entry_id).exists()
    )
    return render(
        request,
        "answers/_faq_source_link.html",
        {
            "source": source,
            "may_curate": may_curate,
            "faq_entry_id": entry_id if readable else None,
        },
    )


MAX_FAQ_QUESTION_LENGTH = 200


def _question_from_source(source: Post | Comment) -> str:
    """Return a draft FAQ question: a blog post's title, else its first line.

    Markdown heading marks are dropped from the first line, and the draft is
    cut to the FAQ question's 200 characters.
    """
    title = getattr(source, "title", "")
    if not title:
        lines = (line.strip().lstrip("#").strip() for line in source.body.splitlines())
        title = next((line for line in lines if line), "")
    return Truncator(clean_line(title)).chars(MAX_FAQ_QUESTION_LENGTH)


def _function_from_source(source: Post | Comment) -> CrmFunction | None:
    """Return the CRM function of the source's community, or None for the curator.

    A community serving several functions, or none, gives None, so the
    curator has to pick one.
    """
    post = source.post if isinstance(source, Comment) else source
    return function_for_question(None, post.community)


@login_required
def faq_new(request: AuthenticatedRequest) -> HttpResponse:
    """Make an FAQ entry from the post or comment named in the query string."""
    try:
        source = _source_from_query(request)
    except InvalidNumberError as error:
        return _bad_request(error)
    if request.user.is_external:
        raise PermissionDenied("Customer accounts cannot curate the FAQ.")
    functions = FaqOwnership(request.user).functions()
    if request.method != "POST":
        # A source the save would reject is named before anything is typed,
        # and no form is offered.
        problem = social_source_problem(request.user, source)
        entry_id = None if problem else faq_entry_id_of(source)
        if entry_id is not None:
            problem = AlreadyInFaqError(source, entry_id).messages[0]
        if problem:
            return render(
                request,
                "answers/faq_form.html",
                {
                    "source": source,
                    "source_problem": problem,
                    "existing_entry_id": entry_id,
                },
                status=409 if entry_id else 422,
            )
        initial = {
            "question_text": _question_from_source(source),
            "answer_text": source.body,
            "crm_function": _function_from_source(source),
        }
        form = FaqFromSourceForm(initial=initial, functions=functions)
        return render(
            request, "answers/faq_form.html", {"form": form, "source": source}
        )

    form = FaqFromSourceForm(request.POST, functions=functions)
    if form.is_valid():
        try:
            entry = create_faq_entry(
                actor=request.user,
                source=source,
                question_text=form.cleaned_data["question_text"],
                answer_text=form.cleaned_data["answer_text"],
                crm_function=form.cleaned_data["crm_function"],
                contexts=list(form.cleaned_data["contexts"]),
            )
        except AlreadyInFaqError as error:
            return render(
                request,
                "answers/faq_form.html",
                {
                    "source": source,
                    "source_problem": error.messages[0],
                    "existing_entry_id": error.entry_id,
                },
                status=409,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The FAQ entry was created.")
            return redirect(_entry_url(entry))
    return render(
        request,
        "answers/faq_form.html",
        {"form": form, "source": source},
        status=422,
    )


@login_required
def faq_edit(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    entry = access_faq_entry(request.user, entry_id)
    ownership = FaqOwnership(request.user)
    if not ownership.covers(entry.crm_function_id):
        raise PermissionDenied("Only the owners of this FAQ can edit its entries.")
    functions = ownership.functions()
    may_be_general = ownership.covers(None)
    if request.method != "POST":
        form = FaqEditForm(
            functions=functions,
            may_be_general=may_be_general,
            initial={
                "question_text": entry.question,
                "answer_text": entry.answer,
                "crm_function": entry.crm_function,
                "contexts": list(entry.contexts.all()),
                "learner_groups": list(entry.learner_groups.all()),
            },
        )
        return render(request, "answers/faq_form.html", {"form": form, "entry": entry})

    data = request.POST.copy()
    if "crm_function" not in data:
        # A client that sends no function field keeps the entry's function.
        data["crm_function"] = str(entry.crm_function_id or "")
    form = FaqEditForm(data, functions=functions, may_be_general=may_be_general)
    if form.is_valid():
        try:
            edit_faq_entry(
                actor=request.user,
                entry=entry,
                question_text=form.cleaned_data["question_text"],
                answer_text=form.cleaned_data["answer_text"],
                crm_function=form.cleaned_data["crm_function"],
                contexts=list(form.cleaned_data["contexts"]),
                learner_groups=list(form.cleaned_data["learner_groups"]),
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error("crm_function", str(error))
        else:
            messages.success(request, "The FAQ entry was saved and counts as reviewed.")
            return redirect(_entry_url(entry))
    return render(
        request, "answers/faq_form.html", {"form": form, "entry": entry}, status=422
    )


@require_POST
@login_required
def faq_reviewed(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    entry = access_faq_entry(request.user, entry_id)
    entry = mark_faq_reviewed(actor=request.user, entry=entry)
    due = entry.review_due_on
    due_text = date_format(due, "DATE_FORMAT") if due else "not set"
    messages.success(request, f"Marked reviewed; the next review is due on {due_text}.")
    target = request.POST.get("next", "")
    if target.startswith("/questions/functions/") and "//" not in target:
        return redirect(target)
    return redirect(_entry_url(entry))


def _function_for_desk(
    request: AuthenticatedRequest, slug: str
) -> tuple[CrmFunction | None, str]:
    """Return the CRM function named by ``slug`` and its name, for its owners only."""
    if slug == GENERAL:
        # No super-user owns an entry without a function, so only learning
        # facilitators and moderators, who stand in for every owner, may.
        function, name = None, "General (no CRM function)"
        denied = (
            "Only learning facilitators and moderators can open the desk of "
            "FAQ entries that have no CRM function."
        )
    else:
        function = CrmFunction.objects.filter(slug=slug).first()
        if function is None:
            raise Http404("No CRM function found with that address.")
        name = function.name
        denied = (
            f"Only the super-users of {name}, learning facilitators and "
            "moderators can open this page."
        )
    if not can_own_faq(request.user, function):
        raise PermissionDenied(denied)
    return function, name


@login_required
def function_review(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    function, name = _function_for_desk(request, slug)
    paginator = Paginator(entries_needing_review(request.user, function), page_size())
    page = paginator.get_page(request.GET.get("page"))
    releases = releases_changing_screens(_screen_changed(page))
    for entry in page:
        entry.reasons = review_reasons(  # type: ignore[attr-defined]
            entry, releases=releases.get(entry.pk, [])
        )
    return render(
        request,
        "answers/function_review.html",
        {"function": function, "function_name": name, "slug": slug, "page": page},
    )


# The maximum number of not yet overdue questions the unanswered desk lists.
RECENT_SHOWN = 50


@login_required
def function_unanswered(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    function, name = _function_for_desk(request, slug)
    if function is None:
        raise Http404("Unanswered questions are listed per CRM function.")
    now = timezone.now()
    paginator = Paginator(
        unanswered_questions(request.user, function, now=now), page_size()
    )
    page = paginator.get_page(request.GET.get("page"))
    # Only the first page lists the questions that are not overdue yet.
    recent = (
        list(
            recent_unanswered_questions(request.user, function, now=now)[:RECENT_SHOWN]
        )
        if page.number == 1
        else []
    )
    return render(
        request,
        "answers/function_unanswered.html",
        {
            "function": function,
            "function_name": name,
            "slug": slug,
            "page": page,
            "recent": recent,
            "recent_limit": RECENT_SHOWN,
            "hours": unanswered_after_hours(),
        },
    )


@login_required
def releases(request: AuthenticatedRequest) -> HttpResponse:
    """List recorded releases; learning facilitators record new ones here."""
    if request.user.is_external:
        raise Http404("No page found at this address.")
    may_record = can_record_release(request.user)
    form = ReleaseForm(request.POST or None) if may_record else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a learning facilitator can record a release.")
        if form.is_valid():
            try:
                record_release(
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    released_on=form.cleaned_data["released_on"],
                    context_keys=[c.key for c in form.cleaned_data["contexts"]],
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "The release was recorded.")
                return redirect("/questions/releases/")
        status = 422
    notes = ReleaseNote.objects.prefetch_related("changes__context")[:50]
    return render(
        request,
        "answers/releases.html",
        {"form": form, "releases": notes},
        status=status,
    )
