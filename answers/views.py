"""Pages and htmx endpoints for questions, answers, comments and votes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.authors import Authored, hidden_author_labels
from answers.conf import page_size
from answers.forms import (
    AnswerForm,
    AskQuestionForm,
    DuplicateForm,
    PromoteForm,
    QuestionCommentForm,
    VoteForm,
)
from answers.models import Question
from answers.permissions import (
    CLOSE_DENIED,
    DELETE_DENIED,
    EDIT_DENIED,
    REOPEN_DENIED,
    VOTE_DENIED,
    accept_denied_message,
    can_accept,
    can_close,
    can_delete_answer,
    can_edit_answer,
    can_promote,
    can_vote,
)
from answers.selectors import (
    AnswerState,
    access_answer,
    access_question,
    access_question_comment,
    desk_functions,
    question_page,
    questions_list,
    suggest_similar,
    vote_of,
)
from answers.services import (
    accept_answer,
    ask_question,
    close_as_duplicate,
    delete_answer,
    delete_question_comment,
    edit_answer,
    post_answer,
    post_question_comment,
    promote_answer_to_faq,
    reopen_question,
    set_vote,
    unaccept_answer,
)
from assist.records import record_link
from communities.models import Community
from communities.selectors import visible_communities
from core.http import AuthenticatedRequest
from core.markdown import normalize_tag
from core.text import clean_line
from social.services.posts import can_post_in

MAX_TAG_QUERY = 100


def _question_url(question_id: int, anchor: str = "") -> str:
    return f"/questions/{question_id}/{anchor}"


def _render_question(
    request: AuthenticatedRequest,
    question: Question,
    *,
    answer_form: AnswerForm | None = None,
    comment_form: QuestionCommentForm | None = None,
    duplicate_form: DuplicateForm | None = None,
    promote_form: PromoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    page = question_page(request.user, question)
    may_post = can_post_in(request.user, question.community)
    rows: list[Authored] = [question, *page.comments]
    for view in page.answers:
        rows += [view.answer, *view.comments]
    return render(
        request,
        "answers/question_detail.html",
        {
            "question": question,
            "page": page,
            "answer_form": answer_form or AnswerForm(),
            "comment_form": comment_form or QuestionCommentForm(),
            "duplicate_form": duplicate_form or DuplicateForm(),
            "promote_form": promote_form
            or PromoteForm(initial={"question_text": question.title}),
            "may_accept": can_accept(request.user, question),
            "may_withdraw": question.accepted_answer_id is not None
            and can_accept(request.user, question, question.accepted_answer),
            "may_promote": can_promote(request.user, question),
            "may_close": can_close(request.user, question),
            "may_post": may_post and not question.is_duplicate,
            "record": record_link(request.user, question),
            "hidden_authors": hidden_author_labels(
                request.user, [row.author_id for row in rows]
            ),
        },
        status=status,
    )


@require_GET
@login_required
def question_list(request: AuthenticatedRequest) -> HttpResponse:
    tag = normalize_tag(clean_line(request.GET.get("tag", ""))[:MAX_TAG_QUERY]).strip()
    communities = list(visible_communities(request.user).order_by("name"))
    errors: list[str] = []
    state = _answer_state(request.GET.get("state", ""), errors)
    community = _chosen_community(request.GET.get("community", ""), communities, errors)
    questions = questions_list(request.user, tag=tag, state=state, community=community)
    if errors:
        questions = questions.none()
    paginator = Paginator(questions, page_size())
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "answers/question_list.html",
        {
            "page": page,
            "tag": tag,
            "state": state.value if state else "",
            "states": ANSWER_STATE_LABELS,
            "community": community,
            "communities": communities,
            "errors": errors,
            "desks": list(desk_functions(request.user)),
            "hidden_authors": hidden_author_labels(
                request.user, [question.author_id for question in page]
            ),
        },
        status=400 if errors else 200,
    )


ANSWER_STATE_LABELS = {
    AnswerState.UNANSWERED.value: "Unanswered",
    AnswerState.ANSWERED.value: "Answered, none accepted",
    AnswerState.ACCEPTED.value: "Accepted answer",
}


def _answer_state(raw: str, errors: list[str]) -> AnswerState | None:
    if not raw:
        return None
    try:
        return AnswerState(raw)
    except ValueError:
        shown = raw[:40]
        errors.append(
            f"{shown!r} is not an answer state: use unanswered, answered or "
            "accepted, or leave it empty for all questions."
        )
        return None


def _chosen_community(
    raw: str, communities: list[Community], errors: list[str]
) -> Community | None:
    """Return the visible community whose slug is ``raw``, or None for all."""
    if not raw:
        return None
    for community in communities:
        if community.slug == raw:
            return community
    shown = raw[:80]
    errors.append(
        f"No community {shown!r} that you can see: pick one from the list, "
        "or leave it empty for all communities."
    )
    return None


def _askable_communities(request: AuthenticatedRequest) -> QuerySet[Community]:
    """Return the communities the person can see and post in, by name."""
    communities = visible_communities(request.user).order_by("name")
    allowed = [c.pk for c in communities if can_post_in(request.user, c)]
    return communities.filter(pk__in=allowed)


@login_required
def ask(request: AuthenticatedRequest) -> HttpResponse:
    communities = _askable_communities(request)
    if request.method != "POST":
        initial = {"context": request.GET.get("context", "")[:120] or None}
        form = AskQuestionForm(
            communities=communities,
            employee=not request.user.is_external,
            initial=initial,
        )
        return render(request, "answers/ask.html", {"form": form})

    form = AskQuestionForm(
        request.POST, communities=communities, employee=not request.user.is_external
    )
    if form.is_valid():
        try:
            question = ask_question(
                asker=request.user,
                community=form.cleaned_data["community"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                context=form.cleaned_data["context"],
            )
        except ValidationError as error:
            form.add_error("title", error)
        else:
            messages.success(request, "Your question was posted.")
            return redirect(_question_url(question.pk))
    return render(request, "answers/ask.html", {"form": form}, status=422)


@require_GET
@login_required
def suggestions(request: AuthenticatedRequest) -> HttpResponse:
    """Return the similar questions and FAQ entries for a title being typed."""
    text = request.GET.get("title", "")
    return render(
        request,
        "answers/_suggestions.html",
        {"suggestions": suggest_similar(request.user, text)},
    )


@login_required
def question_detail(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    return _render_question(request, question)


@require_POST
@login_required
def answer_create(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        started = timezone.now()
        try:
            answer = post_answer(
                author=request.user, question=question, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            if answer.created_at < started:
                messages.info(
                    request, "You posted this answer already. It is shown below."
                )
            else:
                messages.success(request, "Your answer was posted.")
            return redirect(_question_url(question.pk, f"#answer-{answer.pk}"))
    return _render_question(request, question, answer_form=form, status=422)


@require_POST
@login_required
def comment_create(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    form = QuestionCommentForm(request.POST)
    if form.is_valid():
        answer_id = form.cleaned_data["answer"]
        answer = access_answer(request.user, answer_id) if answer_id else None
        try:
            comment = post_question_comment(
                author=request.user,
                question=question,
                answer=answer,
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            return redirect(_question_url(question.pk, f"#qa-comment-{comment.pk}"))
    return _render_question(request, question, comment_form=form, status=422)


@require_POST
@login_required
def comment_delete(request: AuthenticatedRequest, comment_id: int) -> HttpResponse:
    comment = access_question_comment(request.user, comment_id)
    try:
        delete_question_comment(actor=request.user, comment=comment)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect(_question_url(comment.question_id, f"#qa-comment-{comment.pk}"))


@require_POST
@login_required
def question_close(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    if not can_close(request.user, question):
        raise PermissionDenied(CLOSE_DENIED)
    form = DuplicateForm(request.POST)
    if form.is_valid():
        try:
            close_as_duplicate(
                actor=request.user,
                question=question,
                original_id=form.cleaned_data["original"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error("original", error)
        else:
            messages.success(request, "The question was closed as a duplicate.")
            return redirect(_question_url(question.pk))
    return _render_question(request, question, duplicate_form=form, status=422)


@require_POST
@login_required
def question_reopen(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    if not can_close(request.user, question):
        raise PermissionDenied(REOPEN_DENIED)
    try:
        reopen_question(actor=request.user, question=question)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "The question is open again.")
    return redirect(_question_url(question.pk))


@require_POST
@login_required
def answer_accept(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = access_answer(request.user, answer_id)
    # The 403 page shows the message; the service checks again under its lock.
    if not can_accept(request.user, answer.question, answer):
        raise PermissionDenied(accept_denied_message(request.user, answer))
    try:
        accept_answer(actor=request.user, answer=answer)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Answer accepted.")
    return redirect(_question_url(answer.question_id, f"#answer-{answer.pk}"))


@require_POST
@login_required
def question_unaccept(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    accepted = question.accepted_answer
    if not can_accept(request.user, question, accepted):
        raise PermissionDenied(accept_denied_message(request.user, accepted))
    try:
        unaccept_answer(actor=request.user, question=question)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "The answer is no longer accepted.")
    return redirect(_question_url(question.pk))


@require_POST
@login_required
def answer_promote(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = access_answer(request.user, answer_id)
    form = PromoteForm(request.POST)
    if not form.is_valid():
        # The typed question stays in the form beside its message.
        question = access_question(request.user, answer.question_id)
        return _render_question(request, question, promote_form=form, status=422)
    question_text = form.cleaned_data["question_text"]
    try:
        entry = promote_answer_to_faq(
            actor=request.user, answer=answer, question_text=question_text
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(_question_url(answer.question_id))
    messages.success(request, "The answer is now an FAQ entry.")
    return redirect(f"/questions/faq/{entry.pk}/")


@login_required
def answer_edit(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = access_answer(request.user, answer_id)
    if answer.is_deleted:
        raise Http404("This answer was deleted, so it cannot be edited.")
    if not can_edit_answer(request.user, answer):
        raise PermissionDenied(EDIT_DENIED)
    if request.method != "POST":
        form = AnswerForm(initial={"body": answer.body})
        return render(
            request, "answers/answer_edit.html", {"answer": answer, "form": form}
        )

    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            edit_answer(
                editor=request.user, answer=answer, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            messages.success(request, "Your answer was updated.")
            return redirect(_question_url(answer.question_id, f"#answer-{answer.pk}"))
    return render(
        request,
        "answers/answer_edit.html",
        {"answer": answer, "form": form},
        status=422,
    )


@require_POST
@login_required
def answer_delete(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = access_answer(request.user, answer_id)
    if not can_delete_answer(request.user, answer, answer.question):
        raise PermissionDenied(DELETE_DENIED)
    try:
        delete_answer(actor=request.user, answer=answer)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "The answer was deleted.")
    return redirect(_question_url(answer.question_id, f"#answer-{answer.pk}"))


@require_POST
@login_required
def answer_vote(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    """Set the person's vote; htmx gets the vote box back, a form post a redirect."""
    answer = access_answer(request.user, answer_id)
    if not can_vote(request.user, answer):
        raise PermissionDenied(VOTE_DENIED)
    form = VoteForm(request.POST)
    is_htmx = request.headers.get("HX-Request") == "true"
    error = ""
    if form.is_valid():
        try:
            set_vote(
                person=request.user, answer=answer, value=form.cleaned_data["value"]
            )
        except ValidationError as failure:
            error = failure.messages[0]
    else:
        error = " ".join(str(message) for message in form.errors["value"])
    if not is_htmx:
        if error:
            messages.error(request, error)
        return redirect(_question_url(answer.question_id, f"#answer-{answer.pk}"))
    answer.refresh_from_db(fields=["score"])
    return render(
        request,
        "answers/_vote.html",
        {
            "answer": answer,
            "my_vote": vote_of(request.user, answer),
            "vote_error": error,
        },
        status=422 if error else 200,
    )
