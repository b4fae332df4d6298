"""Help contexts: the keys CRM screens declare so help can be found for them."""

from django.conf import settings
from django.db import models


class HelpContext(models.Model):
    """A screen or record state, such as ``reconciliation.order.short_payment``.

    Keys are dotted paths; the parent of ``a.b.c`` is ``a.b``. The CRM function
    decides whose super-users a question asked here reaches; a context without
    one inherits its parent's.
    """

    key = models.CharField(max_length=120, unique=True)
    title = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    crm_function = models.ForeignKey(
        "accounts.CrmFunction", null=True, blank=True, on_delete=models.PROTECT
    )
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class HelpContentVersion(models.Model):
    """A counter bumped by every change to what help panels show.

    Cached panels are keyed by it, so every process sees a change as soon as
    the transaction that made it commits, whatever the cache backend.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"help content version {self.version}"


class ApiToken(models.Model):
    """A bearer token another tool sends to read help as its owner.

    Only a SHA-256 digest of the token is stored; the token itself is shown
    once, when it is made. ``key_id`` is the public part that finds the row.
    A token acts with its owner's visibility, never more, and only for its
    scopes. Revoking keeps the row, so the audit log can still name it.
    """

    class Scope(models.TextChoices):
        HELP_READ = "help:read", "Read help for a CRM screen"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    key_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token {self.key_id} ({self.name})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Availability(models.Model):
    """Whether a super-user can take questions now, as they last said."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available now"
        BUSY = "busy", "Busy"
        AWAY = "away", "Away"

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    # Until when the status holds; without it, it holds for one working day
    # from ``updated_at`` (settings.HELP_AVAILABILITY_HOURS).
    until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["available", "busy", "away"]),
                name="availability_status_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} is {self.status}"


class QuestionEscalation(models.Model):
    """A question asked from a screen that nobody answered in time.

    The row records that the community was told, so a second run of the
    escalation never tells it again.
    """

    question = models.OneToOneField(
        "answers.Question", on_delete=models.CASCADE, related_name="escalation"
    )
    escalated_at = models.DateTimeField(auto_now_add=True)
    notified_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Escalation of question {self.question_id}"
