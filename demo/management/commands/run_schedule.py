"""Run the product's periodic jobs in one process, for `make run`.

A deployment runs ``escalate_questions`` every few minutes and
``run_matching`` once a day from the host's scheduler (cron, a systemd
timer). `make run` has no scheduler, so it starts this command beside the
server. It escalates unanswered screen questions every ``--escalate-every``
seconds and runs the matching pass when it starts and again on each new
day in ``TIME_ZONE``, then sleeps. It stops when the process that started
it ends, so a server stopped with Ctrl-C leaves nothing running.
"""

import logging
import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from assist.services import escalate_unanswered_questions

logger = logging.getLogger(__name__)

ESCALATE = "escalate_questions"
MATCHING = "run_matching"


@dataclass
class Schedule:
    """When each job is due: escalation at an interval, matching once a day."""

    escalate_every: timedelta
    next_escalation: datetime | None = None
    last_matching_day: date | None = None

    def due(self, now: datetime) -> list[str]:
        """Return the jobs due at ``now`` and count them as run."""
        jobs = []
        today = timezone.localdate(now)
        if self.last_matching_day != today:
            self.last_matching_day = today
            jobs.append(MATCHING)
        if self.next_escalation is None or now >= self.next_escalation:
            self.next_escalation = now + self.escalate_every
            jobs.append(ESCALATE)
        return jobs


class Command(BaseCommand):
    help = (
        "Run escalate_questions every few minutes and run_matching once a day, "
        "until stopped; `make run` starts it beside the server."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--escalate-every",
            type=int,
            default=60,
            help="seconds between two escalation runs (default: 60)",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="run each job once and stop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["escalate_every"]
        if every < 1:
            self.stderr.write(
                f"--escalate-every {every} is too short: give at least 1 second."
            )
            raise SystemExit(2)
        schedule = Schedule(escalate_every=timedelta(seconds=every))
        parent = os.getppid()
        self.stdout.write(
            f"Escalating unanswered questions every {every} s and running the "
            "matching pass once a day."
        )
        while True:
            for job in schedule.due(timezone.now()):
                self._run(job)
            if options["once"]:
                return
            # Sleep in short steps, so the job ends soon after its parent.
            for _ in range(every):
                if os.getppid() != parent:
                    return
                time.sleep(1)
            # Drop a connection that broke or aged while the process slept.
            close_old_connections()

    def _run(self, job: str) -> None:
        try:
            if job == MATCHING:
                call_command(MATCHING, stdout=self.stdout, stderr=self.stderr)
            # The escalation runs every minute, so it writes output only when
            # it escalated something.
            elif escalated := escalate_unanswered_questions():
                self.stdout.write(
                    f"Escalated {len(escalated)} unanswered question(s) to "
                    "their communities."
                )
        except Exception:
            # One failed run must not stop the schedule, because the next run
            # retries.
            logger.exception("scheduled job failed: job=%s", job)
