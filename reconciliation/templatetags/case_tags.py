"""Template filters that show a case's stored codes by their labels."""

from django import template

from reconciliation.models import ResolutionCode

register = template.Library()


@register.filter
def resolution_label(code: str) -> str:
    """Return the label of a resolution code (``Write-off`` for ``write_off``).

    ``Approval.action`` stores a resolution code without a choices list, so
    the approvals table needs this to show the label. An unknown code is
    returned unchanged.
    """
    if code in ResolutionCode.values:
        return str(ResolutionCode(code).label)
    return code
