from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST, require_safe

from accounts.models import CrmFunction, SuperUserAssignment, User
from answers.models import Question
from assist.embedding import allowed_origins, is_allowed_origin, normalize_origin
from assist.forms import AskForm, AvailabilityForm, TokenForm
from assist.records import NO_RECORD, HelpRecord, parse_record, visible_record
from assist.selectors import UnknownContextError, build_help_panel, context_chain
from assist.services import (
    AskOutcome,
    Recipient,
    ask_and_route,
    escalation_community,
    routing_function,
    set_availability,
)
from assist.tokens import (
    IssuedToken,
    can_manage_all,
    issue_token,
    revoke_token,
    visible_tokens,
)
from core.http import AuthenticatedRequest


def describe_form_errors(form: forms.Form) -> str:
    """Join the form's errors. Each one names its value (``core.forms``)."""
    return " ".join(
        " ".join(str(text) for text in error.messages)
        for errors in form.errors.as_data().values()
        for error in errors
    )


def _safe_next(request: AuthenticatedRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def requested_record(request: HttpRequest) -> tuple[HelpRecord, str]:
    """Return the record the panel's ask may name, and a record it may not.

    The ``record`` and ``record_kind`` query parameters come from another
    tool, so the record goes through its kind's visibility rule here, when
    the panel is built. A record the reader may not see, or that does not
    exist, is left out of the ask, and its label is returned second so the
    panel can state why. Both cases read the same, so the panel does not show
    whether such a record exists.
    """
    ref = request.GET.get("record", "")[:80]
    try:
        record = parse_record(request.GET.get("record_kind", "")[:20], ref)
    except ValidationError:
        return NO_RECORD, f"record {ref}"
    if not record or not request.user.is_authenticated:
        return record, ""
    if visible_record(request.user, record) is None:
        return NO_RECORD, record.label
    return record, ""


def panel_record_context(request: HttpRequest) -> dict[str, object]:
    """Return the template variables for the record the panel's ask names."""
    record, withheld = requested_record(request)
    return {
        "record_kind": record.kind,
        "record_ref": record.ref,
        "withheld_record": withheld,
    }


@require_safe
@login_required
def panel(request: AuthenticatedRequest) -> HttpResponse:
    """Render the help panel alone, for htmx swaps and embedding."""
    key = request.GET.get("context", "")
    try:
        help_panel = build_help_panel(viewer=request.user, key=key)
    except UnknownContextError as error:
        raise Http404(str(error)) from None
    return render(
        request,
        "assist/_panel.html",
        {
            "panel": help_panel,
            "help_context": key,
            **panel_record_context(request),
            "ask_form": AskForm(
                initial={"context": key}, external=request.user.is_external
            ),
        },
    )


def _waiting_time(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def asker_is_super_user(asker: User, function: CrmFunction) -> bool:
    return SuperUserAssignment.objects.filter(
        person=asker, crm_function=function
    ).exists()


def _joined(parts: list[str]) -> str:
    """Join ``parts`` as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(parts) < 2:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


# The words the confirmation adds beside a notified super-user who is busy or away.
AWAY_WORDS = {"busy": "busy now", "away": "away now"}


def _named_label(recipient: Recipient, *, external: bool) -> str:
    """Return "Name (reason)", with "away now" or "busy now" for employees.

    A customer does not see a staff member's availability, because the
    panel shows customers no super-users.
    """
    reason = recipient.reason
    note = AWAY_WORDS.get(recipient.status, "")
    if note and not external:
        reason = f"{reason}, {note}"
    return f"{recipient.person.display_name} ({reason})"


def _notified_text(notified: list[Recipient], *, external: bool = False) -> str:
    """Name the people the asker may see, then count the others by their role.

    The unnamed ones are staff a customer may not see by name, so a list
    of bare roles beside a name would read as more words about that person.
    """
    named = [_named_label(r, external=external) for r in notified if r.named]
    unnamed = [recipient.reason for recipient in notified if not recipient.named]
    colleagues = "colleague" if len(unnamed) == 1 else "colleagues"
    if not named:
        return f"Notified {len(unnamed)} {colleagues}: {_joined(unnamed)}"
    listed = f"Notified: {'; '.join(named)}"
    if not unnamed:
        return listed
    return f"{listed}, and {len(unnamed)} more {colleagues}: {_joined(unnamed)}"


def describe_routing(outcome: AskOutcome, asker: User) -> str:
    """Say where the question went, who was notified, and what happens next.

    It names only the people ``ask_and_route`` notified, so the asker is
    never promised a notification that was not sent.
    """
    question = outcome.question
    chain = context_chain(question.context.key) if question.context else []
    function = routing_function(chain)
    if outcome.repeated:
        posted = f"You asked this a moment ago in {question.community.name}"
    else:
        posted = f"Posted to {question.community.name}"
    if outcome.notified:
        notified = _notified_text(outcome.notified, external=asker.is_external)
        first = f"{posted}. {notified}."
    elif asker.is_external:
        first = (
            f"{posted}. Nobody could be notified directly, because no sales "
            "representative or super-user is recorded for your account."
        )
    elif function is not None and asker_is_super_user(asker, function):
        first = (
            f"{posted}. You are a super-user for {function.name}, and no other "
            "active super-user of it can read the question, so nobody else was "
            "notified directly."
        )
    else:
        function_name = function.name if function else "this screen"
        first = (
            f"{posted}. Nobody could be notified directly, because {function_name} "
            "has no active super-user who can read it."
        )

    wait = _waiting_time(settings.ASK_ESCALATE_AFTER_MINUTES)
    community = escalation_community(question, function)
    if asker.is_external:
        after = f"If nobody answers within {wait}, more of our colleagues are asked."
    elif outcome.no_super_user_available and not outcome.repeated:
        after = (
            "None of them is available now, so if nobody answers by "
            f"{_escalation_time(question)} ({wait} after you asked), colleagues "
            f"in {community.name} are asked."
        )
    else:
        after = (
            f"If nobody answers within {wait}, colleagues in {community.name} "
            "are asked."
        )
    return f"{first} {after}"


def _escalation_time(question: Question) -> str:
    """Return when ``question`` goes to its community, in the local time zone."""
    minutes = settings.ASK_ESCALATE_AFTER_MINUTES
    moment = timezone.localtime(question.created_at + timedelta(minutes=minutes))
    if moment.date() == timezone.localdate():
        return date_format(moment, "TIME_FORMAT")
    return date_format(moment, "DATETIME_FORMAT")


@require_POST
@login_required
def ask(request: AuthenticatedRequest) -> HttpResponse:
    form = AskForm(request.POST, external=request.user.is_external)
    is_htmx = request.headers.get("HX-Request") == "true"
    error = ""
    outcome = None

    if form.is_valid():
        try:
            outcome = ask_and_route(
                asker=request.user,
                context_key=form.cleaned_data["context"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                record_ref=form.cleaned_data["record_ref"],
                record_kind=form.cleaned_data["record_kind"],
            )
        except ValidationError as failure:
            error = failure.messages[0]
        except LookupError as failure:
            error = str(failure)
    else:
        error = describe_form_errors(form)

    confirmation = describe_routing(outcome, request.user) if outcome else ""
    if is_htmx:
        return render(
            request,
            "assist/_ask_result.html",
            {
                "question": outcome.question if outcome else None,
                "confirmation": confirmation,
                "error": error,
                "form": form,
            },
            status=200 if outcome else 422,
        )
    if outcome:
        messages.success(request, confirmation)
        return redirect(_safe_next(request))
    # Without JavaScript the panel's page would come back empty, so the
    # question is shown again with its message and the typed text.
    return render(
        request,
        "assist/ask_again.html",
        {"error": error, "form": form, "next": _safe_next(request)},
        status=422,
    )


def _embed_origin(request: HttpRequest) -> str:
    """Return the embedding tool's origin when it is allowed, else ''."""
    origin = request.GET.get("origin", "")
    return normalize_origin(origin) if is_allowed_origin(origin) else ""


@require_safe
@xframe_options_exempt
def embed(request: HttpRequest) -> HttpResponse:
    """The help panel as a page of its own, for an ``<iframe>`` in another tool.

    Only the allowed origins may frame it (``frame-ancestors``); everyone
    else's browser refuses. A visitor who is not signed in gets a link that
    opens the sign-in page in a new tab, since the sign-in page itself may
    not be framed.
    """
    key = request.GET.get("context", "")
    ancestors = " ".join(["'self'", *sorted(allowed_origins())])
    context: dict[str, object] = {
        "help_context": key,
        "parent_origin": _embed_origin(request),
        **panel_record_context(request),
    }
    status = 200
    if request.user.is_authenticated:
        try:
            context["panel"] = build_help_panel(viewer=request.user, key=key)
        except UnknownContextError as error:
            context["error"] = str(error)
            status = 404
        context["ask_form"] = AskForm(
            initial={"context": key}, external=request.user.is_external
        )
    response = render(request, "assist/embed.html", context, status=status)
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


# The session key that carries a new token from the POST to the page after
# the redirect. It is removed when the page shows the token.
NEW_TOKEN_SESSION_KEY = "assist.new_token"  # noqa: S105 (a key name, not a secret)


def _take_new_token(request: AuthenticatedRequest) -> IssuedToken | None:
    """Return the token made by the post before this page, and forget it."""
    carried = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if not isinstance(carried, dict):
        return None
    token_id, raw = carried.get("id"), carried.get("raw")
    if not isinstance(token_id, int) or not isinstance(raw, str):
        return None
    found = visible_tokens(request.user).filter(pk=token_id, owner=request.user)
    token = found.first()
    return None if token is None else IssuedToken(token=token, raw=raw)


@login_required
def token_list(request: AuthenticatedRequest) -> HttpResponse:
    """List the viewer's API tokens and make a new one.

    A post that makes a token redirects back here (post, redirect, get), so
    reloading the page never posts again. The new token rides in the
    session to the next page of the list, which shows it once and removes it
    from the session. A repeated post with the same name is refused by
    ``issue_token``, so a double click makes one token.
    """
    if request.user.is_external:
        raise PermissionDenied("Customer accounts cannot make API tokens.")
    issued = None
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            expires_on = form.cleaned_data["expires_on"]
            expires_at = (
                timezone.make_aware(datetime.combine(expires_on, time.max))
                if expires_on
                else None
            )
            try:
                made = issue_token(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=expires_at,
                )
            except ValidationError as failure:
                form.add_error(None, failure.messages[0])
            else:
                request.session[NEW_TOKEN_SESSION_KEY] = {
                    "id": made.token.pk,
                    "raw": made.raw,
                }
                return redirect("assist:token_list")
        status = 422
    else:
        issued = _take_new_token(request)
    response = render(
        request,
        "assist/token_list.html",
        {
            "form": form,
            "issued": issued,
            "tokens": list(visible_tokens(request.user)),
            "sees_all": can_manage_all(request.user),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@require_POST
@login_required
def token_revoke(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    token = visible_tokens(request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404("No API token found with that number.")
    revoke_token(actor=request.user, token=token, reason=request.POST.get("reason", ""))
    messages.success(
        request, f"Token {token.name!r} is revoked; tools using it stop now."
    )
    return redirect("assist:token_list")


@require_POST
@login_required
def availability_set(request: AuthenticatedRequest) -> HttpResponse:
    """Set the super-user's availability, shown beside their name in help panels."""
    form = AvailabilityForm(request.POST)
    if not form.is_valid():
        messages.error(request, describe_form_errors(form))
        return redirect(_safe_next(request))
    try:
        availability = set_availability(
            person=request.user,
            status=form.cleaned_data["status"],
            hours=form.cleaned_data["hours"],
        )
    except PermissionDenied as failure:
        messages.error(request, str(failure))
        return redirect(_safe_next(request))
    messages.success(
        request, f"Your status is now: {availability.get_status_display().lower()}."
    )
    return redirect(_safe_next(request))
