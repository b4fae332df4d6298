"""Pick and ship form data for tests that post the form directly."""

import secrets

from reconciliation.work_views import SHIPMENT_FORM_TOKEN_BYTES


def with_form_token(fields: dict[str, str]) -> dict[str, str]:
    """Return ``fields`` with a new form token, as a fresh load of the page has.

    The screen rejects a pick and ship form without a token, and a token it
    has seen before returns the shipment already recorded with it.
    """
    return fields | {"form_token": secrets.token_urlsafe(SHIPMENT_FORM_TOKEN_BYTES)}
