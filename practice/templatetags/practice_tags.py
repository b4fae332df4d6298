"""Template tags of the practice sandbox's screens."""

from collections.abc import Iterable

from django import template
from django.template.context import Context

from practice.manager import ManagerDecision

register = template.Library()


@register.simple_tag(takes_context=True)
def unannounced_decisions(context: Context) -> list[ManagerDecision]:
    """Return the session's manager decisions that no message on the page states.

    The request that the manager just decided shows its decision as the
    page's message, so the Practice banner leaves that one out.
    """
    messages: Iterable[object] = context.get("messages") or ()
    message_texts = {str(message) for message in messages}
    decisions: Iterable[ManagerDecision] = context.get("practice_decisions") or ()
    return [decision for decision in decisions if decision.message not in message_texts]
