"""Background work after an import: the matching pass over the company."""

import logging

from django.utils import timezone

from commonplace.background import task
from reconciliation.matching import run_matching
from reconciliation.models import Company

logger = logging.getLogger(__name__)


@task
def match_after_import(company_id: int, batch_id: int) -> None:
    """Run the matching pass so new documents get their matches and cases."""
    company = Company.objects.select_related("base_currency").get(pk=company_id)
    summary = run_matching(company=company, as_of=timezone.localdate())
    logger.info(
        "imports.matched batch=%d company=%d opened=%d resolved=%d",
        batch_id,
        company_id,
        summary.opened,
        summary.resolved,
    )
