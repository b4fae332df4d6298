"""Template tags of the practice sandbox's screens."""

from collections.abc import Iterable
from decimal import Decimal

from django import template
from django.template.context import Context

from practice.manager import ManagerDecision
from reconciliation.models import Currency
from reconciliation.money import format_money

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


@register.filter
def money_in(amount: Decimal | None, currency_code: str) -> str:
    """Format ``amount`` as ``money_tags.money`` does, for a currency code.

    A proposal stores its currency as a code, not as a ``Currency`` row.
    An unknown code falls back to two decimals.
    """
    if amount is None:
        return ""
    currency = Currency.objects.filter(code=currency_code).first()
    minor_units = currency.minor_units if currency is not None else 2
    return format_money(amount, minor_units=minor_units)
