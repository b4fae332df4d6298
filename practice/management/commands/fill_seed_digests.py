"""Store the seed digest of active practice sessions started without one.

This command rebuilds each one's seed digest
(``practice.services.rebuild_seed_digest``), so that checking an untouched
sandbox counts no attempt. "Check my work" also fills a missing digest
itself, so running the command once after an upgrade only saves that work
on the first check. A digest is rebuilt only while the code that seeded the
session is this code (``SandboxSession.seed_version``); the other sessions
are listed, and their learners are asked to reset.
"""

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from practice.models import SandboxSession
from practice.scenarios import SCENARIOS
from practice.services import fill_seed_digest

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Rebuild and store the seed digest of every active practice session "
        "that has none, so that checking an untouched sandbox counts no attempt."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        pending = SandboxSession.objects.filter(
            status=SandboxSession.Status.ACTIVE, seed_digest=""
        ).order_by("pk")
        filled = skipped = 0
        for session_id in pending.values_list("pk", flat=True):
            with transaction.atomic():
                session = SandboxSession.objects.select_for_update().get(pk=session_id)
                if fill_seed_digest(session):
                    filled += 1
                    continue
            if session.seed_digest:
                # Filled by a check meanwhile.
                continue
            skipped += 1
            self.stdout.write(_skipped_text(session))
        logger.info("practice.seed_digests filled=%d skipped=%d", filled, skipped)
        self.stdout.write(
            f"Filled the seed digest of {filled} sessions, and left {skipped} "
            "without one."
        )


def _skipped_text(session: SandboxSession) -> str:
    """Return why the session keeps no digest, and what its learner sees."""
    scenario = SCENARIOS.get(session.scenario_key)
    if scenario is None or scenario.version != session.scenario_version:
        return (
            f"Session {session.pk}: left without a seed digest, because the "
            f"catalogue no longer has version {session.scenario_version} of "
            f"scenario {session.scenario_key!r}. The session cannot be "
            "checked, and its learner is asked to start a new one."
        )
    seeded_by = (
        f"version {session.seed_version[:12]} of the seeding code"
        if session.seed_version
        else "a version of the seeding code it did not record"
    )
    return (
        f"Session {session.pk}: left without a seed digest, because it was "
        f"seeded by {seeded_by}, and this code may seed scenario "
        f"{session.scenario_key!r} differently. The session cannot be checked "
        "until its learner resets the sandbox, which the session page asks."
    )
