"""Tell communities about screen questions nobody answered in time.

Run it every few minutes (cron, or a Celery beat entry); each question is
escalated once, so overlapping runs are safe.
"""

from typing import Any

from django.core.management.base import BaseCommand

from assist.services import escalate_unanswered_questions


class Command(BaseCommand):
    help = "Escalate unanswered questions asked from CRM screens to their community."

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = escalate_unanswered_questions()
        self.stdout.write(f"Escalated {len(escalated)} question(s).")
