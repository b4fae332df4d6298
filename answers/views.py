from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from answers.forms import AnswerForm, PromoteForm
from answers.models import Answer
from answers.selectors import access_faq_entry, access_question, visible_questions
from answers.services import (
    accept_answer,
    can_accept,
    can_promote,
    post_answer,
    promote_answer_to_faq,
)
from core.http import AuthenticatedRequest


def _visible_answer(request: AuthenticatedRequest, answer_id: int) -> Answer:
    answer = (
        Answer.objects.filter(
            pk=answer_id, question__in=visible_questions(request.user)
        )
        .select_related("question")
        .first()
    )
    if answer is None:
        raise Http404("No answer found with that number.")
    return answer


@login_required
def question_detail(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    return render(
        request,
        "answers/question_detail.html",
        {
            "question": question,
            "answers": list(question.answers.all()),
            "answer_form": AnswerForm(),
            "promote_form": PromoteForm(initial={"question_text": question.title}),
            "may_accept": can_accept(request.user, question),
            "may_promote": can_promote(request.user, question),
        },
    )


@require_POST
@login_required
def answer_create(request: AuthenticatedRequest, question_id: int) -> HttpResponse:
    question = access_question(request.user, question_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answer = post_answer(
                author=request.user, question=question, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            messages.success(request, "Your answer was posted.")
            return redirect(f"/questions/{question.pk}/#answer-{answer.pk}")
    return render(
        request,
        "answers/question_detail.html",
        {
            "question": question,
            "answers": list(question.answers.all()),
            "answer_form": form,
            "promote_form": PromoteForm(initial={"question_text": question.title}),
            "may_accept": can_accept(request.user, question),
            "may_promote": can_promote(request.user, question),
        },
        status=422,
    )


@require_POST
@login_required
def answer_accept(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = _visible_answer(request, answer_id)
    # PermissionDenied propagates and renders the 403 page with its message.
    accept_answer(actor=request.user, answer=answer)
    messages.success(request, "Answer accepted.")
    return redirect(f"/questions/{answer.question_id}/#answer-{answer.pk}")


@require_POST
@login_required
def answer_promote(request: AuthenticatedRequest, answer_id: int) -> HttpResponse:
    answer = _visible_answer(request, answer_id)
    form = PromoteForm(request.POST)
    question_text = form.cleaned_data["question_text"] if form.is_valid() else ""
    try:
        entry = promote_answer_to_faq(
            actor=request.user, answer=answer, question_text=question_text
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(f"/questions/{answer.question_id}/")
    messages.success(request, "The answer is now an FAQ entry.")
    return redirect(f"/questions/faq/{entry.pk}/")


@login_required
def faq_detail(request: AuthenticatedRequest, entry_id: int) -> HttpResponse:
    entry = access_faq_entry(request.user, entry_id)
    return render(request, "answers/faq_detail.html", {"entry": entry})
