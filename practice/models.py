"""Practice sessions: a learner's own copy of a scripted scenario.

Each session owns one ``Company`` row (``is_sandbox`` set), and every
document of the scenario belongs to that company. The real screens exclude
sandbox companies in ``reconciliation.selectors``.
"""

from django.conf import settings
from django.db import models

from reconciliation.models import Company


class SandboxSession(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"

    # PROTECT: without its session a sandbox company would count as real data.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="practice_sessions",
    )
    scenario_key = models.CharField(max_length=60)
    scenario_version = models.PositiveIntegerField()
    company = models.OneToOneField(
        Company, on_delete=models.PROTECT, related_name="practice_session"
    )
    started_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # Percent of the scenario's checks passed at the latest "Check my work".
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The per-check results of the latest check, as the result page shows them.
    last_check = models.JSONField(default=list, blank=True)
    # The scripted manager's decisions since the start or the latest reset,
    # as ``practice.manager.ManagerDecision`` fields.
    manager_decisions = models.JSONField(default=list, blank=True)
    # SHA-256 of the sandbox's rows (``practice.seed.fingerprint``) right after
    # the seed or the latest reset. "Check my work" compares it with the rows
    # now to tell that the learner has not changed anything yet. Empty for
    # sessions started before the digest was stored.
    seed_digest = models.CharField(max_length=64, blank=True)
    # The version of the code that seeded the sandbox at the start or the
    # latest reset (``practice.seed_version.seed_code_version``). A missing
    # digest is rebuilt only while the code has this version. Empty for
    # sessions started before the version was stored: their code is unknown.
    seed_version = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["learner", "-started_at"])]

    def __str__(self) -> str:
        return f"Practice {self.pk}: {self.scenario_key} v{self.scenario_version}"
