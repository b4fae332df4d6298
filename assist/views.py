from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from assist.forms import AskForm
from assist.selectors import UnknownContextError, build_help_panel
from assist.services import ask_from_context
from core.http import AuthenticatedRequest

# Names for the hidden fields of the ask form, used in error messages.
FIELD_NAMES = {"context": "Help context", "record_ref": "Record"}


def describe_form_errors(form: AskForm) -> str:
    """Join the form's errors, naming the field for Django's generic messages."""
    parts = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label or FIELD_NAMES.get(name, name)
        for error in errors:
            message = " ".join(str(text) for text in error.messages)
            # Our own messages name their value already.
            parts.append(message if error.code == "own" else f"{label}: {message}")
    return " ".join(parts)


def _safe_next(request: AuthenticatedRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_GET
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
            "record_ref": request.GET.get("record", "")[:80],
            "ask_form": AskForm(initial={"context": key}),
        },
    )


@require_POST
@login_required
def ask(request: AuthenticatedRequest) -> HttpResponse:
    form = AskForm(request.POST)
    is_htmx = request.headers.get("HX-Request") == "true"
    error = ""
    question = None

    if form.is_valid():
        try:
            question = ask_from_context(
                asker=request.user,
                context_key=form.cleaned_data["context"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                record_ref=form.cleaned_data["record_ref"],
            )
        except ValidationError as failure:
            error = failure.messages[0]
        except LookupError as failure:
            error = str(failure)
    else:
        error = describe_form_errors(form)

    if is_htmx:
        status = 200 if question else 422
        return render(
            request,
            "assist/_ask_result.html",
            {"question": question, "error": error, "form": form},
            status=status,
        )
    if question:
        messages.success(
            request, "Your question was posted; the super-users have been notified."
        )
    else:
        messages.error(request, error)
    return redirect(_safe_next(request))
