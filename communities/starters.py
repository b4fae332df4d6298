"""Ready conversation starters that community managers can post as they are.

The prompts are grouped by CRM function slug (see ``accounts.reference``);
the ``""`` key holds the ones that suit any community.
"""

from collections.abc import Iterable

from accounts.models import CrmFunction

READY_STARTERS: dict[str, tuple[str, ...]] = {
    "": (
        "What is one thing about the new CRM that surprised you this week?",
        "Which screen do you open most often, and what do you do there first?",
        "Share a shortcut or habit that saves you time in the CRM.",
        "What would you tell a colleague on their first day with the CRM?",
    ),
    "order_entry": (
        "How do you check a customer's promised date before you confirm an order?",
        "Which order fields do you fill in that others downstream rely on most?",
    ),
    "fulfilment": (
        "How do you tell a customer about a backorder without losing the order?",
        "What do you record when a shipment leaves short of the order line?",
    ),
    "invoicing": (
        "When do you issue a credit note instead of correcting the invoice?",
        "How do you match an invoice to a shipment that arrived in two parts?",
    ),
    "payments": (
        "A payment is a few cents short: write it off or chase it?",
        "How do you find a payment's invoice when the remittance is missing?",
    ),
    "disputes": (
        "What evidence do you gather before you answer a customer's dispute?",
        "Which dispute took you longest to resolve, and what would have sped it up?",
    ),
}


def starters_for(functions: Iterable[CrmFunction]) -> list[tuple[str, list[str]]]:
    """Return (heading, prompts) pairs: the general prompts, then per function."""
    groups = [("For any community", list(READY_STARTERS[""]))]
    for function in functions:
        prompts = READY_STARTERS.get(function.slug)
        if prompts:
            groups.append((function.name, list(prompts)))
    return groups
