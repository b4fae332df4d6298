"""Votes clicked at the same moment from two connections."""

import threading

import pytest
from django.db import connection

from answers.models import Answer, AnswerVote
from answers.services import create_question, post_answer, set_vote


@pytest.mark.django_db(transaction=True)
def test_racing_clicks_leave_one_vote(
    sales_rep, super_user, outsider, payments_community
):
    question = create_question(
        author=sales_rep, community=payments_community, title="Race?"
    )
    answer = post_answer(author=super_user, question=question, body="Yes.")
    start = threading.Barrier(4)
    errors: list[Exception] = []

    def click(value: int) -> None:
        try:
            start.wait()
            set_vote(person=outsider, answer=answer, value=value)
        except Exception as error:  # reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(1,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AnswerVote.objects.filter(answer=answer).count() == 1
    assert Answer.objects.get(pk=answer.pk).score == 1
